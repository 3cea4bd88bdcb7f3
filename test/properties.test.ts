// Property tests: random shapes, targets and options against the float64 reference, on both backends,
// plus identities the math guarantees whatever the data.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad, logSoftmax, logSumExp, nllLoss, softmax } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { randomIndices, randomLogits, randomProbs, rng } from './helpers/random.ts';
import { classOp64, crossEntropy64, layoutOf } from './reference/ce64.ts';

const RUNS = { seed: 20261123, numRuns: 150 };

const caseArb = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  rank: fc.integer({ min: 1, max: 4 }),
  N: fc.integer({ min: 0, max: 5 }),
  C: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(127, 128, 129, 1000)),
  d: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 2 }),
  prob: fc.boolean(),
  weighted: fc.boolean(),
  ignoredShare: fc.constantFrom(0, 0.3, 1),
  ignoreIndex: fc.constantFrom(-100, 0, -1),
  eps: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
  reduction: fc.constantFrom('mean', 'sum', 'none' as const),
  scale: fc.constantFrom(1, 5, 30),
});

type Case = fc.Infer<typeof caseArb>;

function build(k: Case) {
  const rand = rng(k.seed);
  const shape = k.rank === 1 ? [k.C] : [k.N, k.C, ...k.d.slice(0, k.rank - 2)];
  const { N, C, S } = layoutOf(shape);
  const data = randomLogits(rand, N * C * S, k.scale);
  const weight = k.weighted ? Float32Array.from({ length: C }, () => rand() * 2) : undefined;
  const ignoreIndex = k.ignoreIndex === 0 ? Math.min(1, C - 1) : k.ignoreIndex; // an in-range class used as ignore
  const index = randomIndices(rand, N * S, C, ignoreIndex, k.ignoredShare);
  const prob = randomProbs(rand, N, C, S);
  const target = k.prob ? { data: prob, shape } : index;
  const opts = { weight, ignoreIndex, labelSmoothing: k.eps, reduction: k.reduction };
  const want = crossEntropy64(data, shape, k.prob ? prob : index, !k.prob, opts);
  return { shape, data, target, opts, want, N, C, S };
}

describe.each(BACKENDS)('properties on %s', (backend) => {
  useBackend(backend);

  it('crossEntropy matches the float64 reference on random shapes and options', () => {
    fc.assert(fc.property(caseArb, (k) => {
      const { shape, data, target, opts, want } = build(k);
      expectClose(crossEntropy({ data, shape }, target, opts) as number, want, TOL.loss, JSON.stringify(k));
    }), RUNS);
  });

  it('crossEntropyWithGrad returns the same loss, and each position\'s gradient sums to zero over classes', () => {
    fc.assert(fc.property(caseArb, (k) => {
      const { shape, data, target, opts, want, N, C, S } = build(k);
      const { loss, grad } = crossEntropyWithGrad({ data, shape }, target, opts);
      expectClose(loss as number, want, TOL.loss, 'loss');
      expect(grad.length).toBe(data.length);
      // d/dx sum_c of (Q softmax_c - q_c) = Q - Q = 0: a shift of a whole row cannot change the loss
      let worst = 0, scale = 0;
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) {
        let sum = 0;
        for (let c = 0; c < C; c++) {
          const g = grad[(n * C + c) * S + s];
          sum += g;
          scale = Math.max(scale, Math.abs(g));
        }
        worst = Math.max(worst, Math.abs(sum));
      }
      expect(worst).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-3) * Math.sqrt(C) + 1e-30);
    }), RUNS);
  });

  it('nllLoss on log_softmax(x) equals crossEntropy on x', () => {
    fc.assert(fc.property(caseArb, (k) => {
      const { shape, data, target, opts } = build(k);
      const d = shape.length === 1 ? 0 : 1;
      const lp = logSoftmax({ data, shape }, { dim: d });
      const want = crossEntropy64(lp, shape, k.prob ? (target as { data: Float32Array }).data : (target as Int32Array), !k.prob, opts, true);
      expectClose(nllLoss({ data: lp, shape }, target, opts) as number, want, TOL.loss, 'nll');
      expectClose(nllLoss({ data: lp, shape }, target, opts) as number, crossEntropy({ data, shape }, target, opts) as number, TOL.loss, 'nll vs ce');
    }), RUNS);
  });

  it('logSoftmax, softmax and logSumExp match the reference along every axis', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }), fc.nat(), (seed, shape, dimPick) => {
      const rand = rng(seed);
      const data = randomLogits(rand, shape.reduce((a, b) => a * b, 1), 10);
      const d = dimPick % shape.length;
      const N = shape.slice(0, d).reduce((a, b) => a * b, 1), C = shape[d], S = shape.slice(d + 1).reduce((a, b) => a * b, 1);
      const dim = dimPick % 2 ? d - shape.length : d; // negative and positive spellings
      expectClose(logSoftmax({ data, shape }, { dim }), classOp64('log_softmax', data, N, C, S), TOL.logSoftmax, 'logSoftmax');
      expectClose(softmax({ data, shape }, { dim }), classOp64('softmax', data, N, C, S), TOL.softmax, 'softmax');
      expectClose(logSumExp({ data, shape }, { dim }), classOp64('logsumexp', data, N, C, S), TOL.logSoftmax, 'logSumExp');
    }), RUNS);
  });

  it('softmax rows sum to 1 and log-softmax is shift invariant', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 300 }), fc.double({ min: -50, max: 50, noNaN: true }), (seed, C, shift) => {
      const data = randomLogits(rng(seed), 3 * C, 8);
      const p = softmax({ data, shape: [3, C] });
      for (let n = 0; n < 3; n++) expect(Math.abs(p.subarray(n * C, (n + 1) * C).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
      const shifted = data.map((v) => v + shift);
      expectClose(logSoftmax({ data: shifted, shape: [3, C] }), logSoftmax({ data, shape: [3, C] }), { rtol: 1e-5, atol: 1e-4 }, 'shift');
    }), RUNS);
  });
});
