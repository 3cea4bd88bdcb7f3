// Logit soft-capping (Gemma 2): x' = c tanh(x s / c), s = 1 / temperature, applied to a chunk before the
// cross-entropy kernel, and its chain rule applied to the gradient after. Both passes run on a chunk
// that is still in L2; the cap costs one tanh per logit.
import { tanh_f32x4 } from "./vmath";

/** dst[i] = c * tanh(src[i] * s / c) for i < n. Reads whole vectors (12 bytes past n). */
export function softcap_f32(src: usize, dst: usize, n: i32, c: f32, s: f32): void {
  // s / c rounds to 0 only for an enormous temperature: the least subnormal keeps -inf at -c (not NaN)
  const k = f32x4.splat(max(s / c, reinterpret<f32>(1))), cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.mul(cv, tanh_f32x4(f32x4.mul(v128.load(src + o), k))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, c * f32x4.extract_lane(tanh_f32x4(f32x4.splat(load<f32>(src + o) * (s / c))), 0));
  }
}

/** g[i] *= s * (1 - (xs[i] / c)^2) for i < n, xs the capped logits: d xs / d x. */
export function softcap_grad_f32(xs: usize, g: usize, n: i32, c: f32, s: f32): void {
  const inv = f32x4.splat(1 / c), sv = f32x4.splat(s), one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const t = f32x4.mul(v128.load(xs + o), inv);
    v128.store(g + o, f32x4.mul(v128.load(g + o), f32x4.mul(sv, f32x4.sub(one, f32x4.mul(t, t)))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const t = load<f32>(xs + o) / c;
    store<f32>(g + o, load<f32>(g + o) * (s * (1 - t * t)));
  }
}
