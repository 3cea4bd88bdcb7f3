// Test-only entry (build/testing.wasm, never shipped): the vector math mapped over arrays, so that the
// tests can sweep exp_f32x4 and log_f32x4 against Math.exp and Math.log in ulps.
import { exp_f32x4, log_f32x4 } from "./vmath";

export function heap_base(): usize {
  return __heap_base;
}

/** out[i] = exp(x[i]) for i < n, n a multiple of 4. */
export function exp_map_f32(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), exp_f32x4(v128.load(x + (<usize>i << 2))));
}

/** out[i] = log(x[i]) for i < n, n a multiple of 4. */
export function log_map_f32(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), log_f32x4(v128.load(x + (<usize>i << 2))));
}
