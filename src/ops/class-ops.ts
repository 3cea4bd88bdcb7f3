// logsumexp, log_softmax and softmax as ops: the tensor reads as (N, C, S) around options.dim, and one
// kernel call runs the op over that class axis.
import type { ClassOp } from '../backend/types.ts';
import { checkInteger, checkOptions, readArg, shapeString } from '../args.ts';
import { outBuffer, returnedOut } from '../outputs.ts';
import { resolveTensor } from '../problem.ts';
import type { SoftmaxOptions } from '../types.ts';
import { runFor } from './run.ts';

export function runClassOp(op: ClassOp, input: unknown, options: SoftmaxOptions | undefined): Float32Array {
  const opts = checkOptions(options, ['dim', 'out']);
  const { data, shape } = resolveTensor(readArg('input', input), 'input');
  const rank = shape.length;
  if (rank === 0) throw new RangeError(`input.shape: expected at least 1 dimension, got []`);
  const dim = opts.dim === undefined ? -1 : checkInteger('options.dim', opts.dim);
  if (dim < -rank || dim >= rank) {
    throw new RangeError(`options.dim: expected an integer in [${-rank}, ${rank - 1}] for shape ${shapeString(shape)}, got ${dim}`);
  }
  const d = dim < 0 ? dim + rank : dim;
  const N = shape.slice(0, d).reduce((a, b) => a * b, 1);
  const C = shape[d];
  const S = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const length = op === 'logsumexp' ? N * S : data.length;
  // logSoftmax and softmax may run in place; logSumExp's smaller output may not alias its input
  const out = outBuffer(opts.out, length, [['input.data', data]], op === 'logsumexp' ? null : data);
  if (C === 0) out.fill(-Infinity); // logsumexp over nothing; the other ops' output is empty
  const result = C === 0 ? out : runFor({
    kernel: op, rows: N * S === 0 ? 0 : N, scalars: { C, S },
    arrays: { x: { role: 'in', data, per: C * S }, out: { role: 'out', data: out, per: op === 'logsumexp' ? S : C * S } },
    over: ['out', 'x'], // log_softmax and softmax run in place over the chunk's copy of x
  }, 'out');
  return returnedOut(result, out, opts.out);
}
