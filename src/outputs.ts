// What the losses give back, written once: the reduction of a float64 sum, the upstream gradient as a
// scale per position, and the `out` buffer (checked, then returned as the caller passed it).
import { checkFloat32Array, checkNoOverlap, describe, readArg } from './args.ts';
import type { Reduction } from './types.ts';

/** A float64 sum reduced to the f32 loss: 'sum' as it is, 'mean' over `divisor` (positions, or their
 *  total weight). PyTorch's mean over nothing (or zero weight) is NaN, even where the sum is not 0. */
export function reduced(total: number, reduction: 'mean' | 'sum', divisor: number): number {
  return Math.fround(reduction === 'sum' ? total : divisor === 0 ? NaN : total / divisor);
}

/**
 * The upstream gradient d(objective)/d(loss) as the kernels take it: one scale for every position, or
 * (reduction 'none' with a Float32Array) one per position. A mean's gradient is divided by its divisor,
 * NaN over nothing, as PyTorch's.
 */
export function gradScale(
  gradOutput: unknown, reduction: Reduction, positions: number, divisor: number, unit: string,
): { gscale: number; scales: Float32Array | null } {
  if (reduction === 'none') {
    if (gradOutput instanceof Float32Array) {
      if (gradOutput.length !== positions) {
        throw new RangeError(`options.gradOutput: expected ${positions} values (one per ${unit}), got ${gradOutput.length}`);
      }
      return { gscale: 1, scales: gradOutput };
    }
    if (typeof gradOutput === 'number') return { gscale: gradOutput, scales: null };
    throw new TypeError(`options.gradOutput: expected a Float32Array or a number, got ${describe(gradOutput)}`);
  }
  if (typeof gradOutput !== 'number') {
    throw new TypeError(`options.gradOutput: expected a number for reduction '${reduction}', got ${describe(gradOutput)}`);
  }
  return { gscale: reduction === 'sum' ? gradOutput : divisor === 0 ? NaN : gradOutput / divisor, scales: null };
}

/**
 * Where an op writes its `length` floats: the caller's `out` (read once, by checkOptions), checked and not
 * overlapping any of `inputs` except exactly `inPlace`; or a fresh array.
 */
export function outBuffer(
  out: unknown, length: number, inputs: Parameters<typeof checkNoOverlap>[2], inPlace: ArrayBufferView | null, lengthNote = '',
): Float32Array {
  if (out === undefined) return new Float32Array(length);
  const dest = checkFloat32Array('options.out', readArg('options.out', out));
  if (dest.length !== length) throw new RangeError(`options.out: expected length ${length}${lengthNote}, got ${dest.length}`);
  checkNoOverlap('options.out', dest, inputs, inPlace);
  return dest;
}

/** What to return for `out`: the caller's own array, unless the backend re-derived the view it wrote
 *  (`result` is then another object: WASM memory that grew). */
export function returnedOut(result: Float32Array, dest: Float32Array, callerOut: unknown): Float32Array {
  return result === dest && callerOut !== undefined ? (callerOut as Float32Array) : result;
}
