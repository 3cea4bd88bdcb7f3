// Test-only entry (build/testing.wasm, never shipped): the vector math mapped over arrays, so that the
// tests can sweep expneg_f32x4 and log_f32x4 against Math.exp and Math.log, and the exp-and-sum
// loop that the bench uses as the measured ceiling for logsumexp.
import { expneg_f32x4, expneg_k, exp_k, hsum_f32x4, log_f32x4, tanh_f32x4 } from "./vmath";
export { half_to_f32 } from "./layout";

export function heap_base(): usize {
  return __heap_base;
}

/** out[i] = exp(x[i]) for x[i] <= 0 (the kernels' fast exp), n a multiple of 4. */
export function expneg_map_f32(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), expneg_f32x4(v128.load(x + (<usize>i << 2))));
}

/** out[i] = log(x[i]) for i < n, n a multiple of 4. */
export function log_map_f32(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), log_f32x4(v128.load(x + (<usize>i << 2))));
}

/** sum of exp(x[i]) over n floats (n a multiple of 16, x <= 88): the bench's ceiling for logsumexp, the
 *  cheapest loop that exponentiates and sums every float once. It walks 1024-float blocks twice, a plain
 *  load pass that brings the block into L1 (a single streaming exp loop is three times slower on data
 *  in DRAM: its loads wait behind the exp work), then the exp pass with four accumulators, exp's constants
 *  in locals as in the kernels (vmath.ts). */
export function exp_sum_f32(x: usize, n: i32): f32 {
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8);
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, touch = a0;
  for (let j = 0; j < n; j += 1024) {
    const end = min(n, j + 1024);
    for (let i = j; i < end; i += 16) touch = f32x4.add(touch, v128.load(x + (<usize>i << 2)));
    for (let i = j; i < end; i += 16) {
      const p = x + (<usize>i << 2);
      a0 = f32x4.add(a0, expneg_k(v128.load(p), k0, k1, k2, k3, k4, k5, k6, k7, k8));
      a1 = f32x4.add(a1, expneg_k(v128.load(p, 16), k0, k1, k2, k3, k4, k5, k6, k7, k8));
      a2 = f32x4.add(a2, expneg_k(v128.load(p, 32), k0, k1, k2, k3, k4, k5, k6, k7, k8));
      a3 = f32x4.add(a3, expneg_k(v128.load(p, 48), k0, k1, k2, k3, k4, k5, k6, k7, k8));
    }
  }
  // touch * 0 keeps the load pass alive without changing the sum (unless the data holds inf or NaN)
  return hsum_f32x4(f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.mul(touch, f32x4.splat(0))));
}

/** out[i] = tanh(x[i]) for i < n, n a multiple of 4. */
export function tanh_map_f32(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), tanh_f32x4(v128.load(x + (<usize>i << 2))));
}
