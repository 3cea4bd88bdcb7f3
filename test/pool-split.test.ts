// The pool's split path (src/pool-split.ts) with its workers replaced by runRows on this thread, each
// "worker" an instance of the threads build of its own on one shared memory, as the pool's are (each range
// a microtask later, so that ranges and instances interleave): the public functions give the synchronous
// bits for 1 to 5 "workers", with ordinary arrays (staged) and arrays in the shared memory; an out array
// listed before the input it overwrites still gets that input copied; a range that fails rejects the call
// only after every range has settled; staging and arenas go back to the memory.
import { describe, expect, it } from 'vitest';
import { getBackendInfo, kernels } from '../src/backend/select.ts';
import type { Call } from '../src/backend/types.ts';
import { WasmHeap } from '../src/backend/wasm/heap.ts';
import { ThreadKernels } from '../src/backend/wasm/threads.ts';
import { crossEntropyWithGrad, distillationLoss, klDivWithGrad, logSoftmax, softmax } from '../src/index.ts';
import { runFor } from '../src/ops/run.ts';
import { runRows, sharedMemory, Splitter, type RowsRequest } from '../src/pool-split.ts';
import { expectSameBits } from './helpers/close.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';

const memory = sharedMemory().memory;
const wasm = getBackendInfo().name === 'wasm';
/** The "workers": instances of the threads build on the shared memory (the JS backend without wasm). */
const instances = memory && wasm ? Array.from({ length: 5 }, () => new ThreadKernels(memory, getBackendInfo().build!)) : [];
const heap = memory && new WasmHeap(memory, instances[0]?.heapBase ?? 16);
const scratchBytes = instances[0]?.scratchBytes ?? null;
const run = (k: number, req: RowsRequest) => {
  if (!instances.length) return runRows((call) => kernels().run(call), req);
  instances[k].useArena(req.arena!.at, req.arena!.bytes);
  return runRows((call) => instances[k].kernels.run(call), req);
};
const local = (log: number[] = []) => async (k: number, req: RowsRequest) => {
  await Promise.resolve();
  log.push(k);
  return run(k, req);
};

/** A copy of `a` in the shared memory, as pool.allocFloat32 makes them. */
const shared = (a: Float32Array) => {
  const at = heap!.alloc(a.byteLength); // first: it may grow the memory into a new buffer
  const s = new Float32Array(heap!.buffer, at, a.length);
  s.set(a);
  return s;
};

describe.skipIf(memory === null)('the split path, workers on this thread', () => {
  const rand = rng(5);
  const N = 96, C = 9000; // 29 rows a block: 4 blocks
  const x = randomLogits(rand, N * C, 3), t = randomLogits(rand, N * C, 3), ids = randomIndices(rand, N, C, -100, 0.1);

  it('gives the synchronous bits on 1 to 5 workers, ordinary and shared arrays, out given or not', async () => {
    for (const workers of [1, 2, 3, 5]) {
      const log: number[] = [];
      const split = new Splitter(workers, local(log), heap!, scratchBytes);
      for (const data of [x, shared(x)]) {
        const want = crossEntropyWithGrad({ data: x, shape: [N, C] }, ids, { zLoss: 1e-3, reduction: 'sum' });
        const got = await split.run(crossEntropyWithGrad as never, [{ data, shape: [N, C] }, ids, { zLoss: 1e-3, reduction: 'sum' }]) as typeof want;
        expect(Object.is(got.loss, want.loss)).toBe(true);
        expectSameBits(got.grad, want.grad, `${workers} workers`);
        const out = new Float32Array(N * C);
        const given = await split.run(crossEntropyWithGrad as never, [{ data, shape: [N, C] }, ids, { out }]) as typeof want;
        expect(given.grad).toBe(out);
        expectSameBits(out, crossEntropyWithGrad({ data: x, shape: [N, C] }, ids).grad, 'out');
        expect(await split.run(distillationLoss as never, [{ data, shape: [N, C] }, { data: t, shape: [N, C] }, { temperature: 2 }]))
          .toBe(distillationLoss({ data: x, shape: [N, C] }, { data: t, shape: [N, C] }, { temperature: 2 }));
        const kl = await split.run(klDivWithGrad as never, [logSoftmax({ data, shape: [N, C] }), softmax({ data: t, shape: [N, C] })]) as ReturnType<typeof klDivWithGrad>;
        const klWant = klDivWithGrad(logSoftmax({ data: x, shape: [N, C] }), softmax({ data: t, shape: [N, C] }));
        expect(Object.is(kl.loss, klWant.loss)).toBe(true);
        expectSameBits(kl.grad, klWant.grad, 'klDiv');
      }
      expect(new Set(log).size).toBe(Math.min(workers, 4));
    }
  });

  it('copies an input that an out array listed before it overwrites', async () => {
    const data = x.slice(0, 8 * C), want = softmax({ data, shape: [8, C] });
    const call = (d: Float32Array): Call => ({
      kernel: 'softmax', rows: 8, scalars: { C, S: 1 },
      arrays: { out: { role: 'out', data: d, per: C }, x: { role: 'in', data: d, per: C } },
    });
    const got = await new Splitter(2, local(), heap!, scratchBytes).run((d: Float32Array) => runFor(call(d), 'out'), [data]);
    expectSameBits(got as Float32Array, want, 'softmax in place');
  });

  it('rejects with a failing range\'s error once every range has settled', async () => {
    let sent = 0, settled = 0;
    const split = new Splitter(3, async (k, req) => {
      sent++;
      await new Promise((r) => setTimeout(r, k === 1 ? 0 : 20));
      settled++;
      if (k === 1) throw new RangeError('worker 1 failed');
      return run(k, req);
    }, heap!, scratchBytes);
    await expect(split.run(crossEntropyWithGrad as never, [{ data: x, shape: [N, C] }, ids])).rejects.toThrow('worker 1 failed');
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(settled).toBe(sent);
  });

  it('gives its staging and arenas back: the memory stays as it is over further calls', async () => {
    const split = new Splitter(2, local(), heap!, scratchBytes);
    const call = () => split.run(crossEntropyWithGrad as never, [{ data: x, shape: [N, C] }, ids]);
    await call();
    const bytes = heap!.memoryBytes, base = heap!.base;
    for (let i = 0; i < 20; i++) await call();
    expect(heap!.memoryBytes).toBe(bytes);
    expect(heap!.base).toBe(base); // no block left allocated
  });
});
