import { beforeEach, expect } from 'vitest';
import { getBackend, getBackendInfo, setBackend } from '../../src/index.ts';
import { hasRelaxedSimd } from '../../src/backend/wasm/module.ts';

/** Whether this engine runs the relaxed-SIMD build (Node 24+; Node 20 only with --experimental-wasm-relaxed-simd). */
export const RELAXED = hasRelaxedSimd();

/**
 * The backends every describe.each(BACKENDS) suite runs on: 'wasm' is the baseline SIMD build (forced with
 * { relaxed: false }), 'wasm-relaxed' the relaxed-SIMD build, present only where the engine has relaxed
 * SIMD (test/builds.test.ts shows the skip where it has not), and 'js'.
 */
export const BACKENDS = (RELAXED ? ['wasm', 'wasm-relaxed', 'js'] : ['wasm', 'js']) as readonly Backend[];
export type Backend = 'wasm' | 'wasm-relaxed' | 'js';

/** The wasm backends of BACKENDS. */
export const WASM_BACKENDS = BACKENDS.filter((b) => b !== 'js');

/** True for both wasm builds. */
export function isWasm(b: Backend): boolean {
  return b !== 'js';
}

/** setBackend for a test backend: 'wasm' forces the baseline build, 'wasm-relaxed' asks for the relaxed one. */
export function selectBackend(b: Backend): void {
  if (b === 'js') setBackend('js');
  else setBackend('wasm', { relaxed: b === 'wasm-relaxed' });
}

/** Inside a describe block: every test runs on backend `b`, and checks that it really does. */
export function useBackend(b: Backend): void {
  beforeEach(() => {
    selectBackend(b);
    expect(getBackend()).toBe(isWasm(b) ? 'wasm' : 'js');
    if (isWasm(b)) expect(getBackendInfo().build).toBe(b === 'wasm-relaxed' ? 'relaxed-simd' : 'simd');
  });
}
