// What the elementwise losses (BCE with logits, KL divergence) share: an input and a target of one shape,
// and the gradient's destination and scale.
import { shapeString } from '../args.ts';
import { gradScale, outBuffer } from '../outputs.ts';
import { resolveTensor } from '../problem.ts';
import type { Reduction } from '../types.ts';

/** The input and the target, which must have its shape (a bare Float32Array target: its length). */
export function resolvePair(input: unknown, target: unknown): { x: Float32Array; y: Float32Array; shape: readonly number[] } {
  const { data: x, shape } = resolveTensor(input, 'input');
  const { data: y, shape: ts } = resolveTensor(target, 'target');
  if (y.length !== x.length || (!(target instanceof Float32Array) && shapeString(ts) !== shapeString(shape))) {
    throw new RangeError(`target: expected the input's shape ${shapeString(shape)}, got ${shapeString(ts)}`);
  }
  return { x, y, shape };
}

/** The gradient of an elementwise loss over x: where it goes (options.out, checked against `inputs`; in
 *  place over x allowed) and its scale per element. */
export function elementwiseGrad(
  opts: Record<string, unknown>, x: Float32Array, reduction: Reduction, divisor: number,
  inputs: Parameters<typeof outBuffer>[2],
): { grad: Float32Array; gscale: number; scales: Float32Array | null } {
  const { gscale, scales } = gradScale(opts.gradOutput ?? 1, reduction, x.length, divisor, 'element');
  const grad = outBuffer(opts.out, x.length, [['input.data', x], ...inputs, ['options.gradOutput', scales]], x);
  return { grad, gscale, scales };
}
