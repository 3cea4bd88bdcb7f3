// Vector math on f32x4: exp, log and horizontal reductions.
//
// exp and log follow the classic Cephes scheme (range reduction to a small interval, then a short
// polynomial), which is accurate to about 1 ulp in f32. Scalar callers (row tails, per-row statistics)
// use exp_f32/log_f32, which run the very same vector code on lane 0, so a tail element rounds exactly
// like a body element.

// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 in [-ln2/2, ln2/2].
// ln2 is split in two so that n*LN2_HI is exact for |n| <= 128.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// ln(2^-126): below it the result would be subnormal; we flush it to 0 (softmax terms that small do not
// change any sum or loss at f32 precision).
const EXP_MIN: f32 = -87.33654475;
// Largest argument handled exactly; beyond ln(FLT_MAX) the result is +inf. The kernels only call exp on
// x - rowmax <= 0, so the saturating band (88, 88.72] is never reached in practice.
const EXP_MAX: f32 = 88.0;
const EXP_OVERFLOW: f32 = 88.72283906;

/** e^x for each lane. NaN stays NaN, -inf gives 0, +inf gives +inf. */
// @ts-ignore: decorator
@inline export function exp_f32x4(x: v128): v128 {
  const xc = f32x4.min(f32x4.max(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX)); // NaN passes through
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  // exp(r) ~ 1 + r + r^2 * P(r), P of degree 5 (Cephes expf coefficients)
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  // 2^n built directly in the exponent field; n is in [-126, 127] after the clamp
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  let y = f32x4.mul(p, scale);
  y = v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, f32x4.splat(EXP_MIN)));
  y = v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, f32x4.splat(EXP_OVERFLOW)));
  return y;
}

const SQRT_HALF: f32 = 0.707106781186547524;

/** ln(x) for each lane, for x normal, 0, +inf or NaN (subnormal inputs are not supported: the kernels
 *  only take the log of sums of exponentials, which are >= 1). ln(0) = -inf, ln(x < 0) = NaN. */
// @ts-ignore: decorator
@inline export function log_f32x4(x: v128): v128 {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); f = m - 1
  let e = i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(126));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const small = f32x4.lt(m, f32x4.splat(SQRT_HALF));
  e = i32x4.add(e, small); // small lanes are -1: e - 1, and m doubles below
  const f = f32x4.sub(f32x4.add(m, v128.and(m, small)), f32x4.splat(1.0));
  const z = f32x4.mul(f, f);
  // ln(1 + f) ~ f - f^2/2 + f^3 * P(f), P of degree 8 (Cephes logf coefficients)
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(3.3333331174e-1));
  const ef = f32x4.convert_i32x4_s(e);
  let y = f32x4.mul(f32x4.mul(p, f), z);
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  y = f32x4.add(f32x4.add(f, y), f32x4.mul(ef, f32x4.splat(LN2_HI)));
  // special values
  y = v128.bitselect(f32x4.splat(-Infinity), y, f32x4.eq(x, f32x4.splat(0)));
  y = v128.bitselect(x, y, f32x4.eq(x, f32x4.splat(Infinity)));
  y = v128.bitselect(f32x4.splat(NaN), y, f32x4.ne(x, x)); // NaN input
  y = v128.bitselect(f32x4.splat(NaN), y, f32x4.lt(x, f32x4.splat(0)));
  return y;
}

// @ts-ignore: decorator
@inline export function exp_f32(x: f32): f32 {
  return f32x4.extract_lane(exp_f32x4(f32x4.splat(x)), 0);
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
