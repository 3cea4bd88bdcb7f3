// The softmax family as ops: logsumexp, log_softmax, softmax and softmin, and the backward of the first
// three. The tensor reads as (N, C, S) around options.dim, and one kernel call runs the op over that class
// axis. A 0-d tensor is one class (PyTorch takes dim 0 or -1 there).
import type { BackwardOp, ClassOp } from '../backend/types.ts';
import { checkInteger, checkOptions, readArg, shapeString } from '../args.ts';
import { outBuffer, returnedOut } from '../outputs.ts';
import { resolveTensor } from '../problem.ts';
import { sameShape } from '../shape.ts';
import type { LogSumExpBackwardOptions, SoftmaxOptions } from '../types.ts';
import { runFor } from './run.ts';

interface Axis {
  N: number;
  C: number;
  S: number;
  /** The shape without the class axis (logsumexp's result), and with it kept as 1 (keepdim's). */
  reduced: number[];
  kept: number[];
}

/** The (N, C, S) layout of `shape` around options.dim (default: the last axis). */
function axisOf(shape: readonly number[], dimOption: unknown): Axis {
  const rank = Math.max(shape.length, 1);
  const dim = dimOption === undefined ? -1 : checkInteger('options.dim', dimOption);
  if (dim < -rank || dim >= rank) {
    throw new RangeError(`options.dim: expected an integer in [${-rank}, ${rank - 1}] for shape ${shapeString(shape)}, got ${dim}`);
  }
  if (shape.length === 0) return { N: 1, C: 1, S: 1, reduced: [], kept: [] };
  const d = dim < 0 ? dim + rank : dim;
  const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  const before = shape.slice(0, d), after = shape.slice(d + 1);
  return { N: prod(before), C: shape[d], S: prod(after), reduced: [...before, ...after], kept: [...before, 1, ...after] };
}

export function runClassOp(op: ClassOp, input: unknown, options: SoftmaxOptions | undefined): Float32Array {
  const opts = checkOptions(options, ['dim', 'out']);
  const { data, shape } = resolveTensor(readArg('input', input), 'input');
  const { N, C, S } = axisOf(shape, opts.dim);
  const length = op === 'logsumexp' ? N * S : data.length;
  // the others may run in place; logSumExp's smaller output may not alias its input
  const out = outBuffer(opts.out, length, [['input.data', data]], op === 'logsumexp' ? null : data);
  if (C === 0) out.fill(-Infinity); // logsumexp over nothing; the other ops' output is empty
  const result = C === 0 ? out : runFor({
    kernel: op, rows: N * S === 0 ? 0 : N, scalars: { C, S },
    arrays: { x: { role: 'in', data, per: C * S }, out: { role: 'out', data: out, per: op === 'logsumexp' ? S : C * S } },
    over: ['out', 'x'], // they run in place over the chunk's copy of x
  }, 'out');
  return returnedOut(result, out, opts.out);
}

/** What a backward op's second argument is, by the name the public function gives it. */
const SECOND = { log_softmax_backward: 'output', softmax_backward: 'output', logsumexp_backward: 'input' } as const;

/**
 * The backward of log_softmax, softmax (given the upstream gradient and the forward's output) or
 * logsumexp (given it and the forward's input; the gradient, and the forward's result if it is given, are
 * shaped like logsumexp's result): d/dx, shaped like the second argument.
 */
export function runBackwardOp(op: BackwardOp, gradOutput: unknown, second: unknown, options: LogSumExpBackwardOptions | undefined): Float32Array {
  const lse = op === 'logsumexp_backward';
  const opts = checkOptions(options, lse ? ['dim', 'out', 'result'] : ['dim', 'out']);
  const name = SECOND[op];
  const g = resolveTensor(readArg('gradOutput', gradOutput), 'gradOutput');
  const y = resolveTensor(readArg(name, second), name);
  const { N, C, S, reduced, kept } = axisOf(y.shape, opts.dim);
  // logsumexp's gradient and result: its result's shape, or that with the axis kept (keepdim=True's)
  const resultShaped = (what: string, shape: readonly number[]) => {
    if (lse ? sameShape(shape, reduced) || sameShape(shape, kept) : sameShape(shape, y.shape)) return;
    const want = lse ? `${shapeString(reduced)} (${name}.shape ${shapeString(y.shape)} without dim) or ${shapeString(kept)}` : `${shapeString(y.shape)} (${name}.shape)`;
    throw new RangeError(`${what}.shape: expected ${want}, got ${shapeString(shape)}`);
  };
  resultShaped('gradOutput', g.shape);
  const r = opts.result === undefined ? null : resolveTensor(readArg('options.result', opts.result), 'options.result');
  if (r) resultShaped('options.result', r.shape);
  // out may overwrite gradOutput or the output in place, but not logsumexp's input, which its kernel may
  // read twice
  const inPlace = lse ? null : opts.out === y.data ? y.data : g.data;
  const out = outBuffer(opts.out, y.data.length, [['gradOutput.data', g.data], [`${name}.data`, y.data], ...(r ? [['options.result.data', r.data] as const] : [])], inPlace);
  const result = y.data.length === 0 ? out : runFor({
    kernel: op, rows: N * S === 0 ? 0 : N, scalars: { C, S },
    arrays: {
      g: { role: 'in', data: g.data, per: lse ? S : C * S }, y: { role: 'in', data: y.data, per: C * S }, out: { role: 'out', data: out, per: C * S },
      lse: r ? { role: 'in', data: r.data, per: S } : null,
    },
    over: lse ? undefined : inPlace === y.data ? ['out', 'y'] : ['out', 'g'],
  }, 'out');
  return returnedOut(result, out, opts.out);
}
