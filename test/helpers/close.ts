// Elementwise closeness with NaN/inf awareness: |got - want| <= atol + rtol * |want|, where a non-finite
// expectation must be matched exactly (NaN by NaN, +inf by +inf). The failure names the worst index.
import { expect } from 'vitest';

export interface Tolerance {
  rtol: number;
  atol: number;
}

/** Tolerances against a float64 reference for float32 computations, one row per quantity. They are a few
 *  times the worst error measured over the PyTorch fixtures and property runs (README.md, Numerics). */
export const TOL = {
  loss: { rtol: 2e-6, atol: 2e-6 },
  grad: { rtol: 2e-5, atol: 5e-7 },
  logSoftmax: { rtol: 2e-6, atol: 2e-6 },
  softmax: { rtol: 1e-5, atol: 1e-9 },
} satisfies Record<string, Tolerance>;

export interface Mismatch {
  index: number;
  got: number;
  want: number;
  excess: number;
}

/** The element that most exceeds the tolerance, or null when every element is within it. */
export function worstMismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): Mismatch | null {
  let worst: Mismatch | null = null;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    let excess: number;
    if (!Number.isFinite(w)) excess = Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)) ? 0 : Infinity;
    else if (!Number.isFinite(g)) excess = Infinity;
    else excess = Math.abs(g - w) - (tol.atol + tol.rtol * Math.abs(w));
    if (excess > 0 && (!worst || excess > worst.excess)) worst = { index: i, got: g, want: w, excess };
  }
  return worst;
}

export function expectClose(got: ArrayLike<number> | number, want: ArrayLike<number> | number, tol: Tolerance, label = ''): void {
  const g = typeof got === 'number' ? [got] : got;
  const w = typeof want === 'number' ? [want] : want;
  expect(g.length, `${label} length`).toBe(w.length);
  const bad = worstMismatch(g, w, tol);
  if (bad) {
    expect.fail(`${label} [${bad.index}]: got ${bad.got}, want ${bad.want} (rtol ${tol.rtol}, atol ${tol.atol})`);
  }
}

/** The largest relative error max|got - want| / max(|want|, floor) over finite expectations. */
export function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isFinite(want[i])) e = Math.max(e, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), floor));
  }
  return e;
}

/** Bit-for-bit equality of two float arrays (NaN payloads included), naming the first difference.
 *  Much faster than toEqual on large arrays. */
export function expectSameBits(got: Float32Array, want: Float32Array, label = ''): void {
  expect(got.length, `${label} length`).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) expect.fail(`${label} [${i}]: got ${got[i]}, want ${want[i]}`);
  }
}
