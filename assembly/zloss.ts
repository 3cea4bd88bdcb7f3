// PaLM's z-loss: zLoss * lse^2 per non-ignored position, lse the logsumexp of the (tempered) logits,
// added to that position's loss. Its gradient, 2 zLoss lse softmax(x), joins the softmax term of the
// cross-entropy gradient, so it costs no pass of its own: the log of each row's sum is taken before the
// gradient pass (one f32x4 log per four rows in the small-C lanes, one per row otherwise).
/** The z term of each row of the current group of four (f64). */
let Z: usize = memory.data(32, 16);

/** Bytes of this module's scratch (Z), for place_zloss. */
export const ZLOSS_SCRATCH: usize = 32;
/** Moves Z to p (scratch.ts); returns the end of the region. */
export function place_zloss(p: usize): usize {
  Z = p;
  return p + ZLOSS_SCRATCH;
}

/**
 * Row j of the group (zLoss != 0 only), with tempered max M, sum of exponentials se and L = log(se):
 * records the row's z term (z_loss_of(j): the caller adds it to its running z total, row by row in order)
 * and returns what it adds to the gradient's softmax coefficient (scale * 2 zLoss lse / se).
 */
// @ts-ignore: decorator
@inline export function z_term(j: i32, zLoss: f32, M: f64, L: f64, se: f32, scale: f32): f32 {
  const lse = M + L;
  const z = <f64>zLoss * lse * lse;
  store<f64>(Z + (<usize>j << 3), z);
  return <f32>(<f64>scale * 2 * zLoss * lse) / se;
}

/** The z term z_term recorded for row j. */
// @ts-ignore: decorator
@inline export function z_loss_of(j: i32): f64 {
  return load<f64>(Z + (<usize>j << 3));
}
