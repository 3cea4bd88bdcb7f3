// Small C: four rows side by side, one row per lane.
//
// With ten classes a row is two and a half vectors, and the per-row steps of the row kernels (masked
// tail, horizontal max and sum, block records) cost more than its exponentials. Here a group of four
// rows is transposed into C vectors (class c of the four rows), so the max, the exponentials and the
// sums are plain vertical f32x4 operations with no masks and no horizontal steps. Every row of such a
// batch goes through them, the last group's missing rows padded with zeros: a row's lane computes the
// same whatever the other lanes hold, so its results do not depend on its position or the chunking.
import { expneg_k, exp_k, log_f32x4, madd } from "./vmath";
import { class_weight, row_max, row_fill } from "./rows";
import { leave, finish } from "./group";
import { z_term, z_loss_of } from "./zloss";
import { XentArgs } from "./xent-args";

/** Largest C the lane kernels take. */
export const LANES_MAX_C: i32 = 16; // beyond it the transposition costs more than it saves
/** The transposed group: LANES_MAX_C vectors. */
let T: usize = memory.data(LANES_MAX_C << 4, 16);
/** Per-lane scratch for building vectors from scalars. */
let LANE: usize = memory.data(16, 16);
/** exp_pass's sums: s, then d. */
let ACC: usize = memory.data(32, 16);

/** Bytes of this module's scratch, for place_lanes. */
export const LANES_SCRATCH: usize = (LANES_MAX_C << 4) + 48;
/** Moves T, LANE and ACC to p (scratch.ts); returns the end of the region. */
export function place_lanes(p: usize): usize {
  T = p;
  LANE = p + (LANES_MAX_C << 4);
  ACC = LANE + 16;
  return p + LANES_SCRATCH;
}

/** T[c] = (row0[c], row1[c], row2[c], row3[c]) for the n (1..4) rows of C floats starting at p; the lanes
 *  of missing rows hold 0. */
// @ts-ignore: decorator
@inline function transpose_in(p: usize, C: i32, n: i32): void {
  const s = <usize>C << 2;
  if (n < 4) {
    for (let c = 0; c < C; c++) {
      v128.store(LANE, f32x4.splat(0));
      for (let j = 0; j < n; j++) store<f32>(LANE + (<usize>j << 2), load<f32>(p + <usize>j * s + (<usize>c << 2)));
      v128.store(T + (<usize>c << 4), v128.load(LANE));
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    const q = p + (<usize>c << 2);
    let v = f32x4.splat(load<f32>(q));
    v = f32x4.replace_lane(v, 1, load<f32>(q + s));
    v = f32x4.replace_lane(v, 2, load<f32>(q + 2 * s));
    v = f32x4.replace_lane(v, 3, load<f32>(q + 3 * s));
    v128.store(T + (<usize>c << 4), v);
  }
}

/** The inverse of transpose_in, into the n rows at g. */
// @ts-ignore: decorator
@inline function transpose_out(g: usize, C: i32, n: i32): void {
  const s = <usize>C << 2;
  if (n < 4) {
    for (let c = 0; c < C; c++) {
      v128.store(LANE, v128.load(T + (<usize>c << 4)));
      for (let j = 0; j < n; j++) store<f32>(g + <usize>j * s + (<usize>c << 2), load<f32>(LANE + (<usize>j << 2)));
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    const v = v128.load(T + (<usize>c << 4));
    const q = g + (<usize>c << 2);
    store<f32>(q, f32x4.extract_lane(v, 0));
    store<f32>(q + s, f32x4.extract_lane(v, 1));
    store<f32>(q + 2 * s, f32x4.extract_lane(v, 2));
    store<f32>(q + 3 * s, f32x4.extract_lane(v, 3));
  }
}

/** Max of each lane over the C vectors of T (pmax: a NaN is skipped here and caught by the exp). */
// @ts-ignore: decorator
@inline function lanes_max(C: i32): v128 {
  let m = f32x4.splat(-Infinity);
  for (let c = 0; c < C; c++) m = f32x4.pmax(m, v128.load(T + (<usize>c << 4)));
  return m;
}

/** The exp shift of each lane: its max, or 0 where the max is -inf (a row of only -inf and NaN). */
// @ts-ignore: decorator
@inline function lanes_shift(m: v128): v128 {
  return v128.bitselect(f32x4.splat(0), m, f32x4.eq(m, f32x4.splat(-Infinity)));
}

/**
 * The exponentials exp((x - m) invT) of T's C vectors (kept in T when `keep`), with shift sv: their sum s,
 * and with eps > 0 d = sum w (x - m), into ACC. As the row kernel: the shift first, then the temperature.
 */
// @ts-ignore: decorator
@inline function exp_pass(C: i32, weight: usize, eps: f32, keep: bool, sv: v128, invT: f32, temper: bool): void {
  const tv = f32x4.splat(invT);
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8); // loaded: vmath.ts
  let s = f32x4.splat(0), d = s;
  for (let c = 0; c < C; c++) {
    const t = T + (<usize>c << 4);
    const v = f32x4.sub(v128.load(t), sv);
    const e = expneg_k(temper ? f32x4.mul(v, tv) : v, k0, k1, k2, k3, k4, k5, k6, k7, k8);
    s = f32x4.add(s, e);
    if (eps > 0) d = madd(f32x4.splat(load<f32>(weight + (<usize>c << 2))), v, d);
    if (keep) v128.store(t, e);
  }
  v128.store(ACC, s);
  v128.store(ACC, d, 16);
}

/**
 * Cross-entropy with class-index targets for n (1..4) rows of C <= LANES_MAX_C classes at x (the same
 * contract as xent_index_rows, for rows r0..r0+n-1, logits not log-probabilities). With grad, the rows'
 * gradients are written to grad (which may be x). The losses and z terms are added to a's running totals.
 */
export function xent_index_lanes(
  x: usize, target: usize, weight: usize, loss: usize, grad: usize, scales: usize,
  C: i32, n: i32, a: XentArgs,
): void {
  const ignoreIndex = a.ignoreIndex, eps = a.eps, wsum = a.wsum, gscale = a.gscale, zLoss = a.zLoss, invT = a.invT;
  let zTotal = a.zTotal;
  const ec: f32 = eps / <f32>C, hot: f32 = 1 - eps;
  const ecw: f32 = eps > 0 ? ec * wsum : 0; // no unused class's weight without smoothing (as xent.ts)
  const rowBytes = <usize>C << 2;
  transpose_in(x, C, n);
  const m = lanes_max(C), sv = lanes_shift(m);
  // two copies of the pass, so that the common untempered case pays no multiply
  if (invT != 1) exp_pass(C, weight, eps, grad != 0, sv, invT, true);
  else exp_pass(C, weight, eps, grad != 0, sv, invT, false);
  const s = v128.load(ACC), d = v128.load(ACC, 16);
  // per lane: the loss as a + b log(se) (group.ts), and the gradient's two coefficients
  let kv = f32x4.splat(0), bv = kv;
  const logs = zLoss != 0 ? log_f32x4(s) : kv; // the z-loss needs the logs now: one log for four rows
  for (let j = 0; j < n; j++) {
    const t = load<i32>(target + (<usize>j << 2));
    if (t == ignoreIndex) {
      leave(j, 0, 0, 0);
      continue;
    }
    const wt = class_weight(weight, t);
    const xt = load<f32>(x + <usize>j * rowBytes + (<usize>t << 2));
    const M = lane_of(m, j), se = lane_of(s, j);
    const scale = scales ? load<f32>(scales + (<usize>j << 2)) : gscale;
    // as in xent_index_rows
    let l = -<f64>hot * wt * (<f64>xt - M) * invT;
    if (eps > 0) l -= <f64>ec * lane_of(d, j) * invT;
    let zk: f32 = 0;
    if (zLoss != 0) {
      zk = z_term(j, zLoss, <f64>M * invT, <f64>lane_of(logs, j), se, scale);
      zTotal += z_loss_of(j);
      l += z_loss_of(j);
    }
    leave(j, l, <f64>hot * wt + (eps > 0 ? <f64>ec * wsum : 0), se - 1);
    if (grad) {
      kv = set_lane(kv, j, (scale * (hot * wt + ecw) / se + zk) * invT);
      bv = set_lane(bv, j, scale * ec * invT);
    }
  }
  a.total = finish(n, loss, a.total);
  a.zTotal = zTotal;
  if (grad) {
    for (let c = 0; c < C; c++) {
      const t = T + (<usize>c << 4);
      let g = f32x4.mul(kv, v128.load(t));
      if (eps > 0) g = f32x4.sub(g, f32x4.mul(bv, f32x4.splat(load<f32>(weight + (<usize>c << 2)))));
      v128.store(t, g);
    }
    // ignored rows: their finiteness, before transpose_out overwrites x when grad == x
    let nonFinite = 0;
    for (let j = 0; j < n; j++) {
      if (load<i32>(target + (<usize>j << 2)) == ignoreIndex && !isFinite(row_max(x + <usize>j * rowBytes, C))) nonFinite |= 1 << j;
    }
    transpose_out(grad, C, n);
    for (let j = 0; j < n; j++) {
      const t = load<i32>(target + (<usize>j << 2));
      const g = grad + <usize>j * rowBytes;
      if (t == ignoreIndex) {
        row_fill(g, C, nonFinite & (1 << j) ? NaN : 0);
        continue;
      }
      const scale = scales ? load<f32>(scales + (<usize>j << 2)) : gscale;
      const wt = class_weight(weight, t);
      const gt = g + (<usize>t << 2);
      store<f32>(gt, load<f32>(gt) - scale * hot * wt * invT);
    }
  }
}

/** logsumexp of n (1..4) rows of C <= LANES_MAX_C floats at x, into out[0..n-1] (PyTorch's rules: see
 *  softmax.ts). */
export function lse_lanes(x: usize, out: usize, C: i32, n: i32): void {
  transpose_in(x, C, n);
  const m = lanes_max(C), sv = lanes_shift(m); // no temperature: the softmax family has none
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8); // loaded: vmath.ts
  let s = f32x4.splat(0);
  for (let c = 0; c < C; c++) s = f32x4.add(s, expneg_k(f32x4.sub(v128.load(T + (<usize>c << 4)), sv), k0, k1, k2, k3, k4, k5, k6, k7, k8));
  for (let j = 0; j < n; j++) {
    const M = lane_of(m, j);
    if (isFinite(M)) leave(j, M, 1, lane_of(s, j) - 1);
    else leave(j, isNaN(row_max(x + (<usize>j * C << 2), C)) ? NaN : M, 0, 0);
  }
  finish(n, out, 0);
}

/** Lane j of v (j not a constant, so through memory). */
// @ts-ignore: decorator
@inline function lane_of(v: v128, j: i32): f32 {
  v128.store(LANE, v);
  return load<f32>(LANE + (<usize>j << 2));
}

/** v with lane j set to a (j not a constant, so through memory). */
// @ts-ignore: decorator
@inline function set_lane(v: v128, j: i32, a: f32): v128 {
  v128.store(LANE, v);
  store<f32>(LANE + (<usize>j << 2), a);
  return v128.load(LANE);
}
