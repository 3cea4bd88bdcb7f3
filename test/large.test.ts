// WASM memory past 2 GiB (issue 11, item 1): offsets computed with 32-bit signed arithmetic turn negative
// beyond 2^31 bytes, and a negative index into a typed array counts from its end, so a call whose working
// area lies past 2 GiB overwrote the caller's own arrays at the start of the memory. Also: growth beyond
// what the engine grants (4 GiB) must be a clear RangeError before anything is written.
//
// Needs about 4.5 GiB of RAM and a minute: not part of `npm test` (vitest.config.ts leaves this file out
// unless XENT_LARGE is set); `npm run test:large` builds and runs it. test/large-smoke.test.ts is the
// short variant that `npm test` runs where the memory allows.
import { freemem } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocFloat32, crossEntropy, crossEntropyWithGrad, getBackendInfo, setBackend } from '../src/index.ts';
import type { WasmFloat32Array } from '../src/index.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { rowLogSumExp64 } from './reference/xent64.ts';

const GiB = 2 ** 30;
const N = 1024, C = 262144; // 2^28 logits: 1 GiB
/** The logits, a function of the index (uniform in [-3, 3), the bench's distribution). */
const logit = (i: number) => Math.fround(((Math.imul(i, 2654435761) >>> 0) / 4294967296) * 6 - 3);
const targetOf = (n: number) => (n * 7919) % C;

/** Every bit of the block still 0 (allocFloat32 zero-fills), else the first float that is not. */
function expectBlockZero(block: Float32Array, soft = false): void {
  const u = new Uint32Array(block.buffer, block.byteOffset, block.length);
  let any = 0;
  for (let i = 0; i < u.length; i++) any |= u[i];
  if (any !== 0) {
    let first = -1, count = 0;
    for (let i = 0; i < u.length; i++) if (u[i] !== 0 && count++ === 0) first = i;
    const message = `the block was written: [${first}] = ${block[first]} (${count} floats changed)`;
    if (soft) expect.soft(message).toBe('');
    else expect.fail(message);
  }
}

/** The first element of `a` that differs from logit(i), and how many do (in all, and in [16392, 278535],
 *  where the kernels' weight fill landed before the fix). */
function changedLogits(a: Float32Array): { count: number; first: number; inRange: number } {
  let count = 0, first = -1, inRange = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== logit(i)) {
      if (first < 0) first = i;
      count++;
      if (i >= 16392 && i <= 278535) inRange++;
    }
  }
  return { count, first, inRange };
}

describe('WASM memory past 2 GiB', () => {
  const live: WasmFloat32Array[] = [];
  // asked for explicitly (npm run test:large): too little memory is a failure that says so, not a skip
  beforeAll(() => expect(freemem(), 'free memory: npm run test:large needs about 4.5 GiB').toBeGreaterThan(4.5 * GiB));
  afterAll(() => live.splice(0).forEach((b) => b.free()));

  it('a 2^29-float block (2 GiB), then a 3-logit crossEntropy: right, and the block untouched', () => {
    setBackend('wasm');
    const block = allocFloat32(2 ** 29);
    try {
      expect(getBackendInfo().wasmMemoryBytes).toBeGreaterThan(2 * GiB);
      const x = { data: Float32Array.of(1, 2, 3), shape: [3] };
      let loss: unknown, error: unknown;
      try {
        loss = crossEntropy(x, 1);
      } catch (e) {
        error = e;
      }
      expectBlockZero(block.data, true);
      expect(error, 'crossEntropy threw').toBeUndefined();
      expectClose(loss as number, Math.fround(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 2), TOL.loss, 'loss');
    } finally {
      block.free();
    }
  }, 120_000);

  it('1024 x 262144 logits and their gradient in two 1 GiB blocks: no throw, logits unchanged, loss and gradient right', () => {
    setBackend('wasm');
    const a = allocFloat32(N * C), g = allocFloat32(N * C);
    live.push(a, g);
    const x = a.data;
    for (let i = 0; i < x.length; i++) x[i] = logit(i);
    const t = Int32Array.from({ length: N }, (_, n) => targetOf(n));
    let result: ReturnType<typeof crossEntropyWithGrad> | undefined, error: unknown;
    try {
      result = crossEntropyWithGrad({ data: a.data, shape: [N, C] }, t, { out: g.data });
    } catch (e) {
      error = e;
    }
    expect.soft(changedLogits(a.data), 'logits changed by the call').toEqual({ count: 0, first: -1, inRange: 0 });
    expect(error, 'crossEntropyWithGrad threw').toBeUndefined();
    // the mean loss against float64, and whole gradient rows
    const lse = new Float64Array(N);
    let total = 0;
    for (let n = 0; n < N; n++) {
      lse[n] = rowLogSumExp64(a.data.subarray(n * C, (n + 1) * C));
      total += lse[n] - logit(n * C + targetOf(n));
    }
    expectClose(result!.loss as number, Math.fround(total / N), TOL.loss, 'mean loss');
    const grad = g.data;
    expect(result!.grad.byteOffset).toBe(grad.byteOffset);
    for (const n of [0, 1, 511, 1022, 1023]) {
      const want = Array.from({ length: C }, (_, c) => Math.fround((Math.exp(logit(n * C + c) - lse[n]) - (c === targetOf(n) ? 1 : 0)) / N));
      expectClose(grad.subarray(n * C, (n + 1) * C), want, TOL.grad, `grad row ${n}`);
    }
  }, 300_000);

  it('growth beyond what the engine grants (4 GiB) is a RangeError, before anything is written', () => {
    setBackend('wasm');
    // the two 1 GiB blocks of the previous test are still live; fill the memory up to a few pages of 4 GiB
    let third: WasmFloat32Array | undefined;
    expect(() => { third = allocFloat32(N * C); }, 'a third 1 GiB block, starting past 2 GiB').not.toThrow();
    live.push(third!);
    const have = getBackendInfo().wasmMemoryBytes!;
    const rest = Math.floor((4 * GiB - have) / 4) - 64 * 1024; // leave 256 KiB
    const fourth = allocFloat32(rest);
    live.push(fourth);
    fourth.data[0] = 7;
    fourth.data[rest - 1] = 7;
    const before = getBackendInfo().wasmMemoryBytes;
    // an allocation the engine cannot grant is a RangeError
    expect(() => allocFloat32(GiB / 4)).toThrow(RangeError);
    // a call that must copy rows of 1 MiB in: the memory cannot grow to hold even one
    const big = { data: new Float32Array(2 * C).fill(0.5), shape: [2, C] };
    const out = new Float32Array(2 * C).fill(-1);
    let thrown: unknown;
    try {
      crossEntropyWithGrad(big, new Int32Array(2), { out });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as Error).message).toMatch(/memory/i);
    expect(out.every((v) => v === -1), 'out was written').toBe(true);
    expect(getBackendInfo().wasmMemoryBytes).toBe(before);
    expect([fourth.data[0], fourth.data[rest - 1]]).toEqual([7, 7]);
    expect(changedLogits(live[0].data).count, 'the logits block changed').toBe(0);
    // and a small call still works
    expectClose(crossEntropy({ data: Float32Array.of(1, 2, 3), shape: [3] }, 1) as number, Math.fround(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 2), TOL.loss, 'after');
  }, 300_000);
});
