// The causal convention on the LM functions (shift: true), tokenStats' isGreedy and rank, and
// continuationLogProb, against float64 references and transformers' convention (causalLMLoss), on every
// backend.
import { describe, expect, it } from 'vitest';
import { causalLMLoss, continuationLogProb, perplexity, tokenLogProbs, tokenStats } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { TOL, expectClose } from './helpers/close.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';
import { tokenStats64 } from './reference/xent64.ts';

describe.each(BACKENDS)('LM scoring on %s', (backend) => {
  useBackend(backend);
  const [B, T, V] = [3, 6, 20];
  const rand = rng(7);
  const data = randomLogits(rand, B * T * V, 3);
  const labels = randomIndices(rand, B * T, V, -100, 0.15);
  const x = { data, shape: [B, T, V] };
  const shifted = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T ? labels[i + 1] : -100));

  it('shift: true scores labels[t + 1] with position t, [B, T - 1] out, as causalLMLoss', () => {
    const want = tokenStats64(data, [B * T, V], shifted, {}).logProbs.filter((_, i) => (i + 1) % T);
    const got = tokenLogProbs(x, { data: labels, shape: [B, T] }, { shift: true });
    expect(got.length).toBe(B * (T - 1));
    expectClose(got, want, TOL.loss, 'logProbs');
    const none = causalLMLoss(x, labels, { reduction: 'none' });
    got.forEach((v, i) => expect(Number.isNaN(v) ? 0 : -v).toBeCloseTo(none[i], 6));
    const kept = want.filter((v) => !Number.isNaN(v));
    expectClose(perplexity(x, labels, { shift: true }), Math.exp(-kept.reduce((a, b) => a + b, 0) / kept.length), TOL.loss, 'perplexity');
    expectClose(perplexity(x, labels, { shift: true }), Math.exp(causalLMLoss(x, labels)), TOL.loss, 'perplexity = exp(causal loss)');
    expect(() => tokenLogProbs(x, labels, { shift: 1 as never })).toThrow(TypeError);
    expect(tokenLogProbs({ data: new Float32Array(0), shape: [2, 0, V] }, { data: new Int32Array(0), shape: [2, 0] }, { shift: true })).toEqual(new Float32Array(0));
  });

  it('isGreedy and rank: the first maximum is the argmax, ties rank by strict excess', () => {
    // row 0: target the max; row 1: a tie with an earlier class (not greedy: argmax picks the first);
    // row 2: a tie with a later class (greedy); row 3: third best; row 4: ignored
    const rows = [[0, 5, 1, 2], [4, 1, 4, 0], [1, 4, 0, 4], [3, 1, 2, 0], [0, 0, 0, 0]];
    const t = Int32Array.of(1, 2, 1, 2, -100);
    const st = tokenStats({ data: Float32Array.from(rows.flat()), shape: [5, 4] }, t, { rank: true });
    expect(Array.from(st.isGreedy)).toEqual([1, 0, 1, 0, 0]);
    expect(Array.from(st.rank!)).toEqual([0, 0, 0, 1, -1]);
    expect(tokenStats({ data: Float32Array.from(rows.flat()), shape: [5, 4] }, t).rank).toBeUndefined();
    // the same through a temperature and a soft cap (increasing maps), and as float16 logits
    expect(Array.from(tokenStats({ data: Float32Array.from(rows.flat()), shape: [5, 4] }, t, { temperature: 0.3, softcap: 2 }).isGreedy)).toEqual([1, 0, 1, 0, 0]);
    // half precision: bfloat16 is the top half of the f32 pattern (exact for these small integers)
    const bf16 = Uint16Array.from(new Uint32Array(Float32Array.from(rows.flat()).buffer), (u) => u >>> 16);
    const half = tokenStats({ data: bf16, shape: [5, 4], dtype: 'bfloat16' }, t, { rank: true });
    expect([Array.from(half.isGreedy), Array.from(half.rank!)]).toEqual([[1, 0, 1, 0, 0], [0, 0, 0, 1, -1]]);
  });

  it('continuationLogProb: the summed log-probability of ids[start..end) and whether greedy decoding gives them', () => {
    const stats = tokenStats64(data, [B * T, V], shifted, {});
    const starts = [1, 3, 5], ends = [6, 5, 6];
    const r = continuationLogProb(x, labels, { start: starts, end: ends }) as { logProb: Float64Array; isGreedy: boolean[] };
    for (let b = 0; b < B; b++) {
      let want = 0;
      for (let t = starts[b]; t < ends[b]; t++) want += stats.logProbs[b * T + t - 1];
      expectClose([r.logProb[b]], [want], TOL.loss, `sequence ${b}`);
    }
    // a continuation made of each row's argmax is greedy; change one token and it is not
    const row = data.subarray(0, T * V);
    const ids = Int32Array.from({ length: T }, (_, t) => {
      if (t === 0) return 0;
      const r0 = row.subarray((t - 1) * V, t * V);
      return r0.indexOf(Math.max(...r0));
    });
    expect(continuationLogProb({ data: row, shape: [T, V] }, ids, { start: 2 }).isGreedy).toBe(true);
    ids[4] = (ids[4] + 1) % V;
    expect(continuationLogProb({ data: row, shape: [T, V] }, ids, { start: 2 }).isGreedy).toBe(false);
    expect(continuationLogProb({ data: row, shape: [T, V] }, ids, { start: 5, end: 5 }).logProb).toBe(0);
    expect(() => continuationLogProb(x, labels, { start: [1, 2] })).toThrow(RangeError);
    expect(() => continuationLogProb(x, labels, { start: 0 })).toThrow(RangeError);
    expect(() => continuationLogProb(x, labels, { start: 1.5 })).toThrow(TypeError);
    expect(() => continuationLogProb(x, 'ids' as never, { start: 1 })).toThrow('ids: expected token ids (an integer typed array, an array or a tensor), got string "ids"');
    expect(() => continuationLogProb(x, { data: labels, shape: [T, B] }, { start: 1 })).toThrow('ids: expected shape [3, 6]');
  });
});
