// Reduction blocks (src/backend/blocks.ts), what makes a pool's split call the synchronous call's bits: on
// every backend, a summed call's total is the blocks' totals (each block run as a call of its own, from
// sliceCall) added in order, whatever the chunking (the smallest memory limit gives chunks far smaller than
// a block, the default ones larger than a row), and the call reports each block's totals; sliced calls
// write the same rows as the whole call; and a block does not depend on anything but the call's shape.
import { afterEach, describe, expect, it } from 'vitest';
import { BLOCK_FLOATS, blockRows, sliceCall, summed } from '../src/backend/blocks.ts';
import { kernels } from '../src/backend/select.ts';
import type { Call } from '../src/backend/types.ts';
import { setWasmMemoryLimit } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectSameBits } from './helpers/close.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';

const rand = rng(77);

/** Calls that sum their rows, over several blocks: cross-entropy (a weight, a z-loss), BCE with a
 *  last-axis weight (a cycle), KL divergence, distillation. */
function calls(): Call[] {
  const N = 40, C = 20000; // 13 rows a block: 4 blocks, the last one short
  const x = randomLogits(rand, N * C, 3), t = randomLogits(rand, N * C, 3);
  const target = Int32Array.from(randomIndices(rand, N, C, -100, 0.1), (v) => (v === -100 ? -1 : v));
  const L = 7, E = 3 * BLOCK_FLOATS + 5 * 1024 + 7 * 11; // elements: 3 whole blocks and part of one
  const xe = randomLogits(rand, E, 3), ye = Float32Array.from(randomLogits(rand, E, 1), (v) => 1 / (1 + Math.exp(-v)));
  const lw = Float32Array.from({ length: L }, (_, i) => 0.5 + i / 4);
  return [
    {
      kernel: 'xent_index', rows: N,
      arrays: {
        x: { role: 'in', data: x, per: C }, target: { role: 'in', data: target, per: 1 }, grad: { role: 'out', data: new Float32Array(N * C), per: C },
        weight: { role: 'fixed', data: null, length: C, fill: 1 }, loss: null, scales: null, lse: null, entropy: null,
      },
      scalars: { C, S: 1, half: 0, eps: 0.1, wsum: 1, gscale: 1 / N, logProbs: 0, invT: 1, zLoss: 1e-3, softcap: 0, ignoreIndex: -1 },
    },
    {
      kernel: 'bce', rows: E,
      arrays: {
        x: { role: 'in', data: xe, per: 1 }, y: { role: 'in', data: ye, per: 1 }, weight: { role: 'cycle', data: lw, period: L },
        posWeight: null, loss: { role: 'out', data: new Float32Array(E), per: 1 }, grad: null, scales: null,
      },
      scalars: { L, wMode: 1, gscale: 1 },
    },
    {
      kernel: 'kl_div', rows: E,
      arrays: { x: { role: 'in', data: xe, per: 1 }, y: { role: 'in', data: ye, per: 1 }, loss: null, grad: { role: 'out', data: new Float32Array(E), per: 1 }, scales: null },
      scalars: { logTarget: 0, gscale: 1 },
    },
    {
      kernel: 'distill', rows: N,
      arrays: {
        s: { role: 'in', data: x, per: C }, t: { role: 'in', data: t, per: C }, labels: null, scales: null,
        grad: { role: 'out', data: new Float32Array(N * C), per: C }, loss: null,
      },
      scalars: { C, halfS: 0, halfT: 0, invT: 0.5, mode: 0, beta: 0, alpha: 0, gscale: 1 },
    },
  ];
}

/** The call run block by block, each a call of its own: the totals added in order, the out rows joined. */
function byBlocks(call: Call) {
  const block = blockRows(call), outs: Record<string, Float32Array> = {};
  let total = 0, zTotal = 0;
  const blocks: number[] = [];
  for (const [name, a] of Object.entries(call.arrays)) if (a?.role === 'out') outs[name] = new Float32Array(a.data.length);
  for (let r0 = 0; r0 < call.rows; r0 += block) {
    const r1 = Math.min(call.rows, r0 + block);
    const part = sliceCall(call, r0, r1);
    for (const name in outs) (part.arrays[name] as { data: Float32Array }).data = outs[name].subarray(r0 * (call.arrays[name] as { per: number }).per, r1 * (call.arrays[name] as { per: number }).per);
    const res = kernels().run(part);
    total += res.total;
    zTotal += res.zTotal;
    blocks.push(res.total, res.zTotal);
  }
  return { total, zTotal, outs, blocks };
}

describe.each(BACKENDS)('reduction blocks on %s', (backend) => {
  useBackend(backend);
  afterEach(() => setWasmMemoryLimit(256 * 2 ** 20));

  it('a summed call\'s total is its blocks\' totals added in order, whatever the chunking; the rows are the same', () => {
    for (const call of calls()) {
      expect(summed(call.kernel)).toBe(true);
      expect(Math.ceil(call.rows / blockRows(call)), call.kernel).toBeGreaterThanOrEqual(4);
      const want = byBlocks(call);
      for (const limit of [65536, 256 * 2 ** 20]) {
        setWasmMemoryLimit(limit);
        const got = kernels().run(call);
        expect(Object.is(got.total, want.total), `${call.kernel} total, limit ${limit}: ${got.total} vs ${want.total}`).toBe(true);
        expect(Object.is(got.zTotal, want.zTotal), `${call.kernel} zTotal`).toBe(true);
        // each block's own totals, for a pool worker's range of blocks run as one call
        expect(Array.from(got.blocks!), `${call.kernel} blocks, limit ${limit}`).toEqual(want.blocks);
        for (const name in want.outs) expectSameBits(got.outs[name], want.outs[name], `${call.kernel} ${name}`);
      }
    }
  });
});

describe('blockRows and sliceCall', () => {
  it('blocks hold BLOCK_FLOATS floats of the widest row, at least one row; elementwise blocks are whole 1024s', () => {
    const call = (per: number): Call => ({ kernel: 'softmax', rows: 9, arrays: { x: { role: 'in', data: new Float32Array(9 * per), per }, out: null }, scalars: {} });
    expect(blockRows(call(1000))).toBe(Math.floor(BLOCK_FLOATS / 1000));
    expect(blockRows(call(BLOCK_FLOATS * 2))).toBe(1);
    expect(blockRows(call(1)) % 1024).toBe(0);
  });

  it('rotates a cycle to the slice\'s first row, and views the per-row arrays', () => {
    const cyc = Float32Array.of(10, 11, 12, 13, 14);
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const c: Call = { kernel: 'bce', rows: 12, arrays: { x: { role: 'in', data: x, per: 2 }, w: { role: 'cycle', data: cyc, period: 5 }, f: { role: 'fixed', data: cyc, length: 5 } }, scalars: {} };
    const s = sliceCall(c, 7, 11);
    expect(s.rows).toBe(4);
    expect(Array.from((s.arrays.x as { data: Float32Array }).data)).toEqual([14, 15, 16, 17, 18, 19, 20, 21]);
    expect((s.arrays.x as { data: Float32Array }).data.buffer).toBe(x.buffer);
    expect(Array.from((s.arrays.w as { data: Float32Array }).data)).toEqual([12, 13, 14, 10, 11]); // row 7 reads element 7 % 5
    expect(s.arrays.f).toBe(c.arrays.f);
  });
});
