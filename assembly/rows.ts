// Simple passes over one contiguous row of C floats, for the paths that need no exponentials: the
// NaN-propagating max, nllLoss's weighted sums and gradient, the softmax family's backward sums, fills.
// Each walks the row with f32x4 and finishes the C % 4 tail in scalar code.
//
// Sums run in blocks of BLOCK floats: f32x4 lanes within a block, then the block's total is added in f64.
// Rounding error then grows with the block length, not with C (at C = 32000 this cuts the worst relative
// error of a sum from about 3e-6 to about 3e-7) for one horizontal add per block.
import { hmax_f32x4, hsum_f32x4, madd, max_f32 } from "./vmath";

const BLOCK = 256;

/** End of the vector block starting at i: at most BLOCK floats, and only whole f32x4 lanes. */
// @ts-ignore: decorator
@inline function block_end(i: i32, C: i32): i32 {
  return min(i + BLOCK, C & ~3);
}

/** max over the row; NaN anywhere gives NaN. */
// @ts-ignore: decorator
@inline export function row_max(p: usize, C: i32): f32 {
  let acc = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= C; i += 4) acc = f32x4.max(acc, v128.load(p + (<usize>i << 2)));
  let m = hmax_f32x4(acc);
  for (; i < C; i++) m = max_f32(m, load<f32>(p + (<usize>i << 2)));
  return m;
}

/** sum of w[c] * t'[c] * (x[c] - shift) with t' = a * t[c] + b (the probability-target term, smoothed
 *  targets), or t' = 1 when t is 0 (the label-smoothing term). Products are formed one by one, so a zero
 *  weight on a -inf logit gives NaN, as in PyTorch. */
// @ts-ignore: decorator
@inline export function row_wdot(p: usize, w: usize, t: usize, C: i32, shift: f32, a: f32, b: f32): f32 {
  const sv = f32x4.splat(shift), av = f32x4.splat(a), bv = f32x4.splat(b);
  let s: f64 = 0;
  let i = 0;
  while (i + 4 <= C) {
    let acc = f32x4.splat(0);
    for (const end = block_end(i, C); i < end; i += 4) {
      const o = <usize>i << 2;
      const wt = t ? f32x4.mul(v128.load(w + o), madd(av, v128.load(t + o), bv)) : v128.load(w + o);
      acc = madd(wt, f32x4.sub(v128.load(p + o), sv), acc);
    }
    s += hsum_f32x4(acc);
  }
  for (; i < C; i++) {
    const o = <usize>i << 2, wv = load<f32>(w + o);
    s += (t ? wv * (a * load<f32>(t + o) + b) : wv) * (load<f32>(p + o) - shift);
  }
  return <f32>s;
}

/** sum of p[c] * q[c] (q == 0: of p[c]), blocked as row_wdot: the softmax family's backward sums. */
// @ts-ignore: decorator
@inline export function row_dot(p: usize, q: usize, C: i32): f64 {
  let s: f64 = 0;
  let i = 0;
  while (i + 4 <= C) {
    let acc = f32x4.splat(0);
    for (const end = block_end(i, C); i < end; i += 4) {
      const o = <usize>i << 2, v = v128.load(p + o);
      acc = q ? madd(v, v128.load(q + o), acc) : f32x4.add(acc, v);
    }
    s += hsum_f32x4(acc);
  }
  for (; i < C; i++) {
    const o = <usize>i << 2, v = load<f32>(p + o);
    s += q ? v * load<f32>(q + o) : v;
  }
  return s;
}

/** out[c] = -w[c] * (a * t[c] + b) (or -w[c] * b when t == 0, and 0 when b is 0 too: an unused class's
 *  weight must not enter): the gradient when the input is already log-probabilities (nllLoss), which has
 *  no softmax term. */
// @ts-ignore: decorator
@inline export function row_neg_target(out: usize, t: usize, w: usize, C: i32, a: f32, b: f32): void {
  if (!t && b == 0) {
    row_fill(out, C, 0);
    return;
  }
  for (let i = 0; i < C; i++) {
    const o = <usize>i << 2;
    const tq = t ? a * load<f32>(t + o) + b : b;
    store<f32>(out + o, -load<f32>(w + o) * tq);
  }
}

/** The weight of class t: w[t], or 1 when w is 0 (no weights given; index targets without smoothing read
 *  no other class's weight, so the caller need not fill C ones). */
// @ts-ignore: decorator
@inline export function class_weight(w: usize, t: i32): f32 {
  return w ? load<f32>(w + (<usize>t << 2)) : 1;
}

/** out[c] = v. */
// @ts-ignore: decorator
@inline export function row_fill(out: usize, C: i32, v: f32): void {
  const vv = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= C; i += 4) v128.store(out + (<usize>i << 2), vv);
  for (; i < C; i++) store<f32>(out + (<usize>i << 2), v);
}
