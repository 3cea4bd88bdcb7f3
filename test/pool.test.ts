// createPool from the built package (dist/: the workers load dist/pool-worker.js), on Node's worker_threads
// in npm test and on module Workers in Chromium (npm run test:browser: a page that is not cross-origin
// isolated, where each call runs whole on one worker, and one that is, where memory is shared and a call's
// rows are split over the workers):
// every compute function through the pool gives the synchronous call's result, bit for bit, on 1 to 4
// workers; calls in flight complete in order; errors reject with the sync API's class and message; a
// caller's `out` receives the result; pool.allocFloat32 memory is read and written where it is, also after
// it grew under the workers' instances; close()
// ends it; tensor-likes with getters are read on this side; memory stays flat over 1e4 calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as xent from '../dist/index.js';
import { OPS } from './helpers/op-table.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';

type Pool = Awaited<ReturnType<typeof xent.createPool>>;
const POOL_FUNCTIONS = [
  'crossEntropy', 'crossEntropyWithGrad', 'nllLoss', 'nllLossWithGrad', 'logSoftmax', 'softmax', 'softmin', 'logSumExp',
  'logSoftmaxBackward', 'softmaxBackward', 'logSumExpBackward', 'tokenLogProbs', 'tokenStats', 'perplexity',
  'continuationLogProb', 'causalLMLoss', 'causalLMLossWithGrad', 'binaryCrossEntropyWithLogits',
  'binaryCrossEntropyWithLogitsWithGrad', 'klDiv', 'klDivWithGrad', 'distillationLoss', 'distillationLossWithGrad',
] as const;

const rand = rng(16);
// 1049600 logits: above the pools' syncBelow (65536 here), so that calls go to the workers, and 4 reduction blocks (2^18 floats
// each, 63 rows): a call's rows are split over the workers where memory is shared
const N = 256, C = 4100;
const x = { data: randomLogits(rand, N * C, 3), shape: [N, C] };
const t = { data: randomLogits(rand, N * C, 3), shape: [N, C] };
const ids = randomIndices(rand, N, C);
const seq = { data: x.data, shape: [16, 16, C] }, seqIds = { data: ids, shape: [16, 16] };
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
  continuationLogProb: [seq, seqIds, { start: Array.from({ length: 16 }, (_, i) => 1 + (i % 7)) }],
  causalLMLoss: [seq, seqIds],
  causalLMLossWithGrad: [seq, seqIds, { temperature: 2 }],
  binaryCrossEntropyWithLogits: [x, y01],
  binaryCrossEntropyWithLogitsWithGrad: [x, y01, { reduction: 'none' }],
  klDiv: [logp, probs, { reduction: 'batchmean' }],
  klDivWithGrad: [logp, probs],
  distillationLoss: [x, t, { temperature: 2, beta: 0.5 }],
  distillationLossWithGrad: [x, t, { labels: ids, alpha: 0.5 }],
};

/** Whether two results are the same bits: typed arrays byte for byte (NaN payloads included), objects
 *  and arrays field by field, numbers by Object.is. A plain loop: toEqual is slow on 70K-element arrays. */
function same(a: unknown, b: unknown): boolean {
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    if (a.constructor !== b.constructor || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return Object.is(a, b);
}

/** The pools' syncBelow here: calls of this suite's inputs go to the workers. */
const SMALL = 65536;

const sync = (fn: string, args: unknown[]) => (xent as unknown as Record<string, (...a: unknown[]) => unknown>)[fn](...args);

describe('createPool', () => {
  let pool: Pool;
  beforeAll(async () => { pool = await xent.createPool({ workers: 2, syncBelow: SMALL }); });
  afterAll(async () => { await pool.close(); });

  it('runs every compute function, with the synchronous result bit for bit', async () => {
    const computing = Object.entries(xent).filter(([, v]) => typeof v === 'function').map(([k]) => k)
      .filter((k) => !['diagnose', 'setDiagnosticsHandler', 'XentCheckError', 'init', 'getBackend', 'setBackend', 'getBackendInfo', 'setWasmMemoryLimit', 'allocFloat32', 'createPool'].includes(k));
    expect([...POOL_FUNCTIONS].sort()).toEqual(computing.sort());
    for (const fn of POOL_FUNCTIONS) {
      const got = await (pool as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[fn](...CALLS[fn]);
      expect(same(got, sync(fn, CALLS[fn])), fn).toBe(true);
    }
  });

  it('runs the op table\'s cases (test/helpers/op-table.ts: every op, its options and layouts) with the synchronous bits', async () => {
    const p = await xent.createPool({ workers: 3, syncBelow: 0 }); // small calls too go to the workers
    try {
      for (const op of OPS) {
        const rand = rng(0x9001 ^ op.name.length);
        for (let k = 0; k < 6; k++) {
          const { args } = op.gen(rand, k === 5);
          const got = await (p as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[op.name](...args);
          expect(same(got, sync(op.name, args)), `${op.name} case ${k}`).toBe(true);
        }
      }
    } finally {
      await p.close();
    }
  }, 60_000);

  it('gives the same bits on 1 to 4 workers, and with many calls in flight, in the order they were made', async () => {
    const want = xent.crossEntropyWithGrad(x, ids, { reduction: 'none' });
    for (const workers of [1, 3, 4]) {
      const p = await xent.createPool({ workers, syncBelow: SMALL });
      expect(p.workers).toBe(workers);
      const order: number[] = [];
      const calls = Array.from({ length: 12 }, (_, i) => p.crossEntropyWithGrad(x, ids, { reduction: 'none' }).then((r) => { order.push(i); return r; }));
      for (const r of await Promise.all(calls)) expect(same(r, want)).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      await p.close();
    }
  }, 60_000);

  it('fills the caller\'s out, and reads tensor-likes (getters) on the calling side', async () => {
    const out = new Float32Array(N * C);
    const r = await pool.crossEntropyWithGrad(x, ids, { out });
    expect(r.grad).toBe(out);
    expect(same(out, xent.crossEntropyWithGrad(x, ids).grad)).toBe(true);
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
      expect(same(r, xent.crossEntropyWithGrad(xk, tk, { reduction: k % 2 ? 'sum' : 'mean' })), `call ${k}`).toBe(true);
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

  it('runs calls below syncBelow values on the calling thread, in their turn (by default 2^22)', async () => {
    expect((await xent.createPool({ workers: 1 }).then(async (d) => (await d.close(), d))).syncBelow).toBe(2 ** 22);
    await expect(xent.createPool({ syncBelow: -1 })).rejects.toThrow(RangeError);
    await expect(xent.createPool({ syncBelow: 0.5 })).rejects.toThrow(TypeError);
    const small = { data: x.data.subarray(0, 3 * C), shape: [3, C] }, smallIds = ids.subarray(0, 3);
    const p = await xent.createPool({ workers: 1, syncBelow: SMALL });
    expect(p.syncBelow).toBe(SMALL);
    xent.setBackend('js'); // the workers keep the backend they started with: the small call shows where it ran
    try {
      const [big, tiny] = await Promise.all([p.crossEntropy(x, ids), p.crossEntropy(small, smallIds)]);
      expect(tiny).toBe(xent.crossEntropy(small, smallIds)); // the js backend, here
      xent.setBackend('auto');
      expect(big).toBe(xent.crossEntropy(x, ids)); // the workers' wasm
    } finally {
      xent.setBackend('auto');
      await p.close();
    }
  });

  it('shares memory where it can (Node; a cross-origin isolated page), and says so in info', () => {
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
    expect(pool.info.mode).toBe(isolated ? 'shared' : 'copy');
    expect(pool.info.reason).toMatch(isolated ? /shared WebAssembly.Memory/ : /cross-origin isolated/);
    expect(pool.memoryBytes > 0).toBe(!!isolated);
  });

  it('reads and writes pool.allocFloat32 memory where it is, and refuses it once freed', async () => {
    const a = pool.allocFloat32(N * C), o = pool.allocFloat32(N * C);
    expect(a.length).toBe(N * C);
    expect(a.data.every((v) => v === 0)).toBe(true);
    expect(typeof SharedArrayBuffer === 'function' && a.data.buffer instanceof SharedArrayBuffer).toBe(pool.info.mode === 'shared');
    a.data.set(x.data);
    const r = await pool.crossEntropyWithGrad({ data: a.data, shape: [N, C] }, ids, { out: o.data, zLoss: 1e-4 });
    expect(r.grad).toBe(o.data);
    expect(same(r, xent.crossEntropyWithGrad(x, ids, { zLoss: 1e-4 }))).toBe(true);
    // in place, over the pool's memory: softmax's out is its input
    const sm = await pool.softmax({ data: a.data, shape: [N, C] }, { out: a.data });
    expect(sm).toBe(a.data);
    expect(same(sm, xent.softmax(x))).toBe(true);
    a.free();
    expect(() => a.data).toThrow(TypeError);
    // the freed floats are reused, zeroed
    const bytes = pool.memoryBytes, b = pool.allocFloat32(N * C);
    expect(b.data.every((v) => v === 0)).toBe(true);
    expect(pool.memoryBytes).toBe(bytes);
    b.free();
    expect(() => pool.allocFloat32(-1)).toThrow(RangeError);
    expect(() => pool.allocFloat32(1.5)).toThrow(TypeError);
    o.free();
  });

  it('reads arrays allocated after the workers have run, in memory grown under their instances, with the synchronous bits', async () => {
    const p = await xent.createPool({ workers: 2, syncBelow: 0 });
    try {
      const kept: Array<{ free(): void }> = [];
      let grew = 0;
      for (let k = 0; k < 6; k++) {
        const before = p.memoryBytes, rows = 8 << k, cols = 2048 + 1000 * k; // each array larger than the last
        const a = p.allocFloat32(rows * cols);
        kept.push(a);
        if (k > 0 && p.memoryBytes > before) grew++; // after the workers' first call
        a.data.set(randomLogits(rand, rows * cols, 3));
        const target = randomIndices(rand, rows, cols), logits = { data: a.data, shape: [rows, cols] };
        expect(same(await p.crossEntropyWithGrad(logits, target), xent.crossEntropyWithGrad(logits, target)), `${rows}x${cols}`).toBe(true);
      }
      if (p.info.mode === 'shared') expect(grew).toBeGreaterThan(0); // the case this test is for
      for (const a of kept) a.free();
    } finally {
      await p.close();
    }
  });

  it('checks arguments on the calling thread: check \'throw\' rejects with XentCheckError itself', async () => {
    const bad = Int32Array.from(ids, (v, i) => (i === 7 ? C + 3 : v));
    let want: Error | undefined;
    try { xent.crossEntropy(x, bad, { check: 'throw' }); } catch (e) { want = e as Error; }
    expect(want).toBeInstanceOf(xent.XentCheckError);
    const got = await pool.crossEntropy(x, bad, { check: 'throw' }).then(() => null, (e: Error) => e);
    expect(got?.message).toBe(want!.message);
    expect(got).toBeInstanceOf(xent.XentCheckError);
  });

  // Node with --expose-gc (vitest.config.ts): what stays alive after a collection
  const gc = (globalThis as { gc?: () => void }).gc;
  it.skipIf(typeof process === 'undefined' || !gc)('keeps memory flat over 1e4 calls (this thread\'s WASM memory, the pool\'s and array buffers)', async () => {
    const small = { data: x.data.subarray(0, 17 * C), shape: [17, C] }, smallIds = ids.subarray(0, 17); // 69700 logits
    const out = new Float32Array(17 * C);
    // 4 calls in flight: their staging (an input, its targets and an out each) and arenas come from the
    // pool's memory and go back to it
    const run = async (n: number) => {
      for (let i = 0; i < n; i += 4) await Promise.all(Array.from({ length: 4 }, () => pool.crossEntropyWithGrad(small, smallIds, { out })));
    };
    const alive = async () => {
      gc!();
      await new Promise((r) => setTimeout(r, 20)); // finalizers
      gc!();
      return process.memoryUsage().arrayBuffers;
    };
    await run(2000);
    const wasm = xent.getBackendInfo().wasmMemoryBytes, shared = pool.memoryBytes, before = await alive();
    await run(10000);
    expect(xent.getBackendInfo().wasmMemoryBytes).toBe(wasm);
    expect(pool.memoryBytes).toBe(shared);
    // 1e4 calls stage 2.8 GB of arguments: only kept buffers stay
    expect((await alive()) - before).toBeLessThan(8 * 2 ** 20);
    expect(same(out, xent.crossEntropyWithGrad(small, smallIds).grad)).toBe(true);
  }, 120_000);

  it('refuses a bad worker count, and calls after close() reject', async () => {
    await expect(xent.createPool({ workers: 0 })).rejects.toThrow(RangeError);
    await expect(xent.createPool({ workers: 1.5 })).rejects.toThrow(TypeError);
    const p = await xent.createPool({ workers: 1 });
    await p.close();
    await expect(p.softmax(x)).rejects.toThrow(/called after close\(\)/);
  });
});
