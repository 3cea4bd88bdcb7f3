// The contract of a refusal: the right error class and message, before any work (the WASM heap has not
// grown), and the next call still right.
import { expect } from 'vitest';
import { crossEntropy, getBackendInfo } from '../../src/index.ts';
import { expectClose, TOL } from './close.ts';
import { crossEntropy64 } from '../reference/ce64.ts';

export const x6 = { data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i) * 3), shape: [6, 3] };
export const t6 = [0, 1, 2, 0, 1, 2];

export function expectRefused(call: () => unknown, error: typeof TypeError | typeof RangeError, message: string | RegExp): void {
  const before = getBackendInfo().wasmMemoryBytes;
  let thrown: unknown;
  try {
    call();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(error);
  if (typeof message === 'string') expect((thrown as Error).message).toContain(message);
  else expect((thrown as Error).message).toMatch(message);
  expect(getBackendInfo().wasmMemoryBytes).toBe(before);
  expectClose(crossEntropy(x6, t6) as number, crossEntropy64(x6.data, x6.shape, t6, true) as number, TOL.loss, 'the next call');
}
