// Logit soft-capping (Gemma 2): x' = c tanh(x s / c), s = 1 / temperature, applied to a chunk before the
// cross-entropy kernel, and its chain rule applied to the gradient after. Both passes run on a chunk
// that is still in L2; the cap costs one tanh per logit. The chunk's last, partial vector runs the same
// vector code (only its valid lanes stored), so an element's result does not depend on where it sits.
import { tanh_kk, tanh_k, exp_k } from "./vmath";
import { store_part } from "./blocks";

/** g s (1 - (xs / c)^2), xs the capped logit: the gradient through the cap. */
// @ts-ignore: decorator
@inline function through_cap(g: v128, xs: v128, inv: v128, sv: v128, one: v128): v128 {
  const t = f32x4.mul(xs, inv);
  return f32x4.mul(g, f32x4.mul(sv, f32x4.sub(one, f32x4.mul(t, t))));
}

/** dst[i] = c * tanh(src[i] * s / c) for i < n. Reads whole vectors (12 bytes past n). */
export function softcap_f32(src: usize, dst: usize, n: i32, c: f32, s: f32): void {
  // s / c rounds to 0 only for an enormous temperature: the least subnormal keeps -inf at -c (not NaN)
  const k = f32x4.splat(max(s / c, reinterpret<f32>(1))), cv = f32x4.splat(c);
  // tanh's and exp's constants, loaded before the loop (vmath.ts: V8 >= 12 re-materialises inline
  // v128.consts inside it)
  const t0 = tanh_k(0), t1 = tanh_k(1), t2 = tanh_k(2), t3 = tanh_k(3), t4 = tanh_k(4), t5 = tanh_k(5);
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = f32x4.mul(cv, tanh_kk(f32x4.mul(v128.load(src + o), k), t0, t1, t2, t3, t4, t5, k0, k1, k2, k3, k4, k5, k6, k7, k8));
    if (i + 4 <= n) v128.store(dst + o, v);
    else store_part(dst + o, v, n - i);
  }
}

/** g[i] *= s * (1 - (xs[i] / c)^2) for i < n, xs the capped logits: d xs / d x. Reads whole vectors. */
export function softcap_grad_f32(xs: usize, g: usize, n: i32, c: f32, s: f32): void {
  const inv = f32x4.splat(1 / c), sv = f32x4.splat(s), one = exp_k(8); // 1, loaded (vmath.ts)
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(g + o, through_cap(v128.load(g + o), v128.load(xs + o), inv, sv, one));
  }
  if (i < n) {
    const o = <usize>i << 2;
    store_part(g + o, through_cap(v128.load(g + o), v128.load(xs + o), inv, sv, one), n - i);
  }
}
