// Binary cross-entropy with logits, elementwise, as torch.nn.functional.binary_cross_entropy_with_logits:
//   l = w * ((1 - y) x + lw * softplus(-x)),   lw = (pw - 1) y + 1,   softplus(-x) = log1p(e^-|x|) + max(-x, 0)
//   dl/dx = w * ((1 - y) - lw * sigmoid(-x))
// PyTorch's form cancels for x << 0: (1 - y) x and lw |x| are large and nearly opposite. With
// (1 - y) - lw = -pw y it reads, for x < 0, l = w (-pw y x + lw log1p(e^x)), and likewise
// dl/dx = w (-pw y + lw sigmoid(x)): every term then has one sign, so we use  l = w (a x + lw log1p(e)),
// dl/dx = w (a -+ lw e / (1 + e)), e = e^-|x|, a = 1 - y for x >= 0 and -pw y for x < 0.
// No exp of a positive number, log1p computed without losing e^-|x| to rounding.
import { expneg_k, exp_k, log_normal, hsum_f32x4 } from "./vmath";
import { first_lanes, store_part } from "./blocks";

/** log(1 + e) for e in [0, 1], accurate when e is tiny: log(u) * e / (u - 1) with u = 1 + e rounded
 *  (Goldberg's correction), and e itself where u rounds to 1. u is in [1, 2] (or NaN, which e carries
 *  through), so the log needs no special values. */
// @ts-ignore: decorator
@inline function log1p_small(e: v128, one: v128, zero: v128): v128 {
  const u = f32x4.add(one, e);
  const d = f32x4.sub(u, one);
  const r = f32x4.div(f32x4.mul(log_normal(u), e), d);
  return v128.bitselect(e, r, f32x4.eq(d, zero));
}

/** -inf, loaded (vmath.ts). */
const NINF_K: usize = memory.data<f32>([-Infinity]);

/** Elements per f32x4 partial sum: the losses are summed in f32 lanes within each block of BCE_BLOCK elements,
 *  counted from the input's first element, and the block sums in f64. The total then depends neither on the
 *  shape nor on the chunking (chunks start at multiples of BCE_BLOCK), and its error not on the length. */
export const BCE_BLOCK: i32 = 1024;

/** The loss of each lane: w (a x + lw log1p(e)); e = e^-|x|, a = 1 - y (x >= 0) or -pw y (x < 0). */
// @ts-ignore: decorator
@inline function bce_loss(xv: v128, a: v128, wv: v128, lw: v128, e: v128, one: v128, zero: v128): v128 {
  return f32x4.mul(wv, f32x4.add(f32x4.mul(a, xv), f32x4.mul(lw, log1p_small(e, one, zero))));
}

/** The gradient of each lane, times s: s w (a - sign(x) lw e / (1 + e)). */
// @ts-ignore: decorator
@inline function bce_grad(neg: v128, a: v128, wv: v128, lw: v128, e: v128, s: v128, one: v128): v128 {
  const q = f32x4.div(f32x4.mul(lw, e), f32x4.add(one, e)); // lw sigmoid(-|x|)
  return f32x4.mul(f32x4.mul(s, wv), f32x4.add(a, v128.bitselect(q, f32x4.neg(q), neg)));
}

/**
 * Over n elements (a chunk starting at a multiple of BCE_BLOCK): x logits, y targets; w: weights (0 none,
 * wMode 1: one per last-axis position; 2: one per element); pw: pos_weight (one per last-axis position) or 0;
 * loss: per-element losses or 0; grad: gradients (may be x) or 0, times scales[i] (if not 0) or gscale.
 * Element i sits at last-axis position j = (j0 + i) % L, and w (mode 1) and pw are read at j..j+3: they
 * hold L + 3 values, w[k % L] for k < L + 3. Writes total plus the chunk's losses, added one block at a
 * time, to `totals` (f64). Reads whole vectors: every array needs 12 readable bytes past its end.
 */
export function bce_logits_f32(
  x: usize, y: usize, w: usize, pw: usize, loss: usize, grad: usize, scales: usize,
  n: i32, L: i32, j0: i32, wMode: i32, gscale: f32, total: f64, totals: usize,
): void {
  // exp's constants (k8 = 1) and -inf loaded before the loop: V8 >= 12 re-materialises inline v128.consts
  // inside loops (vmath.ts); log's are loaded where used.
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), one = exp_k(8);
  const zero = f32x4.splat(0), ninf = v128.load32_splat(NINF_K), gs = f32x4.splat(gscale);
  let j = j0;
  for (let b = 0; b < n; b += BCE_BLOCK) {
    let acc = zero;
    const end = min(b + BCE_BLOCK, n);
    for (let i = b; i < end; i += 4) {
      const k = min(4, n - i); // 4 but in the input's last, partial vector, whose extra lanes are not used
      const o = <usize>i << 2, oj = <usize>j << 2;
      const xv = v128.load(x + o), yv = v128.load(y + o);
      const e = expneg_k(f32x4.neg(f32x4.abs(xv)), k0, k1, k2, k3, k4, k5, k6, k7, one); // e^-|x| in (0, 1]
      const pv = pw ? v128.load(pw + oj) : one;
      const lw = pw ? f32x4.add(f32x4.mul(f32x4.sub(pv, one), yv), one) : one;
      const neg = f32x4.lt(xv, zero);
      const a = v128.bitselect(f32x4.neg(f32x4.mul(pv, yv)), f32x4.sub(one, yv), neg);
      const wv = wMode == 0 ? one : v128.load(w + (wMode == 1 ? oj : o));
      const l = v128.or(bce_loss(xv, a, wv, lw, e, one, zero), f32x4.eq(xv, ninf)); // NaN at -inf, as PyTorch's -inf + inf
      acc = f32x4.add(acc, k == 4 ? l : v128.bitselect(l, zero, first_lanes(k)));
      if (loss) store_part(loss + o, l, k);
      if (grad) store_part(grad + o, bce_grad(neg, a, wv, lw, e, scales ? v128.load(scales + o) : gs, one), k);
      j += 4;
      while (j >= L) j -= L;
    }
    total += hsum_f32x4(acc);
  }
  store<f64>(totals, total);
}
