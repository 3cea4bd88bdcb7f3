// The gradient against central finite differences of the float64 reference loss, on small cases that
// cover every option, target kind and layout, on both backends.
import { describe, it } from 'vitest';
import { binaryCrossEntropyWithLogitsWithGrad, crossEntropyWithGrad } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { randomIndices, randomLogits, randomProbs, rng } from './helpers/random.ts';
import { crossEntropy64, layoutOf, type RefOptions } from './reference/ce64.ts';
import { bce64, crossEntropyRef64 } from './reference/xent64.ts';

/** d objective / dx by central differences, objective = sum(loss * gradOutput) in float64. */
function numericGrad(
  x: Float32Array, shape: number[], target: ArrayLike<number>, isIndex: boolean, opts: RefOptions, gout: number | Float32Array,
): Float64Array {
  return centralDifferences(x, (xs) => crossEntropy64(xs, shape, target, isIndex, opts), gout);
}

/** d(sum(loss(x) * gout))/dx by central differences of a float64 loss. */
function centralDifferences(
  x: Float32Array, loss: (xs: Float64Array) => number | number[], gout: number | Float32Array,
): Float64Array {
  const xs = Float64Array.from(x);
  const objective = () => {
    const l = loss(xs);
    return typeof l === 'number' ? l * (gout as number) : l.reduce((a, v, i) => a + v * (typeof gout === 'number' ? gout : gout[i]), 0);
  };
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const h = 1e-5 * Math.max(1, Math.abs(xs[i]));
    const v = xs[i];
    xs[i] = v + h;
    const up = objective();
    xs[i] = v - h;
    const down = objective();
    xs[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

const shapes: number[][] = [[5], [3, 7], [2, 5, 3], [2, 4, 2, 3], [4, 1]];
const reductions = ['mean', 'sum', 'none'] as const;

describe.each(BACKENDS)('gradient vs finite differences on %s', (backend) => {
  useBackend(backend);
  let seed = 1;
  for (const shape of shapes) {
    for (const prob of [false, true]) {
      for (const reduction of reductions) {
        it(`${JSON.stringify(shape)} ${prob ? 'prob' : 'index'} ${reduction} with weight, ignore and smoothing variants`, () => {
          for (const [weighted, eps, ignored] of [[false, 0, 0], [true, 0, 0.3], [false, 0.2, 0.3], [true, 0.7, 0], [true, 1, 0.3]] as const) {
            const rand = rng(seed++);
            const { N, C, S } = layoutOf(shape);
            const x = randomLogits(rand, N * C * S, 2);
            const index = randomIndices(rand, N * S, C, -100, ignored);
            const probs = randomProbs(rand, N, C, S);
            const weight = weighted ? Float32Array.from({ length: C }, () => 0.2 + rand() * 2) : undefined;
            const gradOutput = reduction === 'none' ? Float32Array.from({ length: N * S }, () => rand() * 2 - 0.5) : 1.5;
            const opts = { weight, labelSmoothing: eps, reduction };
            const target = prob ? { data: probs, shape } : index;
            const { grad } = crossEntropyWithGrad({ data: x, shape }, target, { ...opts, gradOutput });
            // a mean over only ignored positions is NaN, but its gradient is zero (as in PyTorch)
            const allIgnored = !prob && index.every((t) => t === -100);
            const want = allIgnored ? new Float64Array(x.length) : numericGrad(x, shape, prob ? probs : index, !prob, opts, gradOutput);
            expectClose(grad, want, TOL.grad, `weighted=${weighted} eps=${eps} ignored=${ignored}`);
          }
        });
      }
    }
  }
});

// The options that act on logits, and BCE, against central differences of their float64 losses (the
// loss alone: the references' analytic gradients are not used here).
describe.each(BACKENDS)('more gradients vs finite differences on %s', (backend) => {
  useBackend(backend);

  for (const shape of [[4, 7], [2, 5, 3], [6, 20]]) {
    it(`${JSON.stringify(shape)}: temperature, z-loss and softcap, alone and together`, () => {
      const rand = rng(shape.length * 100 + shape[1]);
      const { N, C, S } = layoutOf(shape);
      for (const extra of [{ temperature: 0.7 }, { zLoss: 1e-2 }, { softcap: 2.5 }, { temperature: 1.8, zLoss: 5e-3, softcap: 4, labelSmoothing: 0.1 }]) {
        const x = randomLogits(rand, N * C * S, 2);
        const index = randomIndices(rand, N * S, C, -100, 0.2);
        for (const reduction of reductions) {
          const gradOutput = reduction === 'none' ? Float32Array.from({ length: N * S }, () => rand() * 2 - 0.5) : 1.5;
          const opts = { ...extra, reduction };
          const { grad } = crossEntropyWithGrad({ data: x, shape }, index, { ...opts, gradOutput });
          const want = index.every((t) => t === -100) ? new Float64Array(x.length)
            : centralDifferences(x, (xs) => crossEntropyRef64(xs, shape, index, true, opts).loss, gradOutput);
          expectClose(grad, want, TOL.grad, `${JSON.stringify(extra)} ${reduction}`);
        }
      }
    });
  }

  for (const shape of [[9], [3, 5], [2, 3, 4]]) {
    it(`${JSON.stringify(shape)}: binaryCrossEntropyWithLogits with weight and posWeight`, () => {
      const rand = rng(shape.reduce((a, b) => a * b, 7));
      const n = shape.reduce((a, b) => a * b, 1), L = shape[shape.length - 1];
      const x = randomLogits(rand, n, 4);
      const y = Float32Array.from({ length: n }, () => rand());
      const weight = { data: Float32Array.from({ length: L }, () => 0.2 + rand() * 2), shape: [L] };
      const posWeight = Float32Array.from({ length: L }, () => 0.5 + rand() * 3);
      for (const reduction of reductions) {
        const gradOutput = reduction === 'none' ? Float32Array.from({ length: n }, () => rand() * 2 - 0.5) : 0.75;
        const { grad } = binaryCrossEntropyWithLogitsWithGrad({ data: x, shape }, { data: y, shape }, { weight, posWeight, reduction, gradOutput });
        const want = centralDifferences(x, (xs) => bce64(xs, y, shape, { weight, posWeight, reduction }).loss, gradOutput);
        expectClose(grad, want, TOL.grad, reduction);
      }
    });
  }
});
