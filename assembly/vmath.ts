// Vector math on f32x4: exp, log and horizontal reductions.
//
// exp and log reduce the argument to a small interval and evaluate a short polynomial there. Scalar
// callers (per-row and per-block statistics) use expneg_f32/log_f32, which run the very same vector code
// on lane 0.

/** a * b + c: fused (f32x4.relaxed_madd) in the relaxed-SIMD build (build/xent-relaxed.wasm), where the
 *  hardware has FMA; a multiply and an add in the baseline build. One source serves both: the branch is
 *  on a compile-time constant. The two builds can then differ in the last bits (a fused step rounds once). */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// e^x for x <= 0, the only case the kernels need (they exponentiate x - max). In base 2:
//   y = x * log2(e),  n = round(y),  f = y - n in [-1/2, 1/2],  e^x = 2^n * 2^f
// with 2^f from a degree-5 polynomial (a relative-error fit on [-1/2, 1/2]: 2.2 ulp when evaluated in
// f32). n is rounded by adding 1.5 * 2^23: the sum's low mantissa bits then hold n as an integer, and
// ((bits + 127) << 23) is 2^n as a float (only the low 9 bits of n + 127 survive in the exponent field).
// Rounding y costs accuracy in proportion to |y|: the relative error is below 2.5e-7 + 8e-8 |x|
// (measured: 2.0e-7 on [-1, 0], the terms near the row max that dominate every sum; 3.9e-6 at worst,
// terms 1e38 times smaller than the max). Base e with a split ln 2 would be exact to 1 ulp everywhere
// but costs 5 more operations per vector, a quarter of the kernels' speed.
const LOG2E: f32 = 1.44269504088896341;
const ROUND: f32 = 12582912.0; // 1.5 * 2^23
const C1: f32 = 0.6931470036506653;
const C2: f32 = 0.24022242426872253;
const C3: f32 = 0.05550733581185341;
const C4: f32 = 0.009671512991189957;
const C5: f32 = 0.001326472731307149;
// At -88 and below, n rounds to -127, whose exponent field is 0: the result is exactly 0 with no select
// (results just above it, below 2^-126, come out subnormal).
const EXP_LOW: f32 = -88.0;

// The vector constants of the hot loops come from memory, read into locals before the loop. V8 from
// Node 24 (and Chromium) re-materialises an inline v128.const at each use inside a loop, which halves the
// speed of these kernels; binaryen would fold a local initialised by a constant back into its uses, but
// not a load. So the loop kernels take their constants as arguments: `const k = exp_k()` style loads
// (below) outside the loop, then expneg_k(x, ...k) inside.
const EXPK: usize = memory.data<f32>([EXP_LOW, LOG2E, ROUND, C5, C4, C3, C2, C1, 1.0]);

/** Vector i of exp's constant table: EXP_LOW, LOG2E, ROUND, C5, C4, C3, C2, C1, 1 (loaded, see above). */
// @ts-ignore: decorator
@inline export function exp_k(i: i32): v128 {
  return v128.load32_splat(EXPK + (<usize>i << 2));
}

/** e^x for each lane with x <= 0: NaN stays NaN (pmax keeps a NaN first operand), -inf gives 0.
 *  k0..k8: exp_k(0..8). */
// @ts-ignore: decorator
@inline export function expneg_k(x: v128, k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128, k6: v128, k7: v128, k8: v128): v128 {
  const xc = f32x4.pmax(x, k0);
  let t: v128, f: v128;
  if (ASC_FEATURE_RELAXED_SIMD) {
    // two fused steps: t = y + ROUND, f = y - (t - ROUND) = x log2(e) + (ROUND - t), the product unrounded
    t = madd(xc, k1, k2);
    f = madd(xc, k1, f32x4.sub(k2, t));
  } else {
    const y = f32x4.mul(xc, k1);
    t = f32x4.add(y, k2);
    f = f32x4.sub(y, f32x4.sub(t, k2));
  }
  let p = madd(k3, f, k4);
  p = madd(p, f, k5);
  p = madd(p, f, k6);
  p = madd(p, f, k7);
  p = madd(p, f, k8);
  // 2^n = (n + 127) << 23 = (t << 23) + (127 << 23), and 127 << 23 is the bit pattern of 1.0 (k8)
  return f32x4.mul(p, i32x4.add(i32x4.shl(t, 23), k8));
}

/** expneg_k with its constants loaded at the call: for code outside the hot loops. */
// @ts-ignore: decorator
@inline export function expneg_f32x4(x: v128): v128 {
  return expneg_k(x, exp_k(0), exp_k(1), exp_k(2), exp_k(3), exp_k(4), exp_k(5), exp_k(6), exp_k(7), exp_k(8));
}

/** e^y for any y: expneg for y <= 0, its reciprocal above (overflowing to +inf past 88.7). `zero`: a zero vector. */
// @ts-ignore: decorator
@inline export function exp_any(y: v128, zero: v128): v128 {
  const pos = f32x4.gt(y, zero);
  const one = exp_k(8);
  const e = expneg_k(v128.bitselect(f32x4.neg(y), y, pos), exp_k(0), exp_k(1), exp_k(2), exp_k(3), exp_k(4), exp_k(5), exp_k(6), exp_k(7), one);
  return v128.bitselect(f32x4.div(one, e), e, pos);
}

const SQRT_HALF: f32 = 0.707106781186547524;
// ln 2 split in two so that e * LN2_HI is exact for the exponents of f32
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// log's constants, loaded as exp's are: P's coefficients from f^0 up (Cephes logf), then the rest. The
// bit patterns (126, the mantissa mask, 0.5's exponent) go in as f32 with those bits.
const LOGK: usize = memory.data<f32>([
  3.3333331174e-1, -2.4999993993e-1, 2.0000714765e-1, -1.6668057665e-1, 1.4249322787e-1,
  -1.2420140846e-1, 1.1676998740e-1, -1.1514610310e-1, 7.0376836292e-2,
  SQRT_HALF, 1.0, 0.5, LN2_LO, LN2_HI,
  reinterpret<f32>(126), reinterpret<f32>(0x007fffff), reinterpret<f32>(0x3f000000),
  0, Infinity, -Infinity, NaN,
]);
// @ts-ignore: decorator
@inline function log_k(i: i32): v128 {
  return v128.load32_splat(LOGK + (<usize>i << 2));
}

/** ln(x) for each lane, for x positive, normal and finite only (no special values: a NaN comes out finite).
 *  For the hot loops whose argument is known to be such, e.g. 1 + e^-|x| in BCE. */
// @ts-ignore: decorator
@inline export function log_normal(x: v128): v128 {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); f = m - 1
  let e = i32x4.sub(i32x4.shr_u(x, 23), log_k(14));
  const m = v128.or(v128.and(x, log_k(15)), log_k(16)); // [0.5, 1)
  const small = f32x4.lt(m, log_k(9));
  e = i32x4.add(e, small); // small lanes are -1: e - 1, and m doubles below
  const f = f32x4.sub(f32x4.add(m, v128.and(m, small)), log_k(10));
  const z = f32x4.mul(f, f), z4 = f32x4.mul(z, z);
  // ln(1 + f) ~ f - f^2/2 + f^3 * P(f), P of degree 8 evaluated by Estrin's scheme: four dependent
  // steps instead of Horner's nine, so that several vectors' logs overlap
  const r0 = madd(madd(log_k(3), f, log_k(2)), z, madd(log_k(1), f, log_k(0)));
  const r1 = madd(madd(log_k(7), f, log_k(6)), z, madd(log_k(5), f, log_k(4)));
  const p = madd(madd(log_k(8), z4, r1), z4, r0);
  const ef = f32x4.convert_i32x4_s(e);
  let y = f32x4.mul(f32x4.mul(p, f), z);
  y = madd(ef, log_k(12), y);
  y = f32x4.sub(y, f32x4.mul(z, log_k(11)));
  return f32x4.add(f32x4.add(f, y), f32x4.mul(ef, log_k(13)));
}

/** ln(x) for each lane, for x normal, 0, +inf or NaN (subnormal inputs are not supported: the kernels
 *  only take the log of sums of exponentials, which are >= 1). ln(0) = -inf, ln(x < 0) = NaN. */
// @ts-ignore: decorator
@inline export function log_f32x4(x: v128): v128 {
  let y = log_normal(x);
  // special values: 0, +inf, NaN, negative (log_k(17..20): 0, inf, -inf, NaN)
  const zero = log_k(17), nan = log_k(20);
  y = v128.bitselect(log_k(19), y, f32x4.eq(x, zero));
  y = v128.bitselect(x, y, f32x4.eq(x, log_k(18)));
  y = v128.bitselect(nan, y, f32x4.ne(x, x)); // NaN input
  return v128.bitselect(nan, y, f32x4.lt(x, zero));
}

// tanh(y) ~ y + y^3 P(y^2) below |y| = 0.55 (P of degree 3, a relative-error fit: 1.3 ulp), where
// (1 - e) / (1 + e) with e = exp(-2|y|) would lose digits to cancellation; that form above it.
const TANH_SMALL: f32 = 0.55;

const TANHK: usize = memory.data<f32>([0.016437577083706856, -0.05267181247472763, 0.13320724666118622, -0.3333294689655304, TANH_SMALL, -2]);

/** Vector i of tanh's own constant table: its polynomial (0..3), TANH_SMALL, -2 (loaded, as exp_k). */
// @ts-ignore: decorator
@inline export function tanh_k(i: i32): v128 {
  return v128.load32_splat(TANHK + (<usize>i << 2));
}

/** tanh for each lane; NaN stays NaN, +-inf gives +-1. t0..t5: tanh_k(0..5), k0..k8: exp_k(0..8). */
// @ts-ignore: decorator
@inline export function tanh_kk(
  y: v128, t0: v128, t1: v128, t2: v128, t3: v128, t4: v128, t5: v128,
  k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128, k6: v128, k7: v128, k8: v128,
): v128 {
  const u = f32x4.mul(y, y);
  let p = madd(t0, u, t1);
  p = madd(p, u, t2);
  p = madd(p, u, t3);
  let t = madd(f32x4.mul(y, u), p, y);
  const a = f32x4.abs(y);
  const isSmall = f32x4.lt(a, t4);
  if (!v128.all_true<i32>(isSmall)) { // the exp form only when a lane needs it (or is NaN)
    const e = expneg_k(f32x4.mul(a, t5), k0, k1, k2, k3, k4, k5, k6, k7, k8);
    const big = f32x4.div(f32x4.sub(k8, e), f32x4.add(k8, e));
    t = v128.bitselect(t, big, isSmall);
  }
  // tanh is odd: give both forms the sign of y (also turns the polynomial's +0 for -0 into -0):
  // y & -0.0 (the sign bit) is y ^ |y|, which needs no constant
  return v128.or(t, v128.xor(y, a));
}

/** tanh_kk with its constants loaded at the call: for code outside the hot loops. */
// @ts-ignore: decorator
@inline export function tanh_f32x4(y: v128): v128 {
  return tanh_kk(y, tanh_k(0), tanh_k(1), tanh_k(2), tanh_k(3), tanh_k(4), tanh_k(5),
    exp_k(0), exp_k(1), exp_k(2), exp_k(3), exp_k(4), exp_k(5), exp_k(6), exp_k(7), exp_k(8));
}

/** ln(1 + x) for x >= -1, accurate when x is tiny (a sum of exponentials minus its 1): Goldberg's
 *  log(u) x / (u - 1) with u = 1 + x rounded, x itself where u rounds to 1, and log(u) from x = 1 up
 *  (where nothing cancels, and +inf stays +inf). */
// @ts-ignore: decorator
@inline export function log1p_f32x4(x: v128): v128 {
  const one = f32x4.splat(1);
  const u = f32x4.add(one, x);
  const d = f32x4.sub(u, one);
  const l = log_f32x4(u);
  const r = v128.bitselect(x, f32x4.div(f32x4.mul(l, x), d), f32x4.eq(d, f32x4.splat(0)));
  return v128.bitselect(l, r, f32x4.ge(x, one));
}

// @ts-ignore: decorator
@inline export function log1p_f32(x: f32): f32 {
  return f32x4.extract_lane(log1p_f32x4(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator
@inline export function expneg_f32(x: f32): f32 {
  return f32x4.extract_lane(expneg_f32x4(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator
@inline export function log_f32(x: f32): f32 {
  return f32x4.extract_lane(log_f32x4(f32x4.splat(x)), 0);
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum_f32x4(v: v128): f32 {
  const a = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(a, v128.shuffle<f32>(a, a, 1, 0, 3, 2)), 0);
}

/** Maximum of the four lanes; NaN in any lane gives NaN (wasm's f32x4.max propagates NaN). */
// @ts-ignore: decorator
@inline export function hmax_f32x4(v: v128): f32 {
  const a = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.max(a, v128.shuffle<f32>(a, a, 1, 0, 3, 2)), 0);
}

/** Scalar max with the same NaN rule as f32x4.max (Mathf.max also propagates NaN). */
// @ts-ignore: decorator
@inline export function max_f32(a: f32, b: f32): f32 {
  return Mathf.max(a, b);
}
