// KL divergence, elementwise, as torch.nn.functional.kl_div: input x holds log-probabilities, target y
// probabilities (or log-probabilities with logTarget):
//   l = xlogy(y, y) - y x           (xlogy(0, y) = 0: 0 log 0 = 0, but 0 * -inf is NaN, as PyTorch's)
//   l = exp(y) (y - x)              (logTarget)
//   dl/dx = -y, or -exp(y)
// Summed like BCE: f32 lanes within blocks of KL_BLOCK elements counted from the first, the blocks in f64,
// so the total depends neither on the shape nor on the chunking.
import { exp_any, log_f32x4, hsum_f32x4 } from "./vmath";
import { first_lanes, store_part } from "./blocks";
import { BCE_BLOCK } from "./bce";

export const KL_BLOCK: i32 = BCE_BLOCK;

/** The smallest normal f32, 2^24 and 24 ln 2 (loaded, as vmath.ts's constants: not rebuilt in the loop). */
const SUBK: usize = memory.data<f32>([1.17549435e-38, 16777216, 16.635532333438686]);

/** ln(y) for y >= 0, subnormals included (log_f32x4 takes normal numbers: those are scaled by 2^24 first). */
// @ts-ignore: decorator
@inline function log_any(y: v128): v128 {
  const sub = f32x4.lt(y, v128.load32_splat(SUBK));
  const l = log_f32x4(v128.bitselect(f32x4.mul(y, v128.load32_splat(SUBK, 4)), y, sub));
  return f32x4.sub(l, v128.and(v128.load32_splat(SUBK, 8), sub));
}

/**
 * Over n elements (a chunk starting at a multiple of KL_BLOCK): x log-probabilities, y the target; loss
 * per element or 0; grad (may be x) or 0, times scales[i] (if not 0) or gscale. Writes total plus the
 * chunk's losses to `totals` (f64). Reads whole vectors: every array needs 12 readable bytes past its end.
 */
export function kl_div_f32(
  x: usize, y: usize, loss: usize, grad: usize, scales: usize, n: i32, logTarget: i32, gscale: f32, total: f64, totals: usize,
): void {
  const zero = f32x4.splat(0), gs = f32x4.splat(gscale);
  for (let b = 0; b < n; b += KL_BLOCK) {
    let acc = zero;
    const end = min(b + KL_BLOCK, n);
    for (let i = b; i < end; i += 4) {
      const k = min(4, n - i), o = <usize>i << 2;
      const xv = v128.load(x + o), yv = v128.load(y + o);
      let p: v128, l: v128;
      if (logTarget) {
        p = exp_any(yv, zero);
        l = f32x4.mul(p, f32x4.sub(yv, xv));
      } else {
        p = yv;
        const ylogy = v128.bitselect(zero, f32x4.mul(yv, log_any(yv)), f32x4.eq(yv, zero));
        l = f32x4.sub(ylogy, f32x4.mul(yv, xv));
      }
      acc = f32x4.add(acc, k == 4 ? l : v128.bitselect(l, zero, first_lanes(k)));
      if (loss) store_part(loss + o, l, k);
      if (grad) store_part(grad + o, f32x4.neg(f32x4.mul(scales ? v128.load(scales + o) : gs, p)), k);
    }
    total += hsum_f32x4(acc);
  }
  store<f64>(totals, total);
}
