// Every bad argument gets a TypeError or RangeError naming the argument, the position and the value,
// before any work: the WASM heap does not grow, and the next call works.
import { describe, it } from 'vitest';
import {
  crossEntropy, crossEntropyWithGrad, logSoftmax, logSumExp, nllLoss, setBackend, softmax,
} from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectRefused, t6, x6 } from './helpers/refused.ts';

// A large input (8M logits, 32 MB) that would grow the heap if it were copied in before the checks.
const big = { data: new Float32Array(8 * 2 ** 20).fill(0.5), shape: [2 ** 20, 8] };
const bigTarget = new Int32Array(2 ** 20);

type Case = [name: string, call: () => unknown, error: typeof TypeError | typeof RangeError, message: string | RegExp];

const cases: Case[] = [
  ['index out of range', () => crossEntropy(x6, [0, 1, 2, 0, 1, 7]), RangeError, 'target[5] = 7 is out of range for 3 classes'],
  ['negative index that is not ignoreIndex', () => crossEntropy(x6, [0, -1, 2, 0, 1, 2]), RangeError, 'target[1] = -1 is out of range for 3 classes'],
  // an Int32Array is checked in place after the copy: the ignored positions before the bad one (turned
  // into the kernels' sentinel, -1) must not be the ones reported
  ['Int32Array index out of range after ignored positions', () => crossEntropy(x6, Int32Array.of(-100, -100, 1, -1, 1, 2)), RangeError, 'target[3] = -1 is out of range for 3 classes'],
  ['BigInt64Array index out of range', () => crossEntropy(x6, BigInt64Array.from([0n, 1n, 2n, 3n, 1n, 2n])), RangeError, 'target[3] = 3 is out of range for 3 classes'],
  ['index out of range in a large batch', () => { bigTarget[2 ** 20 - 1] = 9; return crossEntropy(big, bigTarget); }, RangeError, `target[${2 ** 20 - 1}] = 9 is out of range for 8 classes`],
  ['index that is not an integer', () => crossEntropy(x6, [0, 1, 1.5, 0, 1, 2]), TypeError, 'target[2] = number 1.5 is not an integer class index'],
  ['data length does not match the shape', () => crossEntropy({ data: new Float32Array(17), shape: [6, 3] }, t6), RangeError, 'input.data has 17 elements but input.shape [6, 3] needs 18'],
  ['too few targets', () => crossEntropy(x6, [0, 1, 2]), RangeError, 'target: expected 6 class indices (shape [6]), got 3'],
  ['K-dim index tensor of the wrong shape', () => crossEntropy({ data: new Float32Array(24), shape: [2, 3, 4] }, { data: new Int32Array(8), shape: [4, 2] }), RangeError, 'target: class indices must have shape [2, 4], got [4, 2]'],
  ['probability target of the wrong shape', () => crossEntropy(x6, { data: new Float32Array(18), shape: [3, 6] }), RangeError, "target: probability targets must have the input's shape [6, 3], got [3, 6]"],
  ['one number for a batch', () => crossEntropy(x6, 1), RangeError, /a single class index fits an input with 1 position/],
  ['flat float target', () => crossEntropy(x6, new Float32Array(6)), TypeError, /target: expected class indices .* got Float32Array\(6\)/],
  ['weight of the wrong length', () => crossEntropy(x6, t6, { weight: new Float32Array(4) }), RangeError, 'options.weight: expected length 3 (one per class), got 4'],
  ['weight of the wrong type', () => crossEntropy(x6, t6, { weight: 'heavy' as never }), TypeError, /options.weight: expected a Float32Array/],
  ['labelSmoothing above 1', () => crossEntropy(x6, t6, { labelSmoothing: 1.5 }), RangeError, 'options.labelSmoothing: expected a number in [0, 1], got 1.5'],
  ['labelSmoothing below 0', () => crossEntropy(x6, t6, { labelSmoothing: -0.1 }), RangeError, 'options.labelSmoothing: expected a number in [0, 1], got -0.1'],
  ['labelSmoothing not a number', () => crossEntropy(x6, t6, { labelSmoothing: '0.1' as never }), TypeError, /options.labelSmoothing: expected a number in \[0, 1\], got string "0.1"/],
  ['unknown reduction', () => crossEntropy(x6, t6, { reduction: 'avg' as never }), TypeError, `options.reduction: expected 'mean', 'sum' or 'none', got string "avg"`],
  ['unknown option (snake_case typo)', () => crossEntropy(x6, t6, { ignore_index: 1 } as never), TypeError, /options.ignore_index: unknown option; expected one of weight, ignoreIndex/],
  ['gradOutput on crossEntropy', () => crossEntropy(x6, t6, { gradOutput: 2 } as never), TypeError, /options.gradOutput: unknown option/],
  ['options not an object', () => crossEntropy(x6, t6, 'mean' as never), TypeError, 'options: expected a plain object, got string "mean"'],
  ['ignoreIndex not an integer', () => crossEntropy(x6, t6, { ignoreIndex: 0.5 }), TypeError, 'options.ignoreIndex: expected an integer, got number 0.5'],
  ['input as number[]', () => crossEntropy([1, 2, 3] as never, 0), TypeError, /input: expected \{ data: Float32Array, shape \} or a Float32Array, got Array\(3\)/],
  ['input data as Float64Array', () => crossEntropy({ data: new Float64Array(3) as never, shape: [3] }, 0), TypeError, 'input.data: expected a Float32Array, got Float64Array(3)'],
  ['flat input without classes', () => crossEntropy(new Float32Array(6), [0, 1]), TypeError, /a flat Float32Array needs options.classes/],
  ['flat input length not a multiple of classes', () => crossEntropy(new Float32Array(7), [0, 1], { classes: 3 }), RangeError, 'input: length 7 is not a multiple of options.classes = 3'],
  ['classes disagreeing with the shape', () => crossEntropy(x6, t6, { classes: 4 }), RangeError, /options.classes = 4 does not match the 3 classes/],
  ['shape with a negative dimension', () => crossEntropy({ data: new Float32Array(0), shape: [-1, 3] }, []), RangeError, 'input.shape[0]: expected a non-negative integer, got -1'],
  ['zero classes', () => crossEntropy({ data: new Float32Array(0), shape: [2, 0] }, [0, 0]), RangeError, /expected at least 1 class, got 0/],
  ['gradOutput of the wrong length', () => crossEntropyWithGrad(x6, t6, { reduction: 'none', gradOutput: new Float32Array(5) }), RangeError, 'options.gradOutput: expected 6 values (one per position), got 5'],
  ['gradOutput array with mean', () => crossEntropyWithGrad(x6, t6, { gradOutput: new Float32Array(6) }), TypeError, /options.gradOutput: expected a number for reduction 'mean'/],
  ['out of the wrong length', () => crossEntropyWithGrad(x6, t6, { out: new Float32Array(17) }), RangeError, "options.out: expected length 18 (the input's), got 17"],
  ['out of the wrong type', () => crossEntropyWithGrad(x6, t6, { out: new Float64Array(18) as never }), TypeError, 'options.out: expected a Float32Array, got Float64Array(18)'],
  ['nllLoss index out of range', () => nllLoss(x6, [0, 1, 2, 0, 3, 2]), RangeError, 'target[4] = 3 is out of range for 3 classes'],
  ['softmax dim out of range', () => softmax(x6, { dim: 2 }), RangeError, 'options.dim: expected an integer in [-2, 1] for shape [6, 3], got 2'],
  ['logSoftmax dim not an integer', () => logSoftmax(x6, { dim: 0.5 }), TypeError, 'options.dim: expected an integer, got number 0.5'],
  ['logSumExp unknown option', () => logSumExp(x6, { axis: 0 } as never), TypeError, /options.axis: unknown option; expected one of dim, out/],
  ['logSumExp out of the wrong length', () => logSumExp(x6, { out: new Float32Array(18) }), RangeError, 'options.out: expected length 6, got 18'],
  ['softmax out of the wrong type', () => softmax(x6, { out: [] as never }), TypeError, 'options.out: expected a Float32Array, got Array(0)'],
  ['setBackend with an unknown name', () => setBackend('gpu' as never), TypeError, `setBackend: expected 'wasm', 'js' or 'auto', got string "gpu"`],
];

describe.each(BACKENDS)('bad input on %s', (backend) => {
  useBackend(backend);

  it.each(cases)('%s', (_name, call, error, message) => expectRefused(call, error, message));
});
