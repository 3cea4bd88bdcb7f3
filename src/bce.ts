// binaryCrossEntropyWithLogits: torch.nn.functional.binary_cross_entropy_with_logits, and its gradient.
import { kernels } from './backend/select.ts';
import { WeightMode, type BceJob } from './backend/types.ts';
import { checkFloat32Array, checkOptions, readArg, shapeString } from './args.ts';
import { gradScale, outBuffer, reduced, returnedOut } from './outputs.ts';
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
  const R = L ? x.length / L : 0;
  const { w, mode } = resolveBceWeight(opts.weight, shape, x.length);
  let pw: Float32Array | null = null;
  if (opts.posWeight !== undefined) {
    pw = checkFloat32Array('options.posWeight', opts.posWeight);
    if (pw.length !== L) throw new RangeError(`options.posWeight: expected ${L} values (the last axis), got ${pw.length}`);
  }
  return { x, y, R, L, w, mode, pw, reduction: resolveReduction(opts.reduction), opts };
}

/** Runs the job and reduces; with the backend's result (its gradient view). */
function run(p: ReturnType<typeof resolveBce>, extra: Partial<BceJob>): { loss: number | Float32Array; grad: Float32Array | null } {
  const loss = p.reduction === 'none' ? new Float32Array(p.x.length) : null;
  const job: BceJob = { x: p.x, y: p.y, R: p.R, L: p.L, weight: p.w, wMode: p.mode, posWeight: p.pw, loss, grad: null, scales: null, gscale: 1, ...extra };
  const { total, grad } = kernels().bce(job);
  return { loss: loss ?? reduced(total, p.reduction as 'mean' | 'sum', p.x.length), grad };
}

/**
 * Binary cross-entropy between logits and targets in [0, 1] of the same shape, as
 * torch.nn.functional.binary_cross_entropy_with_logits (the stable form max(x, 0) - x y + log1p(e^-|x|)).
 * @throws {TypeError} wrong argument types or unknown options; {RangeError} shape mismatches
 */
export function binaryCrossEntropyWithLogits(input: Tensor | Float32Array, target: Tensor | Float32Array, options?: BceOptions): number | Float32Array {
  return run(resolveBce(input, target, options, false), {}).loss;
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
  const result = run(p, { grad, gscale, scales });
  return { loss: result.loss, grad: returnedOut(result.grad!, grad, p.opts.out) };
}
