// Running an op's call on the backend in use, and what the losses make of the result.
import { kernels } from '../backend/select.ts';
import type { Call, CallResult } from '../backend/types.ts';
import { reduced } from '../outputs.ts';
import type { Reduction } from '../types.ts';

/** Runs a loss's call and reduces: per-row losses (`per` a row) for 'none', else the sum or the mean over
 *  `divisor`, as an f32 value (the sum itself is accumulated in float64). */
export function runReduced(call: Call, reduction: Reduction, divisor: number, per: number): { loss: number | Float32Array; result: CallResult } {
  if (reduction !== 'none') {
    const result = kernels().run(call);
    return { loss: reduced(result.total, reduction, divisor), result };
  }
  const loss = new Float32Array(call.rows * per);
  const result = kernels().run({ ...call, arrays: { ...call.arrays, loss: { role: 'out', data: loss, per } } });
  return { loss, result };
}

/** Runs a call and returns its out array `name` (a fresh view if it lives in WASM memory that grew). */
export function runFor(call: Call, name: string): Float32Array {
  return kernels().run(call).outs[name];
}
