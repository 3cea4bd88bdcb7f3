// createPool from the built package (dist/: the workers load dist/pool-worker.js), on Node's worker_threads
// in npm test and on module Workers in Chromium (npm run test:browser):
// every compute function through the pool gives the synchronous call's result, bit for bit, on 1 to 4
// workers; calls in flight complete in order; errors reject with the sync API's class and message; a
// caller's `out` receives the result; close() ends it; tensor-likes with getters are read on this side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as xent from '../dist/index.js';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';

type Pool = Awaited<ReturnType<typeof xent.createPool>>;
const POOL_FUNCTIONS = [
  'crossEntropy', 'crossEntropyWithGrad', 'nllLoss', 'nllLossWithGrad', 'logSoftmax', 'softmax', 'softmin', 'logSumExp',
  'logSoftmaxBackward', 'softmaxBackward', 'logSumExpBackward', 'tokenLogProbs', 'tokenStats', 'perplexity',
  'continuationLogProb', 'causalLMLoss', 'causalLMLossWithGrad', 'binaryCrossEntropyWithLogits',
  'binaryCrossEntropyWithLogitsWithGrad', 'klDiv', 'klDivWithGrad', 'distillationLoss', 'distillationLossWithGrad',
] as const;

const rand = rng(16);
const N = 6, C = 11;
const x = { data: randomLogits(rand, N * C, 3), shape: [N, C] };
const t = { data: randomLogits(rand, N * C, 3), shape: [N, C] };
const ids = randomIndices(rand, N, C);
const seq = { data: x.data, shape: [2, 3, C] }, seqIds = { data: ids, shape: [2, 3] };
const logp = { data: xent.logSoftmax(x), shape: [N, C] }, probs = { data: xent.softmax(x), shape: [N, C] };
const g = { data: randomLogits(rand, N * C, 1), shape: [N, C] }, gl = { data: randomLogits(rand, N, 1), shape: [N] };
const y01 = { data: probs.data, shape: [N, C] };

/** One call of each function, with options that exercise it. */
const CALLS: Record<(typeof POOL_FUNCTIONS)[number], unknown[]> = {
  crossEntropy: [x, ids, { labelSmoothing: 0.1 }],
  crossEntropyWithGrad: [x, ids, { reduction: 'sum', zLoss: 1e-4 }],
  nllLoss: [logp, ids],
  nllLossWithGrad: [logp, ids, { reduction: 'none' }],
  logSoftmax: [x, { dim: 0 }],
  softmax: [x],
  softmin: [x],
  logSumExp: [x],
  logSoftmaxBackward: [g, logp],
  softmaxBackward: [g, probs],
  logSumExpBackward: [gl, x],
  tokenLogProbs: [seq, seqIds, { shift: true }],
  tokenStats: [seq, seqIds],
  perplexity: [seq, seqIds],
  continuationLogProb: [seq, seqIds, { start: [1, 2] }],
  causalLMLoss: [seq, seqIds],
  causalLMLossWithGrad: [seq, seqIds, { temperature: 2 }],
  binaryCrossEntropyWithLogits: [x, y01],
  binaryCrossEntropyWithLogitsWithGrad: [x, y01, { reduction: 'none' }],
  klDiv: [logp, probs, { reduction: 'batchmean' }],
  klDivWithGrad: [logp, probs],
  distillationLoss: [x, t, { temperature: 2, beta: 0.5 }],
  distillationLossWithGrad: [x, t, { labels: ids, alpha: 0.5 }],
};

const sync = (fn: string, args: unknown[]) => (xent as unknown as Record<string, (...a: unknown[]) => unknown>)[fn](...args);

describe('createPool', () => {
  let pool: Pool;
  beforeAll(async () => { pool = await xent.createPool({ workers: 2 }); });
  afterAll(async () => { await pool.close(); });

  it('runs every compute function, with the synchronous result bit for bit', async () => {
    const computing = Object.entries(xent).filter(([, v]) => typeof v === 'function').map(([k]) => k)
      .filter((k) => !['diagnose', 'setDiagnosticsHandler', 'XentCheckError', 'init', 'getBackend', 'setBackend', 'getBackendInfo', 'setWasmMemoryLimit', 'allocFloat32', 'createPool'].includes(k));
    expect([...POOL_FUNCTIONS].sort()).toEqual(computing.sort());
    for (const fn of POOL_FUNCTIONS) {
      const got = await (pool as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[fn](...CALLS[fn]);
      expect(got, fn).toEqual(sync(fn, CALLS[fn]));
    }
  });

  it('gives the same bits on 1 to 4 workers, and with many calls in flight, in the order they were made', async () => {
    const want = xent.crossEntropyWithGrad(x, ids, { reduction: 'none' });
    for (const workers of [1, 3, 4]) {
      const p = await xent.createPool({ workers });
      expect(p.workers).toBe(workers);
      const order: number[] = [];
      const calls = Array.from({ length: 40 }, (_, i) => p.crossEntropyWithGrad(x, ids, { reduction: 'none' }).then((r) => { order.push(i); return r; }));
      for (const r of await Promise.all(calls)) expect(r).toEqual(want);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      await p.close();
    }
  });

  it('fills the caller\'s out, and reads tensor-likes (getters) on the calling side', async () => {
    const out = new Float32Array(N * C);
    const r = await pool.crossEntropyWithGrad(x, ids, { out });
    expect(r.grad).toBe(out);
    expect(out).toEqual(xent.crossEntropyWithGrad(x, ids).grad);
    const lse = new Float32Array(N);
    expect(await pool.logSumExp(x, { out: lse })).toBe(lse);
    class OrtLike { constructor(private d: Float32Array) {} get data() { return this.d; } get dims() { return [N, C]; } get type() { return 'float32'; } }
    expect(await pool.crossEntropy(new OrtLike(x.data) as never, ids)).toBe(xent.crossEntropy(x, ids));
  });

  it('reuses the buffers it moves (arguments, outputs) without mixing calls up', async () => {
    const out = new Float32Array(N * C);
    for (let k = 0; k < 12; k++) {
      const xk = { data: randomLogits(rand, N * C, 3), shape: [N, C] }, tk = randomIndices(rand, N, C);
      const r = await pool.crossEntropyWithGrad(xk, tk, { out, reduction: k % 2 ? 'sum' : 'mean' });
      expect(r.grad).toBe(out);
      expect(r).toEqual({ ...xent.crossEntropyWithGrad(xk, tk, { reduction: k % 2 ? 'sum' : 'mean' }), grad: out });
      expect(out).toEqual(xent.crossEntropyWithGrad(xk, tk, { reduction: k % 2 ? 'sum' : 'mean' }).grad);
    }
  });

  it('rejects with the synchronous API\'s error, and the next call is unchanged', async () => {
    for (const args of [[x, [0, 1, 2, 3, 4, 11]], [x, ids, { reduction: 'avg' }], ['logits', ids]] as unknown[][]) {
      let want: Error | undefined;
      try { sync('crossEntropy', args); } catch (e) { want = e as Error; }
      await expect(pool.crossEntropy(...(args as Parameters<typeof xent.crossEntropy>))).rejects.toThrow(want!.constructor as ErrorConstructor);
      await expect(pool.crossEntropy(...(args as Parameters<typeof xent.crossEntropy>))).rejects.toThrow(want!.message);
    }
    expect(await pool.crossEntropy(x, ids)).toBe(xent.crossEntropy(x, ids));
  });

  it('refuses a bad worker count, and calls after close() reject', async () => {
    await expect(xent.createPool({ workers: 0 })).rejects.toThrow(RangeError);
    await expect(xent.createPool({ workers: 1.5 })).rejects.toThrow(TypeError);
    const p = await xent.createPool({ workers: 1 });
    await p.close();
    await expect(p.softmax(x)).rejects.toThrow(/called after close\(\)/);
  });
});
