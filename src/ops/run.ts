// Running an op's call on the backend in use, and what the losses make of the result.
import { kernels } from '../backend/select.ts';
import type { Call, CallResult } from '../backend/types.ts';
import { reduced } from '../outputs.ts';
import type { Reduction } from '../types.ts';

/** Runs a loss's call and reduces: per-row losses (`per` a row) for 'none', else the sum or the mean over
 *  `divisor`, as an f32 value (the sum itself is accumulated in float64). */
export function runReduced(call: Call, reduction: Reduction, divisor: number, per: number): { loss: number | Float32Array; result: CallResult } {
  if (reduction !== 'none') {
    const result = run(call);
    return { loss: reduced(result.total, reduction, divisor), result };
  }
  const loss = new Float32Array(call.rows * per);
  const result = run({ ...call, arrays: { ...call.arrays, loss: { role: 'out', data: loss, per } } });
  return { loss, result };
}

/** Runs a call and returns its out array `name` (a fresh view if it lives in WASM memory that grew). */
export function runFor(call: Call, name: string): Float32Array {
  return run(call).outs[name];
}

/** What runs the calls: the backend in use, or while `throughRunner` runs, its runner. */
let runner: ((call: Call) => CallResult) | null = null;
const run = (call: Call): CallResult => (runner ? runner(call) : kernels().run(call));

/** @internal For the worker pool: runs `body` (an op) with every call it makes handed to `fn` instead of
 *  the backend. */
export function throughRunner<T>(fn: (call: Call) => CallResult, body: () => T): T {
  const before = runner;
  runner = fn;
  try {
    return body();
  } finally {
    runner = before;
  }
}
