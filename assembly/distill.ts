// Knowledge distillation from the raw logits of both models, one row (position) at a time, nothing
// materialised. With a = (s - max s) / T and b = (t - max t) / T, Q = softmax(a) (the student's) and
// P = softmax(b) (the teacher's), the row's loss is
//   alpha * CE(s, label) + (1 - alpha) * T^2 * D,
// with sQ = sum e^a and sP = sum e^b,
// D = KL(P || Q) = sum e^b (b - a) / sP + log sQ - log sP   (mode 0: beta = 0)
//   = KL(Q || P) = sum e^a (a - b) / sQ + log sP - log sQ   (mode 1: beta = 1)
//   = beta KL(P || M) + (1 - beta) KL(Q || M), M = beta P + (1 - beta) Q   (mode 2: the generalised JSD)
// and its gradient with respect to s: (1 - alpha) T dD/da + alpha (softmax(s) - onehot(label)), with
//   dD/da = Q - P,   Q (log Q - log P - D),   Q (h - sum Q h), h = (1 - beta) (log Q - log M).
// A class the teacher gives probability 0 adds 0 (0 log 0 = 0). Sums: f32 lanes within blocks of BLOCK
// floats, f64 across blocks.
import { expneg_f32, expneg_f32x4, expneg_k, exp_k, hmax_f32x4, hsum_f32x4, log1p_f32x4, madd } from "./vmath";
import { load_part, store_part } from "./blocks";
import { row_fill } from "./rows";
import { half_to_f32 } from "./layout";

const BLOCK = 256;
/** A row's label that is ignored (the loader's IGNORED). */
const IGNORED: i32 = -1;

/** The row's sums: sQ, sP (of exp(a), exp(b)), s1 (of exp(s - max s), for the CE term), acc (mode 0: sum
 *  e^b (b - a); mode 1: sum e^a (a - b)). */
@unmanaged class Sums {
  sQ: f64;
  sP: f64;
  s1: f64;
  acc: f64;
}
// static data, not `new`: the caller's arena starts at __heap_base
let SUMS = changetype<Sums>(memory.data(offsetof<Sums>(), 16));

/** Both rows' maxima in one pass, with pmax (one instruction; NaN-propagating max is a long sequence
 *  on x64 and was half the kernel's time). A NaN is skipped here but reaches the sums through exp, so the
 *  loss is NaN as PyTorch's. Stored in MAXS (student, teacher). */
// @ts-ignore: decorator
@inline function row_max2(p: usize, q: usize, C: i32): void {
  const lo = f32x4.splat(-Infinity), C8 = C & ~7;
  let a0 = lo, a1 = lo, b0 = lo, b1 = lo;
  let i = 0;
  for (; i < C8; i += 8) {
    const o = <usize>i << 2;
    a0 = f32x4.pmax(a0, v128.load(p + o)); a1 = f32x4.pmax(a1, v128.load(p + o, 16));
    b0 = f32x4.pmax(b0, v128.load(q + o)); b1 = f32x4.pmax(b1, v128.load(q + o, 16));
  }
  let mS = hmax_f32x4(f32x4.pmax(a0, a1)), mT = hmax_f32x4(f32x4.pmax(b0, b1));
  for (; i < C; i++) {
    const o = <usize>i << 2, x = load<f32>(p + o), y = load<f32>(q + o);
    if (x > mS) mS = x;
    if (y > mT) mT = y;
  }
  store<f32>(MAXS, mS);
  store<f32>(MAXS, mT, 4);
}
let MAXS: usize = memory.data(8, 8);

/** Bytes of this module's scratch (SUMS, MAXS), for place_distill. */
export const DISTILL_SCRATCH: usize = 64;
/** Moves SUMS and MAXS to p (scratch.ts); returns the end of the region. */
export function place_distill(p: usize): usize {
  SUMS = changetype<Sums>(p);
  MAXS = p + 48;
  return p + DISTILL_SCRATCH;
}

/** Pass 1 over one row, the sums (see Sums), in two loops, the teacher's then the student's: one
 *  exponential each keeps every vector in a register. The temperature is folded into exp's constants
 *  (x / T clamped and scaled in one step); acc is summed over unscaled differences and scaled after.
 *  With `keep`, e^a is stored at `e` and (mode 0) e^b at `f`. `mode` and `keep` are constants at each
 *  call: each inlined copy keeps only its own work. Whole vectors in the loops, the C % 4 tail in scalar
 *  code. */
// @ts-ignore: decorator
@inline function row_sums(p: usize, q: usize, e: usize, f: usize, C: i32, mS: f32, mT: f32, invT: f32, mode: i32, keep: bool, ce1: bool): void {
  const k0 = f32x4.splat(-88 / invT), k1 = f32x4.splat(<f32>1.44269504088896341 * invT);
  const k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8);
  const msv = f32x4.splat(mS), mtv = f32x4.splat(mT), zero = f32x4.splat(0);
  const r = SUMS, C4 = C & ~3;
  let sQ: f64 = 0, sP: f64 = 0, s1: f64 = 0, acc: f64 = 0;
  for (let j = 0; j < C4; j += BLOCK) { // the teacher: sP, and mode 0's sum e^b (b - a)
    const end = min(j + BLOCK, C4);
    let vP = zero, va = zero;
    for (let i = j; i < end; i += 4) {
      const o = <usize>i << 2;
      const dt = f32x4.sub(v128.load(q + o), mtv);
      const ep = expneg_k(dt, k0, k1, k2, k3, k4, k5, k6, k7, k8);
      vP = f32x4.add(vP, ep);
      if (mode == 0) va = f32x4.add(va, v128.bitselect(zero, f32x4.mul(ep, f32x4.sub(dt, f32x4.sub(v128.load(p + o), msv))), f32x4.eq(ep, zero)));
      if (keep && mode == 0) v128.store(f + o, ep);
    }
    sP += hsum_f32x4(vP);
    acc += hsum_f32x4(va);
  }
  for (let j = 0; j < C4; j += BLOCK) { // the student: sQ, mode 1's sum e^a (a - b), the CE term's s1
    const end = min(j + BLOCK, C4);
    let vQ = zero, va = zero, v1 = zero;
    for (let i = j; i < end; i += 4) {
      const o = <usize>i << 2;
      const ds = f32x4.sub(v128.load(p + o), msv);
      const eq = expneg_k(ds, k0, k1, k2, k3, k4, k5, k6, k7, k8);
      vQ = f32x4.add(vQ, eq);
      if (mode == 1) va = f32x4.add(va, v128.bitselect(zero, f32x4.mul(eq, f32x4.sub(ds, f32x4.sub(v128.load(q + o), mtv))), f32x4.eq(eq, zero)));
      if (ce1) v1 = f32x4.add(v1, expneg_f32x4(ds));
      if (keep) v128.store(e + o, eq);
    }
    sQ += hsum_f32x4(vQ);
    acc += hsum_f32x4(va);
    s1 += hsum_f32x4(v1);
  }
  for (let i = C4; i < C; i++) {
    const o = <usize>i << 2, ds = load<f32>(p + o) - mS, dt = load<f32>(q + o) - mT;
    const eq = expneg_f32(ds * invT), ep = expneg_f32(dt * invT);
    sQ += eq; sP += ep;
    if (mode == 0 && ep != 0) acc += ep * (dt - ds);
    else if (mode == 1 && eq != 0) acc += eq * (ds - dt);
    if (ce1) s1 += expneg_f32(ds);
    if (keep) {
      store<f32>(e + o, eq);
      if (mode == 0) store<f32>(f + o, ep);
    }
  }
  r.sQ = sQ; r.sP = sP; r.s1 = s1; r.acc = acc * invT;
}

/** row_sums with mode and keep read at run time: one copy for the reverse KL and the JSD. */
function row_sums_any(p: usize, q: usize, e: usize, C: i32, mS: f32, mT: f32, invT: f32, mode: i32, keep: bool, ce1: bool): void {
  row_sums(p, q, e, 0, C, mS, mT, invT, mode, keep, ce1);
}

/** log(e^u + e^v) = max(u, v) + log1p(e^-|u - v|): log M from log(beta P) and log((1 - beta) Q), exact
 *  where P or Q underflows. */
// @ts-ignore: decorator
@inline function log_add(u: v128, v: v128): v128 {
  const m = f32x4.max(u, v);
  const d = f32x4.neg(f32x4.abs(f32x4.sub(u, v)));
  return f32x4.add(m, log1p_f32x4(expneg_k(d, exp_k(0), exp_k(1), exp_k(2), exp_k(3), exp_k(4), exp_k(5), exp_k(6), exp_k(7), exp_k(8))));
}

/** The k (1..4) floats at p, the rest -inf (a class that adds nothing): a plain load for whole vectors. */
// @ts-ignore: decorator
@inline function ld(p: usize, k: i32): v128 {
  return k == 4 ? v128.load(p) : load_part(p, k, -Infinity);
}

/** Mode 2's second pass: D = sum beta P (log P - log M) + (1 - beta) Q (log Q - log M), and sum Q h. */
// @ts-ignore: decorator
@inline function row_jsd(p: usize, q: usize, C: i32, mS: f32, mT: f32, invT: f32, lQ: f32, lP: f32, beta: f32): f64 {
  const msv = f32x4.splat(mS), mtv = f32x4.splat(mT), iv = f32x4.splat(invT), zero = f32x4.splat(0);
  const lqv = f32x4.splat(lQ), lpv = f32x4.splat(lP), bv = f32x4.splat(beta), cv = f32x4.splat(1 - beta);
  const lb = f32x4.splat(<f32>Math.log(beta)), lc = f32x4.splat(<f32>Math.log(1 - beta));
  let D: f64 = 0, qh: f64 = 0;
  for (let j = 0; j < C; j += BLOCK) {
    const end = min(j + BLOCK, C);
    let vD = zero, vh = zero;
    for (let i = j; i < end; i += 4) {
      const k = min(4, end - i), o = <usize>i << 2;
      const logQ = f32x4.sub(f32x4.mul(f32x4.sub(ld(p + o, k), msv), iv), lqv);
      const logP = f32x4.sub(f32x4.mul(f32x4.sub(ld(q + o, k), mtv), iv), lpv);
      const logM = log_add(f32x4.add(lb, logP), f32x4.add(lc, logQ));
      const P = expneg_k(logP, exp_k(0), exp_k(1), exp_k(2), exp_k(3), exp_k(4), exp_k(5), exp_k(6), exp_k(7), exp_k(8));
      const Q = expneg_k(logQ, exp_k(0), exp_k(1), exp_k(2), exp_k(3), exp_k(4), exp_k(5), exp_k(6), exp_k(7), exp_k(8));
      const tp = v128.bitselect(zero, f32x4.mul(f32x4.mul(bv, P), f32x4.sub(logP, logM)), f32x4.eq(P, zero));
      const h = f32x4.mul(cv, f32x4.sub(logQ, logM));
      const tq = v128.bitselect(zero, f32x4.mul(Q, h), f32x4.eq(Q, zero));
      vD = f32x4.add(vD, f32x4.add(tp, tq));
      vh = f32x4.add(vh, tq);
    }
    D += hsum_f32x4(vD);
    qh += hsum_f32x4(vh);
  }
  SUMS.acc = qh; // sum Q h, for the gradient
  return D;
}

/**
 * The forward KL's gradient of one row: g = kd (Q - P) + ka e^(s - max s) / s1, minus ka at the label, with
 * kd = scale (1 - alpha) T and ka = scale alpha, Q and P from the exponentials row_sums left in g and f:
 * no exponential of either model is taken twice.
 */
// @ts-ignore: decorator
@inline function row_kl_grad(p: usize, g: usize, f: usize, C: i32, mS: f32, kd: f32, ka: f32, s1: f32, label: i32, isQ: f32, isP: f32): void {
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8);
  const msv = f32x4.splat(mS), kav = f32x4.splat(ka / s1);
  const aq = f32x4.splat(kd * isQ), ap = f32x4.splat(kd * isP), C4 = C & ~3;
  if (ka == 0) {
    for (let i = 0; i < C4; i += 4) {
      const o = <usize>i << 2;
      v128.store(g + o, f32x4.sub(f32x4.mul(v128.load(g + o), aq), f32x4.mul(v128.load(f + o), ap)));
    }
  } else {
    for (let i = 0; i < C4; i += 4) {
      const o = <usize>i << 2;
      const v = f32x4.sub(f32x4.mul(v128.load(g + o), aq), f32x4.mul(v128.load(f + o), ap));
      v128.store(g + o, madd(kav, expneg_k(f32x4.sub(v128.load(p + o), msv), k0, k1, k2, k3, k4, k5, k6, k7, k8), v));
    }
  }
  for (let i = C4; i < C; i++) {
    const o = <usize>i << 2;
    let v = load<f32>(g + o) * (kd * isQ) - load<f32>(f + o) * (kd * isP);
    if (ka != 0) v += (ka / s1) * expneg_f32(load<f32>(p + o) - mS);
    store<f32>(g + o, v);
  }
  if (ka != 0 && label >= 0) store<f32>(g + (<usize>label << 2), load<f32>(g + (<usize>label << 2)) - ka);
}

/**
 * The reverse KL's (mode 1) and the JSD's (mode 2) gradient of one row: g = kd dD/da + ka e^(s - max s)
 * / s1, minus ka at the label; dD/da = Q (log Q - log P - D) or Q (h - sum Q h). Mode 1 passes
 * lQ - lP + D for D (the bracket is then a - b minus it) and has e^a in g already (row_sums). Not
 * inlined: one copy for both modes.
 */
function row_divergence_grad(
  p: usize, q: usize, g: usize, C: i32, mS: f32, mT: f32, invT: f32, mode: i32, lQ: f32, lP: f32, beta: f32,
  D: f32, qh: f32, kd: f32, ka: f32, s1: f32, label: i32, isQ: f32,
): void {
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8);
  const msv = f32x4.splat(mS), mtv = f32x4.splat(mT), iv = f32x4.splat(invT), zero = f32x4.splat(0);
  const lqv = f32x4.splat(lQ), lpv = f32x4.splat(lP), kdv = f32x4.splat(kd), kav = f32x4.splat(ka / s1);
  const dv = f32x4.splat(D), qhv = f32x4.splat(qh), cv = f32x4.splat(1 - beta), isq = f32x4.splat(isQ);
  const lb = f32x4.splat(<f32>Math.log(beta)), lc = f32x4.splat(<f32>Math.log(1 - beta));
  for (let i = 0; i < C; i += 4) {
    const k = min(4, C - i), o = <usize>i << 2;
    const d = f32x4.sub(ld(p + o, k), msv);
    const a = f32x4.mul(d, iv), b = f32x4.mul(f32x4.sub(ld(q + o, k), mtv), iv);
    let dD: v128;
    if (mode == 1) {
      // log Q - log P - D = (a - b) - (lQ - lP + D): the constant (dv here) rounded once, from f64
      const Q = f32x4.mul(v128.load(g + o), isq);
      dD = v128.bitselect(zero, f32x4.mul(Q, f32x4.sub(f32x4.sub(a, b), dv)), f32x4.eq(Q, zero));
    } else {
      const logQ = f32x4.sub(a, lqv), logP = f32x4.sub(b, lpv);
      const Q = expneg_k(logQ, k0, k1, k2, k3, k4, k5, k6, k7, k8);
      const h = f32x4.mul(cv, f32x4.sub(logQ, log_add(f32x4.add(lb, logP), f32x4.add(lc, logQ))));
      dD = v128.bitselect(zero, f32x4.mul(Q, f32x4.sub(h, qhv)), f32x4.eq(Q, zero));
    }
    let v = f32x4.mul(kdv, dD);
    if (ka != 0) v = madd(kav, expneg_k(d, k0, k1, k2, k3, k4, k5, k6, k7, k8), v);
    store_part(g + o, v, k);
  }
  if (ka != 0 && label >= 0) store<f32>(g + (<usize>label << 2), load<f32>(g + (<usize>label << 2)) - ka);
}

/**
 * Over `rows` rows of C classes: s the student's logits, t the teacher's (f32, or 16-bit floats widened
 * into wideS / wideT when halfS / halfT is 1 (float16) or 2 (bfloat16)); labels (i32 per row, IGNORED for
 * an ignored row; 0: none), loss per row or 0, grad (not s: it holds e^a while s is still read) or 0,
 * times scales[r] (if not 0) or gscale; eT (C floats, reused by every row: it stays in cache from the
 * sums to the gradient) keeps the teacher's exponentials for the gradient of mode 0.
 * mode 0, 1, 2 as in the header. Writes total plus the rows' losses to `totals` (f64).
 */
export function distill_f32(
  s: usize, t: usize, labels: usize, loss: usize, grad: usize, scales: usize, rows: i32, C: i32,
  halfS: i32, wideS: usize, halfT: i32, wideT: usize, invT: f32, mode: i32, beta: f32, alpha: f32,
  gscale: f32, eT: usize, total: f64, totals: usize,
): void {
  const n = rows * C;
  if (halfS) { half_to_f32(s, wideS, n, halfS); s = wideS; }
  if (halfT) { half_to_f32(t, wideT, n, halfT); t = wideT; }
  const T: f32 = <f32>1 / invT, ce = alpha != 0 && labels != 0, ce1 = ce && invT != 1;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * C << 2, p = s + o, q = t + o, g = grad ? grad + o : 0;
    const label = labels ? load<i32>(labels + (<usize>r << 2)) : -2;
    if (label == IGNORED) {
      if (loss) store<f32>(loss + (<usize>r << 2), 0);
      if (g) row_fill(g, C, 0);
      continue;
    }
    row_max2(p, q, C);
    const mS = load<f32>(MAXS), mT = load<f32>(MAXS, 4);
    const f = g && mode == 0 ? eT : 0;
    // the forward KL (the default) gets its own specialised copies; the reverse KL and the JSD share one
    // generic copy (row_sums_any), which keeps the module small
    if (mode == 0) {
      if (g) row_sums(p, q, g, f, C, mS, mT, invT, 0, true, ce1);
      else row_sums(p, q, 0, 0, C, mS, mT, invT, 0, false, ce1);
    } else row_sums_any(p, q, mode == 1 ? g : 0, C, mS, mT, invT, mode, mode == 1 && g != 0, ce1);
    const sums = SUMS;
    const lQ = <f32>Math.log(sums.sQ), lP = <f32>Math.log(sums.sP);
    let D: f64;
    if (mode == 0) D = sums.acc / sums.sP + lQ - lP;
    else if (mode == 1) D = sums.acc / sums.sQ + lP - lQ;
    else D = row_jsd(p, q, C, mS, mT, invT, lQ, lP, beta);
    const s1 = ce1 ? sums.s1 : sums.sQ;
    let l = (1 - <f64>alpha) * <f64>T * T * D;
    if (ce && label >= 0) l += <f64>alpha * (Math.log(s1) - <f64>(load<f32>(p + (<usize>label << 2)) - mS));
    if (loss) store<f32>(loss + (<usize>r << 2), <f32>l);
    total += l;
    if (g) {
      const k = scales ? load<f32>(scales + (<usize>r << 2)) : gscale;
      const kd = k * (1 - alpha) * T, ka = ce ? k * alpha : <f32>0;
      if (mode == 0) row_kl_grad(p, g, f, C, mS, kd, ka, <f32>s1, label, <f32>(1 / sums.sQ), <f32>(1 / sums.sP));
      else row_divergence_grad(p, q, g, C, mS, mT, invT, mode, lQ, lP, beta, mode == 1 ? <f32>(<f64>lQ - lP + D) : <f32>D, <f32>sums.acc, kd, ka, <f32>s1, label, <f32>(1 / sums.sQ));
    }
  }
  store<f64>(totals, total);
}
