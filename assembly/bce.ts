// Binary cross-entropy with logits, elementwise, as torch.nn.functional.binary_cross_entropy_with_logits:
//   l = w * ((1 - y) x + lw * softplus(-x)),   lw = (pw - 1) y + 1,   softplus(-x) = log1p(e^-|x|) + max(-x, 0)
//   dl/dx = w * ((1 - y) - lw * sigmoid(-x))
// The stable form: no exp of a positive number, log1p computed without losing e^-|x| to rounding.
import { expneg_f32x4, log_f32x4, hsum_f32x4 } from "./vmath";
import { load_part, store_part } from "./blocks";

/** log(1 + e) for e in [0, 1], accurate when e is tiny: log(u) * e / (u - 1) with u = 1 + e rounded
 *  (Goldberg's correction), and e itself where u rounds to 1. */
// @ts-ignore: decorator
@inline function log1p_small(e: v128): v128 {
  const u = f32x4.add(f32x4.splat(1), e);
  const d = f32x4.sub(u, f32x4.splat(1));
  const r = f32x4.div(f32x4.mul(log_f32x4(u), e), d);
  return v128.bitselect(e, r, f32x4.eq(d, f32x4.splat(0)));
}

/**
 * Over R rows of L floats: x logits, y targets; w: weights (0 none, wMode 1: L of them, one per last-axis
 * position; 2: one per element); pw: pos_weight (L of them) or 0; loss: per-element losses or 0; grad:
 * gradients (may be x) or 0, times scales[i] (if not 0) or gscale. Returns the f64 sum of the losses.
 * Reads whole vectors: every array needs 12 readable bytes past its end.
 */
export function bce_logits_f32(
  x: usize, y: usize, w: usize, pw: usize, loss: usize, grad: usize, scales: usize,
  R: i32, L: i32, wMode: i32, gscale: f32,
): f64 {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  let total: f64 = 0;
  for (let r = 0; r < R; r++) {
    let acc = zero;
    const row = <usize>r * L << 2;
    for (let j = 0; j < L; j += 4) {
      const k = min(4, L - j);
      const o = row + (<usize>j << 2), oj = <usize>j << 2;
      const xv = load_part(x + o, k, 0), yv = load_part(y + o, k, 0);
      const e = expneg_f32x4(f32x4.neg(f32x4.abs(xv))); // e^-|x| in (0, 1]
      const sp = f32x4.add(log1p_small(e), f32x4.max(f32x4.neg(xv), zero)); // softplus(-x)
      const lw = pw ? f32x4.add(f32x4.mul(f32x4.sub(load_part(pw + oj, k, 1), one), yv), one) : one;
      const wv = wMode == 0 ? one : load_part(w + (wMode == 1 ? oj : o), k, 0);
      const l = f32x4.mul(wv, f32x4.add(f32x4.mul(f32x4.sub(one, yv), xv), f32x4.mul(lw, sp)));
      acc = f32x4.add(acc, v128.bitselect(l, zero, i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(k))));
      if (loss) store_part(loss + o, l, k);
      if (grad) {
        // sigmoid(-x) = e / (1 + e) for x >= 0, 1 / (1 + e) for x < 0
        const sig = f32x4.div(v128.bitselect(e, one, f32x4.ge(xv, zero)), f32x4.add(one, e));
        const s = scales ? load_part(scales + o, k, 0) : f32x4.splat(gscale);
        store_part(grad + o, f32x4.mul(f32x4.mul(s, wv), f32x4.sub(f32x4.sub(one, yv), f32x4.mul(lw, sig))), k);
      }
    }
    total += hsum_f32x4(acc);
  }
  return total;
}
