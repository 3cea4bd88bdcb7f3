// Logit soft-capping (Gemma 2): x' = c tanh(x s / c), s = 1 / temperature, applied to a chunk before the
// cross-entropy kernel, and its chain rule applied to the gradient after. Both passes run on a chunk
// that is still in L2; the cap costs one tanh per logit. The chunk's last, partial vector runs the same
// vector code (only its valid lanes stored), so an element's result does not depend on where it sits.
import { tanh_f32x4 } from "./vmath";
import { store_part } from "./blocks";

/** c tanh(x k), k = s / c. */
// @ts-ignore: decorator
@inline function capped(x: v128, k: v128, cv: v128): v128 {
  return f32x4.mul(cv, tanh_f32x4(f32x4.mul(x, k)));
}

/** g s (1 - (xs / c)^2), xs the capped logit: the gradient through the cap. */
// @ts-ignore: decorator
@inline function through_cap(g: v128, xs: v128, inv: v128, sv: v128): v128 {
  const t = f32x4.mul(xs, inv);
  return f32x4.mul(g, f32x4.mul(sv, f32x4.sub(f32x4.splat(1), f32x4.mul(t, t))));
}

/** dst[i] = c * tanh(src[i] * s / c) for i < n. Reads whole vectors (12 bytes past n). */
export function softcap_f32(src: usize, dst: usize, n: i32, c: f32, s: f32): void {
  // s / c rounds to 0 only for an enormous temperature: the least subnormal keeps -inf at -c (not NaN)
  const k = f32x4.splat(max(s / c, reinterpret<f32>(1))), cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, capped(v128.load(src + o), k, cv));
  }
  if (i < n) store_part(dst + (<usize>i << 2), capped(v128.load(src + (<usize>i << 2)), k, cv), n - i);
}

/** g[i] *= s * (1 - (xs[i] / c)^2) for i < n, xs the capped logits: d xs / d x. Reads whole vectors. */
export function softcap_grad_f32(xs: usize, g: usize, n: i32, c: f32, s: f32): void {
  const inv = f32x4.splat(1 / c), sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(g + o, through_cap(v128.load(g + o), v128.load(xs + o), inv, sv));
  }
  if (i < n) {
    const o = <usize>i << 2;
    store_part(g + o, through_cap(v128.load(g + o), v128.load(xs + o), inv, sv), n - i);
  }
}
