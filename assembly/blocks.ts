// Row statistics in one read of the row.
//
// A row of C logits is walked one block of at most BLOCK floats at a time: a max pass over the block
// (streaming, the only read that reaches past the caches), then an exp pass over the same block while it
// is still in L1. Each block leaves a record: its max bm and sum(exp(x - bm)), plus the weighted sums the
// loss needs, summed in f32 lanes over at most BLOCK floats (longer blocks, when C > MAX_BLOCKS * BLOCK,
// add such spans in f64), so the error does not grow with C. combine() then folds the records with the
// row max M:
//   se = sum_b s_b * exp(bm_b - M),   d = sum_b d_b + (bm_b - M) * q_b
// which is exact algebra, so the row is read once whatever C is. (Streaming exp over DRAM in one loop
// runs at a third of this speed on our machines: the exp work hides the loads from the prefetcher.)
//
// Rows end with a partial f32x4 when C % 4 != 0: that last vector is loaded whole and its extra lanes
// replaced by a neutral value (-inf for max and exp, 0 for sums); stores write the valid lanes only. The
// caller guarantees 16 readable bytes after every row.
import { expneg_f32, expneg_k, exp_k, hmax_f32x4, hsum_f32x4, madd } from "./vmath";

const BLOCK: i32 = 1024;

/** The 1 / temperature the exponentials exp((x - max) * invT) take: a temperature so large that 1 / T
 *  rounds to 0 in f32 gets the least subnormal instead, which keeps a -inf logit -inf (-inf * 0 would be
 *  NaN) and changes no finite product that matters. */
// @ts-ignore: decorator
@inline export function clamp_inv_t(v: f32): f32 {
  return max(v, reinterpret<f32>(1));
}
const MAX_BLOCKS: i32 = 1024;
/** Per-block records, 8 f32 each: bm, s, d, q, k (then bm is replaced by exp(bm - M) in combine).
 *  s sums the exponentials other than 1, k counts the 1s (x = bm): the row max's exp(0) = 1 in an f32
 *  lane would round away every small term added to it, and se - 1 (what log1p needs) would keep only
 *  that lane's error. Kept apart, se - 1 = (k - 1) + s is as accurate as s. That count costs three of
 *  the exp pass's twenty-odd operations a vector, and only a block that may hold the row max of a value
 *  read through se - 1 needs it (row_blocks' exactAt): elsewhere s takes the 1s and k stays 0. */
let REC: usize = memory.data(MAX_BLOCKS << 5, 16);
// @ts-ignore: decorator
@inline function rec(b: i32): usize {
  return REC + (<usize>b << 5);
}

/** Block length for a row of C classes: BLOCK floats, or more when C exceeds MAX_BLOCKS * BLOCK. */
// @ts-ignore: decorator
@inline export function block_len(C: i32): i32 {
  return max(BLOCK, ((C + MAX_BLOCKS - 1) / MAX_BLOCKS + 3) & ~3);
}

/** What the exp pass also accumulates. */
export const enum Sums {
  /** nothing: logsumexp, softmax, cross-entropy without label smoothing */
  NONE = 0,
  /** d = sum w (x - bm), q = sum w: the label-smoothing term of index targets */
  SMOOTH = 1,
  /** d = sum w t' (x - bm), q = sum w t', t' = a t + b: probability targets */
  PROB = 2,
  /** d = sum e (x - bm), e the exponentials: the entropy, -sum p log p = L - invT d / se */
  ENTROPY = 3,
}

/** Lane mask of the first k lanes (k in 1..4). */
// @ts-ignore: decorator
@inline export function first_lanes(k: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(k));
}

/** The vector at p with lanes >= k (k in 1..4) replaced by `pad`. */
// @ts-ignore: decorator
@inline export function load_part(p: usize, k: i32, pad: f32): v128 {
  return v128.bitselect(v128.load(p), f32x4.splat(pad), first_lanes(k));
}

/** Stores the first k lanes (k in 1..4) of v at p. */
// @ts-ignore: decorator
@inline export function store_part(p: usize, v: v128, k: i32): void {
  if (k == 4) { v128.store(p, v); return; }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (k > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (k > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Max of n floats (pmax: one instruction; a NaN is skipped here and caught by the exp pass). */
// @ts-ignore: decorator
@inline function block_max(p: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = p + (<usize>i << 2);
    m0 = f32x4.pmax(m0, v128.load(q));
    m1 = f32x4.pmax(m1, v128.load(q, 16));
    m2 = f32x4.pmax(m2, v128.load(q, 32));
    m3 = f32x4.pmax(m3, v128.load(q, 48));
  }
  for (; i + 4 <= n; i += 4) m0 = f32x4.pmax(m0, v128.load(p + (<usize>i << 2)));
  if (i < n) m1 = f32x4.pmax(m1, load_part(p + (<usize>i << 2), n - i, -Infinity));
  return hmax_f32x4(f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3)));
}

/** t' * w, the per-class coefficient of the weighted sums (w alone for Sums.SMOOTH). */
// @ts-ignore: decorator
@inline function coef(w: v128, t: v128, av: v128, bv: v128, sums: Sums): v128 {
  return sums == Sums.PROB ? f32x4.mul(w, madd(av, t, bv)) : w;
}

/**
 * Pass A over one row of C floats at p: per-block records, and with `e` != 0 the exponentials
 * exp((x - bm) invT) written to e (which may be p: each vector is read before it is overwritten).
 * w: class weights (Sums.SMOOTH, Sums.PROB); t: probability targets (Sums.PROB); t' = a t + b.
 * exactAt (Sums.NONE): the blocks whose max equals it count their 1s apart (REC), so that se - 1 is
 * accurate when that value is the row max: the target's logit for a loss (its log-probability is
 * -log1p(se - 1) when it is the max), NaN for every block (log-softmax; logsumexp, M + log1p(se - 1),
 * which must stay accurate near 0), +inf for none (softmax reads se itself). Other sums always count them. Returns the number of blocks.
 */
// @ts-ignore: decorator
@inline export function row_blocks(p: usize, C: i32, e: usize, sums: Sums, w: usize, t: usize, a: f32, b: f32, invT: f32, exactAt: f32): i32 {
  // two copies of the loop, so that the common untempered case pays no multiply
  return invT == 1 ? blocks_of(p, C, e, sums, w, t, a, b, invT, exactAt, false) : blocks_of(p, C, e, sums, w, t, a, b, invT, exactAt, true);
}

/** v with -inf raised to -FLT_MAX (NaN kept): the entropy's e (x - M) is then 0 where x = -inf (e = 0),
 *  not 0 * -inf = NaN. */
// @ts-ignore: decorator
@inline function above_ninf(v: v128): v128 {
  return f32x4.pmax(v, f32x4.splat(-F32.MAX_VALUE));
}

/** (x - shift), times invT (tv) when tempered. */
// @ts-ignore: decorator
@inline function tempered(d: v128, tv: v128, on: bool): v128 {
  return on ? f32x4.mul(d, tv) : d;
}

/**
 * The exp pass over the n <= BLOCK floats of the row from float i, shifted by `shift`: their sums s, d, q
 * (f32 lanes) into the record at r (from byte 4); the 1s counted apart in k when `count`.
 */
// @ts-ignore: decorator
@inline function span_sums(
  p: usize, i: i32, n: i32, r: usize, e: usize, sums: Sums, w: usize, t: usize, av: v128, bv: v128, shift: f32, tv: v128, temper: bool, count: bool,
): void {
  // exp's constants, loaded (vmath.ts: an inline v128.const in the loop runs at half speed on V8 >= 12)
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), one = exp_k(8);
  const zero = f32x4.splat(0), sv = f32x4.splat(shift);
  let s = zero, d = zero, q = zero, k = zero; // k: minus the count of 1s, per lane (i32)
  const end = i + n;
  for (const full = i + (n & ~3); i < full; i += 4) {
    const o = <usize>i << 2;
    const x = v128.load(p + o);
    const ex = expneg_k(tempered(f32x4.sub(x, sv), tv, temper), k0, k1, k2, k3, k4, k5, k6, k7, one);
    if (count) {
      const isOne = f32x4.eq(ex, one);
      s = f32x4.add(s, v128.andnot(ex, isOne));
      k = i32x4.add(k, isOne);
    } else s = f32x4.add(s, ex);
    if (sums == Sums.ENTROPY) d = madd(ex, above_ninf(f32x4.sub(x, sv)), d);
    else if (sums != Sums.NONE) {
      const c = coef(v128.load(w + o), sums == Sums.PROB ? v128.load(t + o) : zero, av, bv, sums);
      d = madd(c, f32x4.sub(x, sv), d);
      q = f32x4.add(q, c);
    }
    if (e) v128.store(e + o, ex);
  }
  if (i < end) {
    // the row's last, partial vector: -inf pads the exp (0, after the tempering: not -inf * invT),
    // the shift pads x - shift (0), 0 pads w, t
    const n4 = end - i;
    const o = <usize>i << 2;
    const ex = expneg_k(v128.bitselect(tempered(f32x4.sub(v128.load(p + o), sv), tv, temper), f32x4.splat(-Infinity), first_lanes(n4)), k0, k1, k2, k3, k4, k5, k6, k7, one);
    if (count) {
      const isOne = f32x4.eq(ex, one);
      s = f32x4.add(s, v128.andnot(ex, isOne));
      k = i32x4.add(k, isOne);
    } else s = f32x4.add(s, ex);
    if (sums == Sums.ENTROPY) d = madd(ex, above_ninf(f32x4.sub(load_part(p + o, n4, shift), sv)), d);
    else if (sums != Sums.NONE) {
      const c = coef(load_part(w + o, n4, 0), sums == Sums.PROB ? load_part(t + o, n4, 0) : zero, av, bv, sums);
      d = madd(c, f32x4.sub(load_part(p + o, n4, shift), sv), d);
      q = f32x4.add(q, c);
    }
    if (e) store_part(e + o, ex, n4);
  }
  store<f32>(r, hsum_f32x4(s), 4);
  store<f32>(r, <f32>-(i32x4.extract_lane(k, 0) + i32x4.extract_lane(k, 1) + i32x4.extract_lane(k, 2) + i32x4.extract_lane(k, 3)), 16);
  if (sums != Sums.NONE) {
    store<f32>(r, hsum_f32x4(d), 8);
    store<f32>(r, hsum_f32x4(q), 12);
  }
}

// @ts-ignore: decorator
@inline function blocks_of(p: usize, C: i32, e: usize, sums: Sums, w: usize, t: usize, a: f32, b: f32, invT: f32, exactAt: f32, temper: bool): i32 {
  const blk = block_len(C);
  const av = f32x4.splat(a), bv = f32x4.splat(b), tv = f32x4.splat(invT);
  let nb = 0;
  for (let j = 0; j < C; j += blk, nb++) {
    const n = min(blk, C - j);
    const bm = block_max(p + (<usize>j << 2), n);
    // a block of only -inf (and NaN) has no finite max: shift by 0, so -inf gives 0 and NaN stays NaN
    const shift: f32 = bm == -Infinity ? 0 : bm;
    const r = rec(nb);
    store<f32>(r, bm);
    // spans of at most BLOCK floats; a longer block (C > MAX_BLOCKS * BLOCK) adds them in f64, rounded once
    let s: f64 = 0, d: f64 = 0, q: f64 = 0, k: f32 = 0;
    const fast = sums == Sums.NONE && bm != exactAt && exactAt == exactAt; // no 1s to count apart (see REC)
    for (let u = 0; u < n; u += BLOCK) {
      if (fast) span_sums(p, j + u, min(BLOCK, n - u), r, e, sums, w, t, av, bv, shift, tv, temper, false);
      else span_sums(p, j + u, min(BLOCK, n - u), r, e, sums, w, t, av, bv, shift, tv, temper, true);
      if (n > BLOCK) {
        s += load<f32>(r, 4);
        k += load<f32>(r, 16);
        if (sums != Sums.NONE) {
          d += load<f32>(r, 8);
          q += load<f32>(r, 12);
        }
      }
    }
    if (n > BLOCK) {
      store<f32>(r, <f32>s, 4);
      store<f32>(r, k, 16);
      if (sums != Sums.NONE) {
        store<f32>(r, <f32>d, 8);
        store<f32>(r, <f32>q, 12);
      }
    }
  }
  return nb;
}

/** A row as combine() folds it: max M, se = sum exp(x - M), se1 = se - 1 (accurate when se is near 1,
 *  one dominant logit: L = log1p(se1)), and the weighted sums d, q relative to M. */
@unmanaged export class RowStats {
  M: f32;
  se: f32;
  se1: f32;
  d: f64;
  q: f64;
}
let ROW = changetype<RowStats>(memory.data(offsetof<RowStats>(), 8));

/** Bytes of this module's scratch (REC, ROW), for place_blocks. */
export const BLOCKS_SCRATCH: usize = (MAX_BLOCKS << 5) + 32;
/** Moves REC and ROW to p (scratch.ts); returns the end of the region. */
export function place_blocks(p: usize): usize {
  REC = p;
  ROW = changetype<RowStats>(p + (MAX_BLOCKS << 5));
  return p + BLOCKS_SCRATCH;
}

/**
 * Folds nb block records into the row max M, the sum of exp(x - M) and (unless sums is NONE) the
 * weighted sums relative to M, and leaves exp(bm - M) in each record for block_factor(). Sums run in
 * f64 across blocks.
 */
// @ts-ignore: decorator
@inline export function combine(nb: i32, sums: Sums, invT: f32): RowStats {
  const row = ROW;
  if (nb == 1) { // the common case C <= BLOCK: the block is the row
    row.M = load<f32>(REC);
    const s = load<f32>(REC, 4), k = load<f32>(REC, 16);
    row.se = s + k;
    row.se1 = s + (k - 1);
    if (sums != Sums.NONE) {
      row.d = load<f32>(REC, 8);
      row.q = load<f32>(REC, 12);
    }
    store<f32>(REC, 1);
    return row;
  }
  let M: f32 = -Infinity;
  for (let b = 0; b < nb; b++) M = max(M, load<f32>(rec(b)));
  let se: f64 = 0, d: f64 = 0, q: f64 = 0;
  for (let b = 0; b < nb; b++) {
    const r = rec(b);
    const bm = load<f32>(r);
    const f = expneg_f32((bm - M) * invT); // NaN when bm and M are both -inf: an all -inf row is NaN (PyTorch)
    const sb = load<f32>(r, 4) + load<f32>(r, 16); // s + k: d's weight (ENTROPY)
    se += (<f64>load<f32>(r, 4) + <f64>load<f32>(r, 16)) * f;
    // a block of only -inf (sb = 0) adds nothing: (bm - M) * sb would be -inf * 0
    if (sums == Sums.ENTROPY) { if (sb != 0) d += <f64>f * (<f64>load<f32>(r, 8) + (<f64>bm - M) * sb); }
    else if (sums != Sums.NONE) {
      const qb = <f64>load<f32>(r, 12);
      d += <f64>load<f32>(r, 8) + (<f64>bm - M) * qb;
      q += qb;
    }
    store<f32>(r, f);
  }
  row.M = M;
  row.se = <f32>se;
  row.se1 = <f32>(se - 1); // f64: exact enough, as the 1 came in exactly
  row.d = d;
  row.q = q;
  return row;
}

/** exp(bm - M) of block b, after combine(). */
// @ts-ignore: decorator
@inline export function block_factor(b: i32): f32 {
  return load<f32>(rec(b));
}

/**
 * Pass B of the gradient: g = k * f_b * e - w * (a * t + b) over one row, with e the exponentials pass
 * A stored (g may be e). t == 0: the target term is w * b (index targets; b = 0 without smoothing: none,
 * which is also softmax's pass B, g = e f_b / se with k = 1 / se).
 */
// @ts-ignore: decorator
@inline export function row_grad(e: usize, g: usize, C: i32, k: f32, w: usize, t: usize, a: f32, b: f32): void {
  const blk = block_len(C);
  const av = f32x4.splat(a), bv = f32x4.splat(b);
  for (let j = 0, nb = 0; j < C; j += blk, nb++) {
    const n = min(blk, C - j);
    const kv = f32x4.splat(k * block_factor(nb));
    for (let i = 0; i < n; i += 4) {
      const c = min(4, n - i);
      const o = <usize>(j + i) << 2;
      let v = f32x4.mul(kv, v128.load(e + o));
      if (t) v = f32x4.sub(v, f32x4.mul(v128.load(w + o), madd(av, v128.load(t + o), bv)));
      else if (b != 0) v = f32x4.sub(v, f32x4.mul(v128.load(w + o), bv));
      store_part(g + o, v, c);
    }
  }
}

