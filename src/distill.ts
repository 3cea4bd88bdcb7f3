// Knowledge distillation from the raw logits of a student and a teacher, fused: Hinton et al.'s
// T^2 KL(softmax(teacher / T) || softmax(student / T)), the reverse KL, or Liger-Kernel's generalised
// Jensen-Shannon divergence, optionally mixed with the student's cross-entropy on hard labels. The math is
// assembly/distill.ts's; this file reads the arguments and plans the call.
import { IGNORED, type Call } from './backend/types.ts';
import { checkChoice, checkOptions, describe, readArg, shapeString } from './args.ts';
import { labelValues } from './causal-lm.ts';
import { gradScale, outBuffer, returnedOut } from './outputs.ts';
import { normaliseIndices, resolveInput, resolveTemperature } from './problem.ts';
import { runReduced } from './ops/run.ts';
import { sameShape } from './shape.ts';
import type { Logits, LossWithGrad, Reduction } from './types.ts';

export interface DistillationOptions {
  /** T (default 1): both models' logits are divided by it; the divergence is multiplied by T^2. */
  temperature?: number;
  /** 0 (default): KL(P || Q), P the teacher's distribution and Q the student's; 1: KL(Q || P); in
   *  between, beta KL(P || M) + (1 - beta) KL(Q || M) with M = beta P + (1 - beta) Q. */
  beta?: number;
  /** Hard labels, one class index per row (the logits' shape without the last axis); rows whose label is
   *  ignoreIndex are skipped (no loss, no gradient, not counted). */
  labels?: unknown;
  ignoreIndex?: number;
  /** With labels: the loss is alpha * CE(student, labels) + (1 - alpha) * distillation, CE at
   *  temperature 1. Default 0. */
  alpha?: number;
  /** 'batchmean' (default): the sum over the rows divided by the rows counted; 'sum'; 'none': per row. */
  reduction?: 'batchmean' | 'sum' | 'none';
}

export interface DistillationGradOptions extends DistillationOptions {
  /** The upstream gradient: a number (default 1), or one value per row for 'none'. */
  gradOutput?: number | Float32Array;
  /** Where the gradient goes (the student's length); it may not be the student's own data. */
  out?: Float32Array;
}

const KEYS = ['temperature', 'beta', 'labels', 'ignoreIndex', 'alpha', 'reduction'] as const;
const GRAD_KEYS = [...KEYS, 'gradOutput', 'out'] as const;

/** A number in [0, 1]. */
function unitInterval(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw new TypeError(`options.${name}: expected a number in [0, 1], got ${describe(v)}`);
  if (!(v >= 0 && v <= 1)) throw new RangeError(`options.${name}: expected a number in [0, 1], got ${v}`);
  return v;
}

/** A model's logits [..., V] (or a bare Float32Array: one row) as rows of V. */
function rowsOf(name: string, x: unknown) {
  const flat = x instanceof Float32Array ? { data: x, shape: [x.length] } : x;
  const layout = resolveInput(flat, undefined, name);
  const { shape } = layout, V = shape[shape.length - 1];
  return { ...layout, V, rows: layout.data.length / Math.max(V, 1), lead: shape.slice(0, -1) as number[] };
}

/** Reads and checks the arguments once; the call, the reduction and its divisor. */
function plan(student: unknown, teacher: unknown, options: unknown, grad: boolean) {
  const opts = checkOptions(options, grad ? GRAD_KEYS : KEYS);
  const s = rowsOf('studentLogits', readArg('studentLogits', student));
  const t = rowsOf('teacherLogits', readArg('teacherLogits', teacher));
  if (!sameShape(s.shape, t.shape)) {
    throw new RangeError(`teacherLogits: expected the student's shape ${shapeString(s.shape)}, got ${shapeString(t.shape)}`);
  }
  const invT = 1 / resolveTemperature(opts.temperature);
  const beta = unitInterval('beta', opts.beta, 0), alpha = unitInterval('alpha', opts.alpha, 0);
  if (opts.reduction === 'mean') {
    throw new RangeError(`options.reduction: 'mean' is not taken: F.kl_div's 'mean' also divides by the classes; use 'batchmean' (the default: per row) or 'sum'`);
  }
  const reduction = checkChoice('options.reduction', opts.reduction, ['batchmean', 'sum', 'none'] as const, 'batchmean');
  const ignoreIndex = opts.ignoreIndex === undefined ? -100 : opts.ignoreIndex;
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex)) throw new TypeError(`options.ignoreIndex: expected an integer, got ${describe(ignoreIndex)}`);
  if (alpha > 0 && opts.labels === undefined) throw new TypeError(`options.alpha = ${alpha} mixes in the cross-entropy with hard labels: pass options.labels`);
  const labels = opts.labels === undefined ? null : normaliseIndices(labelValues('options.labels', opts.labels, s.lead), s.V, ignoreIndex, 'options.labels');
  let counted = s.rows;
  if (labels) for (let i = 0; i < labels.length; i++) if (labels[i] === IGNORED) counted--;
  const red: Reduction = reduction === 'batchmean' ? 'mean' : reduction;
  let g: { out: Float32Array; gscale: number; scales: Float32Array | null } | null = null;
  if (grad) {
    const { gscale, scales } = gradScale(opts.gradOutput ?? 1, red, s.rows, counted, 'row');
    // never over the student's logits: the kernel keeps the exponentials there while it reads them
    const out = outBuffer(opts.out, s.data.length, [['studentLogits.data', s.data], ['teacherLogits.data', t.data], ['options.gradOutput', scales]], null, " (the student's)");
    g = { out, gscale, scales };
  }
  const call: Call = {
    kernel: 'distill', rows: s.V === 0 ? 0 : s.rows,
    arrays: {
      s: { role: 'in', data: s.data, per: s.V }, t: { role: 'in', data: t.data, per: s.V },
      labels: labels ? { role: 'in', data: labels, per: 1 } : null,
      scales: g?.scales ? { role: 'in', data: g.scales, per: 1 } : null,
      grad: g ? { role: 'out', data: g.out, per: s.V } : null, loss: null,
    },
    scalars: { C: s.V, halfS: s.half, halfT: t.half, invT, mode: beta === 0 ? 0 : beta === 1 ? 1 : 2, beta, alpha, gscale: g?.gscale ?? 1 },
  };
  return { call, reduction: red, counted, opts, out: g?.out };
}

/**
 * The distillation loss of a student's logits against a teacher's, both [..., V] (classes last; either
 * may be float16 or bfloat16): per row T^2 times KL(P || Q) (beta 0, the default), KL(Q || P) (beta 1) or
 * the generalised JSD (0 < beta < 1), with P = softmax(teacher / T), Q = softmax(student / T); with
 * labels and alpha, alpha * CE + (1 - alpha) times that. A class the teacher gives probability 0 adds 0.
 * @throws {TypeError} for a wrong kind of argument or option, alpha without labels
 * @throws {RangeError} for shapes that differ, T <= 0, beta or alpha outside [0, 1], a label out of range,
 *   reduction 'mean'
 */
export function distillationLoss(studentLogits: Logits, teacherLogits: Logits, options: DistillationOptions & { reduction: 'none' }): Float32Array;
export function distillationLoss(studentLogits: Logits, teacherLogits: Logits, options?: DistillationOptions & { reduction?: 'batchmean' | 'sum' }): number;
export function distillationLoss(studentLogits: Logits, teacherLogits: Logits, options?: DistillationOptions): number | Float32Array;
export function distillationLoss(studentLogits: Logits, teacherLogits: Logits, options?: DistillationOptions): number | Float32Array {
  const p = plan(studentLogits, teacherLogits, options, false);
  return runReduced(p.call, p.reduction, p.counted, 1).loss;
}

/** distillationLoss and its gradient with respect to the student's logits (laid out like them), from one
 *  pass over each row; gradOutput and out as for crossEntropyWithGrad (out may not be the student's data). */
export function distillationLossWithGrad(studentLogits: Logits, teacherLogits: Logits, options: DistillationGradOptions & { reduction: 'none' }): LossWithGrad<Float32Array>;
export function distillationLossWithGrad(studentLogits: Logits, teacherLogits: Logits, options?: DistillationGradOptions & { reduction?: 'batchmean' | 'sum' }): LossWithGrad<number>;
export function distillationLossWithGrad(studentLogits: Logits, teacherLogits: Logits, options?: DistillationGradOptions): LossWithGrad;
export function distillationLossWithGrad(studentLogits: Logits, teacherLogits: Logits, options?: DistillationGradOptions): LossWithGrad {
  const p = plan(studentLogits, teacherLogits, options, true);
  const { loss, result } = runReduced(p.call, p.reduction, p.counted, 1);
  return { loss, grad: returnedOut(result.outs.grad, p.out!, p.opts.out) };
}
