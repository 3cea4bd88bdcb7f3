// The pool's split path (src/pool-split.ts) with its workers replaced by runRows on this thread (each
// range a microtask later, so that ranges interleave): the public functions give the synchronous bits for
// 1 to 5 "workers", with ordinary arrays (staged) and shared ones; an out array listed before the input it
// overwrites still gets that input copied; a range that fails rejects the call only after every range has
// settled.
import { describe, expect, it } from 'vitest';
import { kernels } from '../src/backend/select.ts';
import type { Call } from '../src/backend/types.ts';
import { crossEntropyWithGrad, distillationLoss, klDivWithGrad, logSoftmax, softmax } from '../src/index.ts';
import { runFor } from '../src/ops/run.ts';
import { runRows, Splitter, type RowsRequest } from '../src/pool-split.ts';
import { expectSameBits } from './helpers/close.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';

const local = (log: number[] = []) => async (k: number, req: RowsRequest) => {
  await Promise.resolve();
  log.push(k);
  return runRows((call) => kernels().run(call), req);
};

const shared = (a: Float32Array) => {
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
};

describe.skipIf(typeof SharedArrayBuffer !== 'function')('the split path, workers on this thread', () => {
  const rand = rng(5);
  const N = 96, C = 9000; // 29 rows a block: 4 blocks
  const x = randomLogits(rand, N * C, 3), t = randomLogits(rand, N * C, 3), ids = randomIndices(rand, N, C, -100, 0.1);

  it('gives the synchronous bits on 1 to 5 workers, ordinary and shared arrays, out given or not', async () => {
    for (const workers of [1, 2, 3, 5]) {
      const log: number[] = [];
      const split = new Splitter(workers, local(log));
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
    const got = await new Splitter(2, local()).run((d: Float32Array) => runFor(call(d), 'out'), [data]);
    expectSameBits(got as Float32Array, want, 'softmax in place');
  });

  it('rejects with a failing range\'s error once every range has settled', async () => {
    let sent = 0, settled = 0;
    const split = new Splitter(3, async (k, req) => {
      sent++;
      await new Promise((r) => setTimeout(r, k === 1 ? 0 : 20));
      settled++;
      if (k === 1) throw new RangeError('worker 1 failed');
      return runRows((call) => kernels().run(call), req);
    });
    await expect(split.run(crossEntropyWithGrad as never, [{ data: x, shape: [N, C] }, ids])).rejects.toThrow('worker 1 failed');
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(settled).toBe(sent);
  });
});
