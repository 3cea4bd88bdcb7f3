// The gradient against central finite differences of the float64 reference loss, on small cases that
// cover every option, target kind and layout, on both backends.
import { describe, it } from 'vitest';
import { crossEntropyWithGrad } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { randomIndices, randomLogits, randomProbs, rng } from './helpers/random.ts';
import { crossEntropy64, layoutOf, type RefOptions } from './reference/ce64.ts';

/** d objective / dx by central differences, objective = sum(loss * gradOutput) in float64. */
function numericGrad(
  x: Float32Array, shape: number[], target: ArrayLike<number>, isIndex: boolean, opts: RefOptions, gout: number | Float32Array,
): Float64Array {
  const xs = Float64Array.from(x);
  const objective = () => {
    const l = crossEntropy64(xs, shape, target, isIndex, opts);
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
