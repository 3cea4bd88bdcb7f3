// The short variant of test/large.test.ts that `npm test` runs: one 2 GiB allocFloat32 block, so that the
// per-call working area starts past 2^31 bytes, then a 3-logit crossEntropy, which must be right and must
// not write into the block (before the fix its class weights landed inside it, at a negative offset that a
// typed array counts from its end). It takes 5 to 10 s and 2 GiB of RAM (the block is zero-filled, so every
// page is touched), hence the condition: it runs where the machine has 3 GiB free, or when XENT_LARGE_SMOKE=1
// asks for it; XENT_LARGE_SMOKE=0 turns it off. The 1 GiB x 2 case with its float64 reference needs 4.5 GiB
// and a minute, which is too much for every `npm test`: it stays in test/large.test.ts (npm run test:large).
import { freemem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { allocFloat32, crossEntropy, crossEntropyWithGrad, getBackendInfo, setBackend } from '../src/index.ts';
import { expectClose, TOL } from './helpers/close.ts';

const GiB = 2 ** 30;
const wanted = process.env.XENT_LARGE_SMOKE;
const run = wanted === '1' || (wanted !== '0' && freemem() >= 3 * GiB);

describe.runIf(run)('a call with 2 GiB of WASM memory in use', () => {
  it('a 2^29-float block, then a 3-logit crossEntropy: right, and the block untouched', () => {
    setBackend('wasm');
    const block = allocFloat32(2 ** 29);
    try {
      expect(getBackendInfo().wasmMemoryBytes).toBeGreaterThan(2 * GiB);
      const x = { data: Float32Array.of(1, 2, 3), shape: [3] };
      const want = Math.fround(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 2);
      const attempt = (f: () => unknown) => {
        try {
          return { value: f() };
        } catch (e) {
          return { error: String(e) };
        }
      };
      const loss = attempt(() => crossEntropy(x, 1));
      const withGrad = attempt(() => crossEntropyWithGrad(x, 1, { labelSmoothing: 0.1 }).grad.length);
      // every bit of the block is still 0 (allocFloat32 zero-fills)
      const u = new Uint32Array(block.data.buffer, block.data.byteOffset, block.length);
      let any = 0;
      for (let i = 0; i < u.length; i++) any |= u[i];
      let first = -1, count = 0;
      if (any !== 0) for (let i = 0; i < u.length; i++) if (u[i] !== 0 && count++ === 0) first = i;
      expect.soft(first < 0 ? 'untouched' : `written: [${first}] = ${block.data[first]}, ${count} floats changed`, 'the block').toBe('untouched');
      expect.soft(loss.error, 'crossEntropy threw').toBeUndefined();
      expect.soft(withGrad.error, 'crossEntropyWithGrad threw').toBeUndefined();
      if (loss.value !== undefined) expectClose(loss.value as number, want, TOL.loss, 'loss');
      if (withGrad.value !== undefined) expect(withGrad.value).toBe(3);
    } finally {
      block.free();
    }
  }, 60_000);
});
