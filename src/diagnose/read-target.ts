// Reading the target without refusing it: where crossEntropy throws for a target of the wrong form or
// shape, diagnose reports a finding and reads what it can.
import { checkShape, describe, shapeString } from '../args.ts';
import { targetForm, type Layout } from '../problem.ts';
import { positionShape, sameShape } from '../shape.ts';
import { Findings, plural } from './findings.ts';
import { SHOWN } from './thresholds.ts';

type TargetView =
  | { kind: 'index'; raw: ArrayLike<unknown> }
  /** quiet: the rows were already explained (one-hot rows in a form crossEntropy refuses). */
  | { kind: 'prob'; data: ArrayLike<number>; quiet: boolean }
  | { kind: 'none' };

/** A nested number[][] (from tensor.tolist()) flattened in row-major order; null when ragged. */
function flatten(a: readonly unknown[]): { values: unknown[]; nested: boolean } | null {
  if (!a.some((v) => Array.isArray(v))) return { values: a as unknown[], nested: false };
  if (!a.every((v) => Array.isArray(v))) return null;
  const parts = a.map((v) => flatten(v as unknown[]));
  if (parts.some((p) => p === null)) return null;
  const len = (parts[0] as { values: unknown[] }).values.length;
  if (parts.some((p) => p!.values.length !== len)) return null;
  return { values: parts.flatMap((p) => p!.values), nested: true };
}

function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : NaN;
}

/** The hint for the most common shape mistake of sequence models: logits laid out [batch, time, classes]. */
function classesLastHint(layout: Layout, targetShape: readonly number[] | null, targetLength: number): string {
  const { shape } = layout;
  if (shape.length !== 3) return '';
  const fits = targetShape ? sameShape(targetShape, [shape[0], shape[1]]) : targetLength === shape[0] * shape[1];
  if (!fits) return '';
  return ` If your logits are laid out [batch, time, classes] (classes last, as language models return them), ` +
    `move the classes to axis 1 (PyTorch: logits.transpose(1, 2)) or flatten to [batch*time, classes] and the ` +
    `target to [batch*time].`;
}

export function readTarget(target: unknown, layout: Layout, f: Findings): TargetView {
  const { N, C, S, shape } = layout;
  const P = N * S;
  const full = N * C * S;
  const want = positionShape(shape);
  const expect = `crossEntropy expects ${P} class indices (shape ${shapeString(want)}) or probabilities ` +
    `{ data: Float32Array, shape: ${shapeString(shape)} }`;
  const mismatch = (what: string, tshape: readonly number[] | null, len: number): TargetView => {
    f.add('target-shape', 'error', `target is ${what}, which fits neither: ${expect}.` +
      classesLastHint(layout, tshape, len), 1);
    return { kind: 'none' };
  };

  const t = targetForm(target);
  if (t.form === 'number') {
    if (P === 1) return { kind: 'index', raw: [t.value] };
    f.add('target-shape', 'error', `target is a single class index, which fits an input with one position, but ` +
      `input.shape ${shapeString(shape)} has ${P}: pass ${P} class indices (shape ${shapeString(want)}).`, 1);
    return { kind: 'none' };
  }
  if (t.form === 'list') {
    const flat = flatten(t.values);
    if (flat === null) {
      f.add('target-shape', 'error', `target is a ragged nested array (its rows differ in length): ${expect}.`, 1);
      return { kind: 'none' };
    }
    const { values, nested } = flat;
    const what = nested ? `a nested array of ${values.length} values` : `an array of ${values.length} values`;
    if (values.length === P) {
      if (nested) {
        f.add('target-shape', 'error', `target is ${what}; crossEntropy takes class indices as a flat array ` +
          `(or { data, shape }): flatten it (target.flat(Infinity)).`, 1);
      }
      return { kind: 'index', raw: values };
    }
    if (values.length === full && C > 1) return rowsInWrongForm(values, what, layout, f);
    return mismatch(what, null, values.length);
  }
  if (t.form === 'flat') {
    const what = `a flat ${describe(t.values)}`;
    if (t.values.length === P) {
      if (t.float) floatIndices(what, f);
      return { kind: 'index', raw: t.values };
    }
    if (t.values.length === full && C > 1) return rowsInWrongForm(t.values, what, layout, f);
    return mismatch(what, null, t.values.length);
  }
  const size = checkShape('target.shape', t.shape);
  const tshape = t.shape as readonly number[];
  const data = t.data;
  const what = `{ data: ${describe(data)}, shape: ${shapeString(tshape)} }`;
  if (size !== data.length) {
    f.add('target-shape', 'error', `target.data has ${data.length} elements but target.shape ${shapeString(tshape)} needs ${size}.`, 1);
    return { kind: 'none' };
  }
  if (t.float) {
    const probShaped = sameShape(tshape, shape);
    if (probShaped || (data.length === full && C > 1)) {
      if (!probShaped) {
        f.add('target-shape', 'error', `target is ${what}: probabilities must have the input's shape ` +
          `${shapeString(shape)} (reshape it).`, 1);
      }
      if (data instanceof Float64Array) {
        f.add('target-type', 'error', `target is ${what}: probabilities must be a Float32Array ` +
          `(Float32Array.from(target.data); PyTorch: target.float()).`, 1);
      }
      return { kind: 'prob', data: data as ArrayLike<number>, quiet: false };
    }
    if (sameShape(tshape, want) || data.length === P) {
      if (!sameShape(tshape, want)) {
        f.add('target-shape', 'error', `target is ${what}: class indices must have shape ${shapeString(want)}.` +
          classesLastHint(layout, tshape, data.length), 1);
      }
      floatIndices(what, f);
      return { kind: 'index', raw: data };
    }
    return mismatch(what, tshape, data.length);
  }
  if (sameShape(tshape, want)) return { kind: 'index', raw: data };
  if ((sameShape(tshape, shape) || data.length === full) && C > 1 && data.length !== P) {
    return rowsInWrongForm(data, `an integer tensor ${what}`, layout, f);
  }
  if (data.length === P) {
    f.add('target-shape', 'error', `target is ${what}: class indices must have shape ${shapeString(want)} ` +
      `(drop the extra axis; PyTorch: target.view(-1) or target.squeeze(1)).`, 1);
    return { kind: 'index', raw: data };
  }
  return mismatch(what, tshape, data.length);
}

function floatIndices(what: string, f: Findings): void {
  f.add('target-type', 'error', `target is ${what} of class indices: crossEntropy reads class indices only from ` +
    `integer arrays (Int32Array.from(target), or BigInt64Array as PyTorch's int64 exports), and a Float32Array ` +
    `only as probabilities shaped like the input. PyTorch refuses the same thing ("expected scalar type Long ` +
    `but found Float"): use target.long().`, 1);
}

/** N*C*S target values in the input's layout, passed where crossEntropy wants class indices or a
 *  { data: Float32Array, shape } of probabilities. One-hot rows are the classic case. */
function rowsInWrongForm(values: ArrayLike<unknown>, what: string, layout: Layout, f: Findings): TargetView {
  const { N, C, S, shape } = layout;
  const data = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = toNumber(values[i]);
  const argmax: number[] = [];
  let oneHot = true;
  for (let n = 0; n < N && oneHot; n++) {
    for (let s = 0; s < S && oneHot; s++) {
      let ones = 0;
      let at = -1;
      for (let c = 0; c < C; c++) {
        const v = data[n * C * S + c * S + s];
        if (v === 1) { ones++; at = c; } else if (v !== 0) oneHot = false;
      }
      if (ones !== 1) oneHot = false;
      if (argmax.length < SHOWN) argmax.push(at);
    }
  }
  const rows = N * S;
  if (oneHot && rows > 0) {
    const idx = `Int32Array.of(${argmax.join(', ')}${rows > argmax.length ? ', …' : ''})`;
    f.add('one-hot-target', 'error', `target is ${what}: ${plural(rows, 'one-hot row')} where crossEntropy expects ` +
      `class indices, one per position. Pass their argmax (here ${idx}; PyTorch: target.argmax(dim=1)), which ` +
      `is also cheaper; or, to keep them as probabilities, { data: Float32Array, shape: ${shapeString(shape)} } ` +
      `(with 'mean' and a weight the two forms average differently: see the one-hot-target entry in the README).`,
      rows, Array.from({ length: Math.min(SHOWN, rows) }, (_, i) => i));
    return { kind: 'prob', data, quiet: true };
  }
  f.add('target-shape', 'error', `target is ${what}, ${C} per position: if these are class probabilities pass ` +
    `{ data: Float32Array.from(target), shape: ${shapeString(shape)} }; otherwise crossEntropy expects ` +
    `${N * S} class indices.`, 1);
  return { kind: 'prob', data, quiet: false };
}
