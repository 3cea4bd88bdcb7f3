// One fixed workload, run the same way on the page and inside Web Workers, so their numbers can be compared
// bit for bit: the seeds' example, every op on a K-dim batch with weights, smoothing and ignored targets,
// and a 512 x 1000 batch (large enough for the wasm kernels' blocked sums).
import type * as Xent from '../../src/index.ts';
import { randomIndices, randomLogits, randomProbs, rng } from '../helpers/random.ts';

export interface WorkloadResult {
  backend: string;
  values: Record<string, number[]>;
}

const arr = (v: number | ArrayLike<number>) => (typeof v === 'number' ? [v] : Array.from(v));

/** Runs the workload on the backend `xent` uses now and returns every output as plain arrays. */
export function runWorkload(xent: typeof Xent): WorkloadResult {
  const values: Record<string, number[]> = {};
  const seed = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };
  values.seedLoss = arr(xent.crossEntropy(seed, 3));
  values.seedNaive = [-Math.log(xent.softmax(seed)[3])];

  const rand = rng(2026);
  const shape = [4, 37, 3, 5];
  const x = { data: randomLogits(rand, 4 * 37 * 15, 4), shape };
  const t = { data: randomIndices(rand, 4 * 15, 37, -100, 0.2), shape: [4, 3, 5] };
  const weight = Float32Array.from({ length: 37 }, () => rand() * 2);
  const opts = { weight, labelSmoothing: 0.1 };
  values.kdimMean = arr(xent.crossEntropy(x, t, opts));
  const none = xent.crossEntropyWithGrad(x, t, { ...opts, reduction: 'none' });
  values.kdimNone = arr(none.loss);
  values.kdimGrad = arr(none.grad);
  values.probLoss = arr(xent.crossEntropy(x, { data: randomProbs(rand, 4, 37, 15), shape }));
  values.nll = arr(xent.nllLoss(x, t, { reduction: 'sum' }));
  values.logSoftmax = arr(xent.logSoftmax(x, { dim: 1 }));
  values.softmax = arr(xent.softmax(x, { dim: -1 }));
  values.logSumExp = arr(xent.logSumExp(x, { dim: 1 }));

  const big = { data: randomLogits(rand, 512 * 1000, 3), shape: [512, 1000] };
  const bigT = randomIndices(rand, 512, 1000);
  const g = xent.crossEntropyWithGrad(big, bigT);
  values.bigLoss = arr(g.loss);
  values.bigGrad = arr(g.grad);
  return { backend: xent.getBackend(), values };
}
