// tokenLogProbs and perplexity against PyTorch (torch-llm.json, op token_logprobs) and the float64
// reference (log_softmax gathered at the targets), on both backends.
import { describe, expect, it } from 'vitest';
import { crossEntropy, perplexity, tokenLogProbs, tokenStats, XentCheckError } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';
import { layoutOf, logSoftmax64 } from './reference/ce64.ts';
import llm from './fixtures/torch-llm.json';

/** log p(target) in float64 at every position (NaN where ignored), logits divided by T. */
function logProbs64(x: Float32Array, shape: number[], target: Int32Array, T = 1): number[] {
  const { N, C, S } = layoutOf(shape);
  const lp = logSoftmax64(Array.from(x, (v) => v / T), N, C, S);
  return Array.from(target, (t, i) => (t === -100 ? NaN : lp[Math.floor(i / S)][i % S][t]));
}

describe.each(BACKENDS)('tokenLogProbs and perplexity on %s', (backend) => {
  useBackend(backend);

  // classes last, whatever the rank: [3, 6, 5] is 3 sequences of 6 positions over a vocabulary of 5
  for (const shape of [[64, 50257 / 7 | 0], [9, 10], [3, 6, 5]]) {
    it(`${JSON.stringify(shape)}: match log_softmax gathered at the targets, with ignored positions and a temperature`, () => {
      const rand = rng(shape[0] * 31 + shape[1]);
      const C = shape[shape.length - 1], N = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const x = randomLogits(rand, N * C, 4);
      const t = randomIndices(rand, N, C, -100, 0.2);
      for (const T of [1, 0.7]) {
        const want = logProbs64(x, [N, C], t, T);
        expectClose(tokenLogProbs({ data: x, shape }, t, { temperature: T }), want, TOL.loss, `T=${T}`);
        const kept = want.filter((v) => !Number.isNaN(v));
        const ppl = Math.exp(-kept.reduce((a, b) => a + b, 0) / kept.length);
        expectClose(perplexity({ data: x, shape }, t, { temperature: T }), ppl, TOL.loss, `perplexity T=${T}`);
      }
      // the same number as exp of crossEntropy's mean (itself rounded to f32, hence the relative tolerance)
      expectClose(perplexity({ data: x, shape }, t), Math.exp(crossEntropy({ data: x, shape }, t, { classAxis: -1 })), TOL.loss, 'vs crossEntropy');
      const filled = tokenLogProbs({ data: x, shape }, t, { fill: 0 });
      t.forEach((v, i) => v === -100 && expect(filled[i]).toBe(0));
    });
  }

  it('match PyTorch: log_softmax(x / T, capped) gathered, exp(mean NLL), logsumexp and entropy', () => {
    const cases = (llm as { cases: Array<Record<string, any>> }).cases.filter((c) => c.op === 'token_logprobs');
    expect(cases.length).toBe(4);
    for (const c of cases) {
      const input = { data: decodeArray(c.input.data) as Float32Array, shape: c.input.shape as number[] };
      const target = decodeArray(c.target.data) as BigInt64Array;
      const opts = { temperature: c.options.temperature as number, softcap: c.options.softcap ?? undefined };
      expectClose(tokenLogProbs(input, target, opts), Array.from(decodeArray(c.expected.out64), Math.fround), TOL.loss, c.name);
      expectClose(perplexity(input, target, opts), Math.fround(decodeArray(c.expected.perplexity64)[0] as number), TOL.loss, `${c.name} perplexity`);
      const st = tokenStats(input, target, opts);
      expectClose(st.logProbs, Array.from(decodeArray(c.expected.out64), Math.fround), TOL.loss, `${c.name} stats logProbs`);
      expectClose(st.logSumExp, Array.from(decodeArray(c.expected.lse64), Math.fround), TOL.loss, `${c.name} logsumexp`);
      expectClose(st.entropy, Array.from(decodeArray(c.expected.entropy64), Math.fround), TOL.loss, `${c.name} entropy`);
    }
  });

  it("the seeds' example: log p = -142, perplexity e^142; all ignored gives NaN", () => {
    const x = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [1, 5] };
    expect(Array.from(tokenLogProbs(x, [3]))).toEqual([-142]);
    expect(perplexity(x, [3])).toBe(Math.exp(142));
    expect(perplexity(x, [-100])).toBeNaN();
  });

  it('checks its arguments', () => {
    const x = { data: new Float32Array(6), shape: [2, 3] };
    expect(() => tokenLogProbs(x, { data: new Float32Array(6), shape: [2, 3] })).toThrow(TypeError);
    expect(() => tokenLogProbs(x, [0, 1], { weight: [1, 1, 1] } as never)).toThrow(/options.weight: unknown option/);
    expect(() => tokenLogProbs(x, [0, 3])).toThrow(new RangeError('target[1] = 3 is out of range for 3 classes (expected 0 <= t < 3, or ignoreIndex -100)'));
    expect(() => perplexity(x, [0, 1], { fill: 0 } as never)).toThrow(/options.fill: unknown option/);
  });

  it("take the check option: softmax output passed as logits is an error under 'throw', silent under 'off'", () => {
    // rows that are probabilities (softmax already applied), the classic mistake
    const probs = { data: Float32Array.of(0.7, 0.2, 0.1, 0.1, 0.8, 0.1), shape: [2, 3] };
    const ids = [0, 1];
    for (const f of [tokenLogProbs, tokenStats, perplexity] as const) {
      expect(() => f(probs, ids, { check: 'throw' })).toThrow(XentCheckError);
      expect(() => f(probs, ids, { check: 'throw' })).toThrow(/probabilities-as-logits/);
      expect(() => f(probs, ids, { check: 'off' })).not.toThrow();
    }
    // a clean call is unchanged by the check
    const x = { data: Float32Array.of(2, -1, 0.5, -3, 4, 1), shape: [2, 3] };
    expect(Array.from(tokenLogProbs(x, ids, { check: 'throw' }))).toEqual(Array.from(tokenLogProbs(x, ids)));
    expect(() => tokenLogProbs(x, ids, { check: 'loud' } as never)).toThrow(new TypeError(`options.check: expected 'off', 'warn' or 'throw', got string "loud"`));
  });
});
