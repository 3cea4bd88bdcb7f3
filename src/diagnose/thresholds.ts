// diagnose's thresholds; each is documented in the README section "My loss is NaN / zero / not going
// down".

/** How many offending positions a finding lists. */
export const SHOWN = 5;
/** A row "sums to 1" (probabilities) or "has logsumexp 0" (log-probabilities) within this. Sums are
 *  taken in float64, so softmax outputs computed in float32 are off by ~1e-7 and in float16 by at most
 *  2^-11 ~ 4.9e-4 (each value within half an ulp); 1e-3 accepts both and is still far tighter than what
 *  raw logits land on by chance. */
export const NORM_TOL = 1e-3;
/** Logits or row spreads beyond this are "exploding": a float32 logit near 1e4 has an ulp of 2^-10
 *  (~1e-3), and a spread of 1e4 is ~100x the ~104 beyond which float32 softmax is exactly one-hot. */
export const EXTREME = 1e4;
/** -ln(FLT_MIN) = 126 ln 2 ~ 87.34: a target log-probability below -87.34 means a probability below the
 *  smallest normal float32, which a naive -log(softmax(x)) flushes to 0 (inf loss) under FTZ, computes
 *  from a subnormal otherwise, and gets as exactly 0 beyond 150 ln 2 ~ 103.97. */
export const UNDERFLOW = 126 * Math.LN2;
/** 24 ln 2 ~ 16.64: the other classes' total mass s = sum(exp(x_j - x_t)) below 2^-24 means float32's
 *  1 + s rounds to 1: PyTorch's loss is exactly 0 (xent's below 6e-8) and the row's gradient ~0. A row is
 *  surely saturated when every other logit is SATURATED + ln(C - 1) below the target's, surely not when one
 *  is within SATURATED; in between s is summed exactly. */
export const SATURATED = 24 * Math.LN2;
export const SATURATED_MASS = 2 ** -24;
/** A negative logit this large (or float16's lowest, -65504, or -inf) reads as a mask fill
 *  (masked_fill(-1e9), torch.finfo(torch.float32).min), not as an exploding logit. */
const MASK_FILL = -1e9;
/** Marks a class index diagnose could not use (out of range or not an integer). */
export const INVALID = -2;

export function isMaskFill(v: number): boolean {
  return v <= MASK_FILL || v === -65504;
}
