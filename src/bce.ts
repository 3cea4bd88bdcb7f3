// binaryCrossEntropyWithLogits: torch.nn.functional.binary_cross_entropy_with_logits, and its gradient.
import { WeightMode, type Call, type CallArray } from './backend/types.ts';
import { checkFloat32Array, checkOptions, readArg, shapeString } from './args.ts';
import { runLoss } from './ops/run.ts';
import { gradScale, outBuffer, returnedOut } from './outputs.ts';
import { resolveReduction, resolveTensor } from './problem.ts';
import type { Reduction, Tensor } from './types.ts';

export interface BceOptions {
  /** Per-element rescaling weight, broadcast to the input's shape as PyTorch does (numpy rules, aligned
   *  on the last axis): a Tensor, or a Float32Array read as 1-D (one weight per last-axis position). */
  weight?: Tensor | Float32Array;
  /** Weight of the positive term, one per last-axis position (PyTorch's pos_weight). */
  posWeight?: Float32Array;
  /** 'mean' (default, over every element), 'sum' or 'none' (one loss per element). */
  reduction?: Reduction;
}

export interface BceGradOptions extends BceOptions {
  /** The upstream gradient: a number for 'mean'/'sum' (default 1); for 'none' a Float32Array with one value
   *  per element, or a number. */
  gradOutput?: number | Float32Array;
  /** Where to write the gradient (the input's length); may be the input's data (in place). */
  out?: Float32Array;
}

/** The weight as one of: none, one per last-axis position, one per element (broadcast copies otherwise). */
function resolveBceWeight(weight: unknown, shape: readonly number[], n: number): { w: Float32Array | null; mode: WeightMode } {
  if (weight === undefined || weight === null) return { w: null, mode: WeightMode.none };
  const { data, shape: ws } = resolveTensor(weight, 'options.weight');
  const L = shape.length ? shape[shape.length - 1] : 1;
  if (ws.length > shape.length) throw new RangeError(`options.weight: shape ${shapeString(ws)} does not broadcast to the input's ${shapeString(shape)}`);
  // right-aligned: every weight dimension is 1 or the input's
  const off = shape.length - ws.length;
  ws.forEach((d, i) => {
    if (d !== 1 && d !== shape[off + i]) throw new RangeError(`options.weight: shape ${shapeString(ws)} does not broadcast to the input's ${shapeString(shape)}`);
  });
  if (data.length === n) return { w: data, mode: WeightMode.perElement };
  if (data.length === L && ws[ws.length - 1] === L) return { w: data, mode: WeightMode.lastAxis };
  // another broadcast pattern: expand it once
  const out = new Float32Array(n);
  const strides = ws.map((_, i) => ws.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let i = 0; i < n; i++) {
    let rem = i, src = 0;
    for (let a = shape.length - 1; a >= 0; a--) {
      const coord = rem % shape[a];
      rem = (rem - coord) / shape[a];
      const k = a - off;
      if (k >= 0 && ws[k] !== 1) src += coord * strides[k];
    }
    out[i] = data[src];
  }
  return { w: out, mode: WeightMode.perElement };
}

function resolveBce(input: Tensor | Float32Array, target: Tensor | Float32Array, options: unknown, grad: boolean) {
  const opts = checkOptions(options, grad ? ['weight', 'posWeight', 'reduction', 'gradOutput', 'out'] : ['weight', 'posWeight', 'reduction']);
  const t = readArg('target', target);
  const { data: x, shape } = resolveTensor(readArg('input', input), 'input');
  const { data: y, shape: ts } = resolveTensor(t, 'target');
  if (y.length !== x.length || (!(t instanceof Float32Array) && shapeString(ts) !== shapeString(shape))) {
    throw new RangeError(`target: expected the input's shape ${shapeString(shape)}, got ${shapeString(ts)}`);
  }
  const L = shape.length ? shape[shape.length - 1] : 1;
  const { w, mode } = resolveBceWeight(opts.weight, shape, x.length);
  let pw: Float32Array | null = null;
  if (opts.posWeight !== undefined) {
    pw = checkFloat32Array('options.posWeight', opts.posWeight);
    if (pw.length !== L) throw new RangeError(`options.posWeight: expected ${L} values (the last axis), got ${pw.length}`);
  }
  return { x, y, L, w, mode, pw, reduction: resolveReduction(opts.reduction), opts };
}

/** The kernel call of a validated BCE problem: rows are elements. */
function bceCall(p: ReturnType<typeof resolveBce>, grad: Float32Array | null, gscale: number, scales: Float32Array | null): Call {
  const weight: CallArray | null = p.mode === WeightMode.perElement ? { role: 'in', data: p.w!, per: 1 }
    : p.mode === WeightMode.lastAxis ? { role: 'cycle', data: p.w!, period: p.L } : null;
  return {
    kernel: 'bce',
    rows: p.x.length,
    arrays: {
      x: { role: 'in', data: p.x, per: 1 }, y: { role: 'in', data: p.y, per: 1 }, weight,
      posWeight: p.pw ? { role: 'cycle', data: p.pw, period: p.L } : null,
      scales: scales ? { role: 'in', data: scales, per: 1 } : null,
      grad: grad ? { role: 'out', data: grad, per: 1 } : null,
      loss: null,
    },
    scalars: { L: p.L, wMode: p.mode, gscale },
    over: ['grad', 'x'],
  };
}

/**
 * Binary cross-entropy between logits and targets in [0, 1] of the same shape, as
 * torch.nn.functional.binary_cross_entropy_with_logits (the stable form max(x, 0) - x y + log1p(e^-|x|)).
 * @throws {TypeError} wrong argument types or unknown options; {RangeError} shape mismatches
 */
export function binaryCrossEntropyWithLogits(input: Tensor | Float32Array, target: Tensor | Float32Array, options?: BceOptions): number | Float32Array {
  const p = resolveBce(input, target, options, false);
  return runLoss(bceCall(p, null, 1, null), p.reduction, p.x.length, 1).loss;
}

/** The loss and d(loss)/d(input), laid out like the input, from one pass. */
export function binaryCrossEntropyWithLogitsWithGrad(
  input: Tensor | Float32Array, target: Tensor | Float32Array, options?: BceGradOptions,
): { loss: number | Float32Array; grad: Float32Array } {
  const p = resolveBce(input, target, options, true);
  const { gscale, scales } = gradScale(p.opts.gradOutput ?? 1, p.reduction, p.x.length, p.x.length, 'element');
  const grad = outBuffer(p.opts.out, p.x.length, [
    ['input.data', p.x], ['target.data', p.y], ['options.weight', p.w], ['options.posWeight', p.pw], ['options.gradOutput', scales],
  ], p.x);
  const { loss, result } = runLoss(bceCall(p, grad, gscale, scales), p.reduction, p.x.length, 1);
  return { loss, grad: returnedOut(result.outs.grad, grad, p.opts.out) };
}
