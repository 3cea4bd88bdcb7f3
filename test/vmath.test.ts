// The vector exp and log of assembly/vmath.ts (compiled alone into build/testing.wasm by
// `npm run asbuild:testing`) against Math.exp / Math.log. Node only: it reads the module from disk
// (the browser run covers the same kernels through the parity suites).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RELAXED } from './helpers/backends.ts';

// both builds where the engine has relaxed SIMD: build/testing-relaxed.wasm is the same code with fused
// multiply-adds in the polynomials, and must meet the same ulp bounds
const MODULES = RELAXED ? ['testing.wasm', 'testing-relaxed.wasm'] : ['testing.wasm'];

describe.each(MODULES)('vector exp and log (build/%s) against Math.exp / Math.log', (file) => {
  const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL(`../build/${file}`, import.meta.url))), {});
  const ex = wasm.exports as unknown as {
    memory: WebAssembly.Memory; heap_base(): number;
    expneg_map_f32(x: number, out: number, n: number): void; tanh_map_f32(x: number, out: number, n: number): void; half_to_f32(src: number, dst: number, n: number, kind: number): void; log_map_f32(x: number, out: number, n: number): void;
  };
  const n = 1 << 18;
  const xp = (ex.heap_base() + 15) & ~15, op = xp + 4 * n;
  if (ex.memory.buffer.byteLength < op + 4 * n) ex.memory.grow(Math.ceil((op + 4 * n - ex.memory.buffer.byteLength) / 65536));

  /** Distance in units in the last place between two f32 values (via their ordered bit patterns). */
  function ulps(a: number, b: number): number {
    const bits = new Int32Array(Float32Array.of(a, b).buffer);
    const ord = (i: number) => (i < 0 ? -(i & 0x7fffffff) : i);
    return Math.abs(ord(bits[0]) - ord(bits[1]));
  }

  function sweep(fn: 'expneg_map_f32' | 'log_map_f32' | 'tanh_map_f32', xs: (i: number) => number, ref: (x: number) => number): number {
    const f = new Float32Array(ex.memory.buffer);
    for (let i = 0; i < n; i++) f[(xp >> 2) + i] = xs(i);
    ex[fn](xp, op, n);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, ulps(f[(op >> 2) + i], Math.fround(ref(f[(xp >> 2) + i]))));
    return worst;
  }

  it('exp of x <= 0 is within 2.5e-7 + 8e-8|x| relative (4 ulp on [-1, 0]) and exact at the special values', () => {
    // a relative bound rather than ulps: the base-2 range reduction rounds y = x log2(e), an error that
    // grows with |x| (terms far below the row max, which barely move any sum)
    const relErr = (lo: number, hi: number) => {
      const f = new Float32Array(ex.memory.buffer);
      for (let i = 0; i < n; i++) f[(xp >> 2) + i] = lo + ((hi - lo) * i) / n;
      ex.expneg_map_f32(xp, op, n);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const x = f[(xp >> 2) + i];
        const want = Math.exp(x);
        if (want >= 2 ** -126) worst = Math.max(worst, Math.abs(f[(op >> 2) + i] - want) / want / (2.5e-7 + 8e-8 * Math.abs(x)));
      }
      return worst;
    };
    expect(relErr(-87.3, 0)).toBeLessThanOrEqual(1);
    expect(relErr(-1, 0)).toBeLessThanOrEqual(1);
    expect(sweep("expneg_map_f32", (i) => -i / n, Math.exp)).toBeLessThanOrEqual(4);
    const f = new Float32Array(ex.memory.buffer);
    f.set([0, -Infinity, NaN, -88, -100, -1e30, -0, -1e-30], xp >> 2);
    ex.expneg_map_f32(xp, op, 8);
    expect(Array.from(f.subarray(op >> 2, (op >> 2) + 8))).toEqual([1, 0, NaN, 0, 0, 0, 1, 1]);
  });

  it('log is within 1 ulp over [1e-30, 1e30] and exact at the special values', () => {
    expect(sweep('log_map_f32', (i) => 10 ** (-30 + (60 * i) / n), Math.log)).toBeLessThanOrEqual(1);
    expect(sweep('log_map_f32', (i) => 1 + (1e5 * i) / n, Math.log)).toBeLessThanOrEqual(1);
    const f = new Float32Array(ex.memory.buffer);
    f.set([1, 0, Infinity, NaN, -1, Math.E, 0, 0], xp >> 2);
    ex.log_map_f32(xp, op, 8);
    const got = Array.from(f.subarray(op >> 2, (op >> 2) + 6));
    expect(got.slice(0, 5)).toEqual([0, -Infinity, Infinity, NaN, NaN]);
    expect(ulps(got[5], 1)).toBeLessThanOrEqual(1);
  });
  it('tanh is within 2 ulp (the polynomial below 0.55, the exp form above) and exact at the special values', () => {
    expect(sweep('tanh_map_f32', (i) => -0.6 + (1.2 * i) / n, Math.tanh)).toBeLessThanOrEqual(2);
    expect(sweep('tanh_map_f32', (i) => -12 + (24 * i) / n, Math.tanh)).toBeLessThanOrEqual(2);
    expect(sweep('tanh_map_f32', (i) => 1e-7 + (1e-3 * i) / n, Math.tanh)).toBeLessThanOrEqual(2);
    const f = new Float32Array(ex.memory.buffer);
    f.set([0, -0, Infinity, -Infinity, NaN, 1e-30, 50, -50], xp >> 2);
    ex.tanh_map_f32(xp, op, 8);
    expect(Array.from(f.subarray(op >> 2, (op >> 2) + 8))).toEqual([0, -0, 1, -1, NaN, Math.fround(1e-30), 1, -1]);
  });
  it('half_to_f32 widens every float16 and bfloat16 bit pattern exactly, and writes no further than n', () => {
    const f16 = (h: number) => {
      const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
      return e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
    };
    const count = 65536 - 3; // not a multiple of 8: the partial last group
    for (const kind of [1, 2]) {
      new Uint16Array(ex.memory.buffer, xp, 65536).forEach((_, i, a) => (a[i] = i));
      const out = new Float32Array(ex.memory.buffer, op, 65536);
      out.fill(7);
      ex.half_to_f32(xp, op, count, kind);
      const bits = new Uint32Array(ex.memory.buffer, op, 65536);
      for (let h = 0; h < count; h++) {
        if (kind === 1) expect(Object.is(out[h], Math.fround(f16(h))) || (Number.isNaN(out[h]) && Number.isNaN(f16(h)))).toBe(true);
        else expect(bits[h]).toBe((h << 16) >>> 0);
      }
      expect(Array.from(out.subarray(count, count + 3))).toEqual([7, 7, 7]);
    }
  });
});
