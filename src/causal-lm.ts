// Hugging Face's causal language-model loss (transformers' ForCausalLMLoss): position t's logits predict
// labels[t + 1], the last position of each sequence predicts nothing, -100 marks padding, and with
// numItemsInBatch the sum is divided by it (the gradient-accumulation fix). It is crossEntropy over the
// logits read classes last, with the labels shifted by one; this module only does the shift.
import { checkOptions, describe, readArg, shapeString } from './args.ts';
import { CE_KEYS, GRAD_KEYS as CE_GRAD_KEYS, classIndexOf } from './problem.ts';
import { isShape, sameShape } from './shape.ts';
import { runLoss, runLossWithGrad } from './ops/spec.ts';
import { CROSS_ENTROPY } from './ops/xent.ts';
import type { CrossEntropyGradOptions, CrossEntropyOptions, Logits, LossWithGrad, Reduction } from './types.ts';

export interface CausalLMLossOptions extends Omit<CrossEntropyOptions, 'classes' | 'classAxis'> {
  /** The sum over the predicted tokens is divided by this (> 0) instead of their count, as transformers
   *  does when given num_items_in_batch (the tokens of the whole accumulated batch). Replaces `reduction`. */
  numItemsInBatch?: number;
}
export interface CausalLMLossGradOptions extends CausalLMLossOptions, Pick<CrossEntropyGradOptions, 'gradOutput' | 'out'> {}

// crossEntropy's options but the layout ones (the logits are classes last), and numItemsInBatch
const layoutFree = (keys: readonly string[]) => [...keys.filter((k) => k !== 'classes' && k !== 'classAxis'), 'numItemsInBatch'];
const KEYS = layoutFree(CE_KEYS), GRAD_KEYS = layoutFree(CE_GRAD_KEYS);
/** The shifted labels' mark for "predicts nothing": every other label is checked to be in [0, V). */
export const NONE = -1;

interface Shifted {
  /** Logits as [B * T, V], labels shifted as [B * T]. */
  x: unknown;
  target: Int32Array;
  B: number;
  T: number;
  /** The options as crossEntropy takes them (reduction 'sum' with numItemsInBatch). */
  opts: Record<string, unknown> & { reduction: Reduction };
  numItems: number | undefined;
}

/** The sequences of logits [B, T, V] or [T, V] (read), checked. */
export function sequencesOf(x: unknown): { B: number; T: number; V: number; lead: number[] } {
  const shape = (x as { shape?: unknown } | null)?.shape;
  if (!isShape(shape) || (shape.length !== 2 && shape.length !== 3)) {
    throw new (Array.isArray(shape) ? RangeError : TypeError)(
      `input: expected logits of shape [B, T, V] or [T, V] (classes last), got ${Array.isArray(shape) ? `shape [${shape.join(', ')}]` : describe(x)}`,
    );
  }
  const V = shape[shape.length - 1], T = shape[shape.length - 2], B = shape.length === 3 ? shape[0] : 1;
  return { B, T, V, lead: shape.slice(0, -1) };
}

/** Logits [B, T, V] or [T, V] (read) as [B * T, V], and labels (read) shifted by one: target[b, t] =
 *  labels[b, t + 1], NONE where that label is ignoreIndex and at t = T - 1; every label used is checked. */
export function shiftLabels(x: unknown, labels: unknown, ignoreIndex: unknown): { x: unknown; target: Int32Array; B: number; T: number } {
  const { B, T, V, lead } = sequencesOf(x);
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex)) {
    throw new TypeError(`options.ignoreIndex: expected an integer, got ${describe(ignoreIndex)}`);
  }
  const values = labelValues('labels', labels, lead);
  const target = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (t === T - 1) { target[i] = NONE; continue; }
      const raw = values[i + 1], v = classIndexOf(raw);
      if (v === null) throw new TypeError(`labels[${i + 1}] = ${describe(raw)} is not an integer token id`);
      if (v === ignoreIndex) target[i] = NONE;
      else if (v >= 0 && v < V) target[i] = v;
      else throw new RangeError(`labels[${i + 1}] = ${String(raw)} is out of range for a vocabulary of ${V} (the logits' last axis), and is not ignoreIndex ${ignoreIndex}`);
    }
  }
  return { x: { ...(x as object), shape: [B * T, V] }, target, B, T };
}

/** Reads the arguments once and shifts the labels (shiftLabels); the options as crossEntropy takes them. */
function shift(logits: unknown, labels: unknown, options: unknown, keys: readonly string[]): Shifted {
  const opts = checkOptions(options, keys);
  const { x, target, B, T } = shiftLabels(readArg('input', logits), readArg('labels', labels), opts.ignoreIndex ?? -100);
  let numItems: number | undefined;
  if (opts.numItemsInBatch !== undefined) {
    numItems = opts.numItemsInBatch as number;
    if (typeof numItems !== 'number') throw new TypeError(`options.numItemsInBatch: expected a number, got ${describe(numItems)}`);
    if (!(numItems > 0) || !Number.isFinite(numItems)) throw new RangeError(`options.numItemsInBatch: expected a finite number > 0, got ${numItems}`);
    if (opts.reduction !== undefined) throw new TypeError('options.numItemsInBatch replaces the reduction (the sum divided by it): drop options.reduction');
  }
  const { numItemsInBatch: _n, ignoreIndex: _i, ...rest } = opts;
  const reduction = (numItems !== undefined ? 'sum' : opts.reduction ?? 'mean') as Reduction;
  return { x, target, B, T, opts: { ...rest, ignoreIndex: NONE, reduction }, numItems };
}

/** The token ids (read) named `name`, [B, T] or [T] as the logits' leading axes, from a tensor or a flat
 *  array or list. */
export function labelValues(name: string, labels: unknown, lead: number[]): ArrayLike<unknown> {
  const n = lead.reduce((a, b) => a * b, 1);
  let values: unknown = labels;
  if (typeof labels === 'object' && labels !== null && 'data' in labels) {
    const { data, shape } = labels as { data: unknown; shape?: unknown };
    if (shape !== undefined && !(isShape(shape) && sameShape(shape, lead))) {
      throw new RangeError(`${name}: expected shape ${shapeString(lead)} (the logits' shape without the vocabulary), got ${isShape(shape) ? shapeString(shape) : describe(shape)}`);
    }
    values = data;
  }
  if (!Array.isArray(values) && !(ArrayBuffer.isView(values) && !(values instanceof DataView))) {
    throw new TypeError(`${name}: expected token ids (an integer typed array, an array or a tensor), got ${describe(labels)}`);
  }
  const list = values as ArrayLike<unknown>;
  if (list.length !== n) throw new RangeError(`${name}: expected ${n} token ids (shape ${shapeString(lead)}), got ${list.length}`);
  return list;
}

/** Per predicted position: [B, T - 1], each sequence's last position dropped (nothing when T = 0). */
export function dropLast<A extends Float32Array | Int32Array | Uint8Array>(per: A, B: number, T: number): A {
  const P = Math.max(T - 1, 0);
  const out = new (per.constructor as new (n: number) => A)(B * P);
  for (let b = 0; P > 0 && b < B; b++) out.set(per.subarray(b * T, b * T + P) as never, b * P);
  return out;
}

/** gradOutput per predicted position ([B, T - 1]) spread over all B * T positions, 0 at the last ones. */
function spread(g: unknown, B: number, T: number): unknown {
  if (!(g instanceof Float32Array)) return g;
  const P = Math.max(T - 1, 0);
  if (g.length !== B * P) {
    throw new RangeError(`options.gradOutput: expected ${B * P} values (one per predicted position, [B, T - 1]), got ${g.length}`);
  }
  const out = new Float32Array(B * T);
  for (let b = 0; P > 0 && b < B; b++) out.set(g.subarray(b * P, (b + 1) * P), b * T);
  return out;
}

/**
 * The causal LM loss of transformers (ForCausalLMLoss): cross-entropy of logits [B, T, V] (or [T, V])
 * against labels [B, T] (or [T]) shifted by one, position t predicting labels[t + 1]; labels equal to
 * ignoreIndex (-100) are not predicted, nor is anything by the last position. 'mean' (default) over the
 * predicted tokens, 'sum', 'none' ([B, T - 1] as a Float32Array), or with numItemsInBatch the sum divided
 * by it. temperature, softcap, zLoss, labelSmoothing, weight and check as for crossEntropy.
 */
export function causalLMLoss(logits: Logits, labels: unknown, options: CausalLMLossOptions & { reduction: 'none' }): Float32Array;
export function causalLMLoss(logits: Logits, labels: unknown, options?: CausalLMLossOptions & { reduction?: 'mean' | 'sum' }): number;
export function causalLMLoss(logits: Logits, labels: unknown, options?: CausalLMLossOptions): number | Float32Array;
export function causalLMLoss(logits: Logits, labels: unknown, options?: CausalLMLossOptions): number | Float32Array {
  const s = shift(logits, labels, options, KEYS);
  const loss = runLoss(CROSS_ENTROPY, s.x, s.target, s.opts);
  if (s.opts.reduction === 'none') return dropLast(loss as Float32Array, s.B, s.T);
  return s.numItems !== undefined ? Math.fround((loss as number) / s.numItems) : (loss as number); // a float32 division, as torch's
}

/**
 * causalLMLoss and its gradient d loss / d logits, laid out like the logits ([B, T, V]; 0 at each
 * sequence's last position and wherever the next label is ignored). gradOutput: a number, or for 'none'
 * one value per predicted position ([B, T - 1]). With zLoss, `zLoss` is its part of the loss.
 */
export function causalLMLossWithGrad(logits: Logits, labels: unknown, options: CausalLMLossGradOptions & { reduction: 'none' }): LossWithGrad<Float32Array>;
export function causalLMLossWithGrad(logits: Logits, labels: unknown, options?: CausalLMLossGradOptions & { reduction?: 'mean' | 'sum' }): LossWithGrad<number> & { zLoss?: number };
export function causalLMLossWithGrad(logits: Logits, labels: unknown, options?: CausalLMLossGradOptions): LossWithGrad & { zLoss?: number };
export function causalLMLossWithGrad(logits: Logits, labels: unknown, options?: CausalLMLossGradOptions): LossWithGrad & { zLoss?: number } {
  const s = shift(logits, labels, options, GRAD_KEYS);
  const opts = { ...s.opts };
  if (s.opts.reduction === 'none') opts.gradOutput = spread(opts.gradOutput, s.B, s.T);
  else if (s.numItems !== undefined) {
    const g = opts.gradOutput ?? 1;
    if (typeof g !== 'number') throw new TypeError(`options.gradOutput: expected a number for a reduced loss, got ${describe(g)}`);
    opts.gradOutput = g / s.numItems;
  }
  const r = runLossWithGrad(CROSS_ENTROPY, s.x, s.target, opts) as LossWithGrad & { zLoss?: number };
  if (s.opts.reduction === 'none') return { loss: dropLast(r.loss as Float32Array, s.B, s.T), grad: r.grad };
  if (s.numItems === undefined) return r;
  const out: LossWithGrad & { zLoss?: number } = { loss: Math.fround((r.loss as number) / s.numItems), grad: r.grad };
  if (r.zLoss !== undefined) out.zLoss = Math.fround(r.zLoss / s.numItems);
  return out;
}
