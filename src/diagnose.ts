// diagnose(): explains the classic cross-entropy mistakes (README: "My loss is NaN / zero / not going
// down") instead of computing anything, and the `check` option of the loss functions that runs it first.
//
// It reads what crossEntropy reads, but where crossEntropy throws for a data problem (a class index out of
// range or not an integer, a target of the wrong form or shape) diagnose reports a finding. It still
// throws what crossEntropy throws for the input and the options, which say how to read the data (input
// not a Float32Array or { data, shape }, an unknown option, a weight of the wrong length, ...), and a
// TypeError for a target it cannot read at all (a string, an object without data and shape).
//
// Cost: one pass over the logits with three compares and an add per element, plus exp/log only on the
// rare rows where a finding needs the exact logsumexp; one pass over the targets.
import { checkInteger, checkOptions, checkShape, describe, readArg, shapeString } from './args.ts';
import {
  CE_KEYS, GRAD_KEYS, IGNORED, LOSS_KEYS, isIntegerArray, resolveInput, resolveReduction, resolveSmoothing, resolveWeight,
  type Layout,
} from './problem.ts';
import { positionShape, sameShape } from './shape.ts';
import { Half, halfToFloat32 } from './half.ts';
import type {
  CheckMode, DiagnoseOptions, DiagnosticsHandler, Finding, FindingCode, Logits, Reduction, Severity, Target,
} from './types.ts';

// ---- thresholds (each is documented in the README section "My loss is NaN / zero / not going down") ----

/** How many offending positions a finding lists. */
const SHOWN = 5;
/** A row "sums to 1" (probabilities) or "has logsumexp 0" (log-probabilities) within this. Sums are
 *  taken in float64, so softmax outputs computed in float32 are off by ~1e-7 and in float16 by at most
 *  2^-11 ~ 4.9e-4 (each value within half an ulp); 1e-3 accepts both and is still far tighter than what
 *  raw logits land on by chance. */
const NORM_TOL = 1e-3;
/** Logits or row spreads beyond this are "exploding": a float32 logit near 1e4 has an ulp of 2^-10
 *  (~1e-3), and a spread of 1e4 is ~100x the ~104 beyond which float32 softmax is exactly one-hot. */
const EXTREME = 1e4;
/** -ln(FLT_MIN) = 126 ln 2 ~ 87.34: a target log-probability below -87.34 means a probability below the
 *  smallest normal float32, which a naive -log(softmax(x)) flushes to 0 (inf loss) under FTZ, computes
 *  from a subnormal otherwise, and gets as exactly 0 beyond 150 ln 2 ~ 103.97. */
const UNDERFLOW = 126 * Math.LN2;
/** 24 ln 2 ~ 16.64: the other classes' total mass s = sum(exp(x_j - x_t)) below 2^-24 means float32's
 *  1 + s rounds to 1: PyTorch's loss is exactly 0 (xent's below 6e-8) and the row's gradient ~0. A row is
 *  surely saturated when every other logit is SATURATED + ln(C - 1) below the target's, surely not when one
 *  is within SATURATED; in between s is summed exactly. */
const SATURATED = 24 * Math.LN2;
const SATURATED_MASS = 2 ** -24;
/** A negative logit this large (or float16's lowest, -65504, or -inf) reads as a mask fill
 *  (masked_fill(-1e9), torch.finfo(torch.float32).min), not as an exploding logit. */
const MASK_FILL = -1e9;
/** Marks a class index diagnose could not use (out of range or not an integer). */
const INVALID = -2;

function isMaskFill(v: number): boolean {
  return v <= MASK_FILL || v === -65504;
}

// ---- small helpers ----

/** A number for a message: integers and non-finite values as they are, others to `digits` significant
 *  digits (String(-0) is '0'). */
export function fmt(v: number, digits = 6): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(digits)));
}

/** The first few offending positions and, optionally, values; and how many there are in all. */
class Sample {
  count = 0;
  positions: number[] = [];
  values: number[] = [];
  labels: string[] = [];
  add(position: number, value?: number, label?: string): void {
    this.count++;
    if (this.positions.length < SHOWN) {
      this.positions.push(position);
      if (value !== undefined) this.values.push(value);
      if (label !== undefined) this.labels.push(label);
    }
  }
  /** `a, b, c, … (12 in all)` */
  list(items: readonly (string | number)[] = this.labels.length ? this.labels : this.positions): string {
    const more = this.count > items.length ? `, … (${this.count} in all)` : '';
    return items.join(', ') + more;
  }
}

class Findings {
  readonly list: Finding[] = [];
  add(code: FindingCode, severity: Severity, message: string, count: number, positions: number[] = [], values?: number[]): void {
    const f: Finding = { code, severity, message, count, positions };
    if (values !== undefined) f.values = values;
    this.list.push(f);
  }
  fromSample(code: FindingCode, severity: Severity, message: string, s: Sample, withValues = false): void {
    this.add(code, severity, message, s.count, s.positions.slice(), withValues ? s.values.slice() : undefined);
  }
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

function rowWord(layout: Layout): string {
  return layout.S === 1 ? 'row' : 'position';
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** logsumexp of one strided row in float64 (-inf for a row of -inf). */
function rowLse(x: Float32Array, off: number, stride: number, C: number, max: number): number {
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0, i = off; c < C; c++, i += stride) s += Math.exp(x[i] - max);
  return max + Math.log(s);
}

// ---- reading the target without refusing it ----

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

function readTarget(target: unknown, layout: Layout, f: Findings): TargetView {
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

  if (typeof target === 'number' || typeof target === 'bigint') {
    if (P === 1) return { kind: 'index', raw: [target] };
    f.add('target-shape', 'error', `target is a single class index, which fits an input with one position, but ` +
      `input.shape ${shapeString(shape)} has ${P}: pass ${P} class indices (shape ${shapeString(want)}).`, 1);
    return { kind: 'none' };
  }
  if (Array.isArray(target)) {
    const flat = flatten(target);
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
  if (isIntegerArray(target)) {
    const what = `${describe(target)}`;
    if (target.length === P) return { kind: 'index', raw: target };
    if (target.length === full && C > 1) return rowsInWrongForm(target, `a flat ${what}`, layout, f);
    return mismatch(`a flat ${what}`, null, target.length);
  }
  if (target instanceof Float32Array || target instanceof Float64Array) {
    const what = `a flat ${describe(target)}`;
    if (target.length === P) {
      floatIndices(what, f);
      return { kind: 'index', raw: target };
    }
    if (target.length === full && C > 1) return rowsInWrongForm(target, what, layout, f);
    return mismatch(what, null, target.length);
  }
  if (typeof target === 'object' && target !== null && 'data' in target && 'shape' in target) {
    const size = checkShape('target.shape', target.shape);
    const tshape = target.shape as readonly number[];
    const data = target.data;
    const isFloat = data instanceof Float32Array || data instanceof Float64Array;
    if (!isFloat && !isIntegerArray(data)) {
      throw new TypeError(`target.data: expected Float32Array (probabilities) or an integer typed array (class indices), got ${describe(data)}`);
    }
    const what = `{ data: ${describe(data)}, shape: ${shapeString(tshape)} }`;
    if (size !== data.length) {
      f.add('target-shape', 'error', `target.data has ${data.length} elements but target.shape ${shapeString(tshape)} needs ${size}.`, 1);
      return { kind: 'none' };
    }
    if (isFloat) {
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
        return { kind: 'prob', data, quiet: false };
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
  throw new TypeError(
    `target: expected class indices (Int32Array, BigInt64Array, number[] or a number) or probabilities ({ data: Float32Array, shape }), got ${describe(target)}`,
  );
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

// ---- the analysis ----

interface IndexInfo {
  /** One per position: the class, IGNORED, or INVALID. */
  index: Int32Array;
  valid: number;
  ignored: number;
}

function analyseIndices(raw: ArrayLike<unknown>, layout: Layout, ignoreIndex: number, f: Findings): IndexInfo {
  const { C } = layout;
  const index = new Int32Array(raw.length);
  const notInt = new Sample();
  const out = new Sample();
  let valid = 0;
  let ignored = 0;
  let min = Infinity;
  let max = -Infinity;
  let zero = false;
  let in01 = true;
  let strings = false;
  const negatives = new Set<number>();
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i];
    const v = typeof r === 'bigint' ? Number(r) : r;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      if (typeof r === 'string') strings = true;
      if (!(typeof v === 'number' && v >= 0 && v <= 1)) in01 = false;
      notInt.add(i, typeof v === 'number' ? v : NaN, `target[${i}] = ${typeof v === 'number' ? fmt(v) : describe(r)}`);
      index[i] = INVALID;
      continue;
    }
    if (v === ignoreIndex) { index[i] = IGNORED; ignored++; continue; }
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === 0) zero = true;
    if (v >= 0 && v < C) { index[i] = v; valid++; continue; }
    index[i] = INVALID;
    if (v < 0) negatives.add(v);
    out.add(i, v, `target[${i}] = ${String(r)}`);
  }
  if (notInt.count > 0) {
    let hint = '';
    if (strings) hint = ' Strings (read from a CSV?) must be converted: Int32Array.from(target, Number).';
    else if (in01) {
      hint = ' Values in [0, 1] look like probabilities or soft labels: for a distribution over the classes of ' +
        'each position pass { data: Float32Array, shape: input.shape }; for one binary label per position use a ' +
        'binary cross-entropy (sigmoid) loss instead.';
    }
    f.fromSample('target-not-integer', 'error', `${plural(notInt.count, 'target value')} ${notInt.count === 1 ? 'is not an integer class index' : 'are not integer class indices'}` +
      `: ${notInt.list()}. crossEntropy throws a TypeError for them.${hint}`, notInt, true);
  }
  if (out.count > 0) {
    const hints: string[] = [];
    if (!zero && min >= 1 && max === C) {
      hints.push(`The labels run from 1 to ${C}: they look 1-based; subtract 1.`);
    } else if (max >= C) {
      hints.push(`The largest label is ${max}, so the model needs at least ${max + 1} classes but the input has ${C}: ` +
        'the output layer is too small, or the labels were not remapped to 0..C-1.');
    }
    for (const v of negatives) {
      hints.push(`${v} looks like a padding or "no label" marker: pass ignoreIndex: ${v} (the default, as in PyTorch, is -100).`);
      break;
    }
    f.fromSample('target-out-of-range', 'error', `${plural(out.count, 'class index', 'class indices')}` +
      ` ${out.count === 1 ? 'is' : 'are'} out of range for ${C} classes (expected 0 <= t < ${C}, or ignoreIndex ` +
      `${ignoreIndex}): ${out.list()}. crossEntropy throws a RangeError for them (PyTorch: "IndexError: Target ` +
      `${out.values[0]} is out of bounds", or a device-side assert on CUDA). ${hints.join(' ')}`.trimEnd(), out, true);
  }
  return { index, valid, ignored };
}

function analyseProbTarget(data: ArrayLike<number>, layout: Layout, weight: Float32Array | null, reduction: Reduction, f: Findings): void {
  const { N, C, S } = layout;
  const rows = N * S;
  let allOneHot = rows > 0;
  const bad = new Sample();
  let negatives = 0;
  let nonFinite = 0;
  let multiHot = 0;
  let zeroRows = 0;
  let lo = Infinity;
  let hi = -Infinity;
  const w = rowWord(layout);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const off = n * C * S + s;
      let sum = 0;
      let ones = 0;
      let binary = true;
      let neg = false;
      let nf = false;
      for (let c = 0, i = off; c < C; c++, i += S) {
        const v = data[i];
        sum += v;
        if (v === 1) ones++;
        else if (v !== 0) binary = false;
        if (v < 0) neg = true;
        else if (!Number.isFinite(v)) nf = true;
      }
      if (!(binary && ones === 1)) allOneHot = false;
      if (neg || nf || !(Math.abs(sum - 1) <= NORM_TOL)) {
        bad.add(n * S + s);
        if (neg) negatives++;
        if (nf) nonFinite++;
        if (binary && ones > 1) multiHot++;
        if (sum === 0) zeroRows++;
        if (sum < lo) lo = sum;
        if (sum > hi) hi = sum;
      }
    }
  }
  if (allOneHot) {
    const differs = weight !== null && reduction === 'mean';
    f.add('one-hot-target', differs ? 'warning' : 'info', `every ${w} of the probability target is one-hot: class ` +
      `indices (the argmax; PyTorch: target.argmax(dim=1)) give the same loss and gradient for 'sum' and 'none', ` +
      `and are cheaper (no C-wide target to read). ` + (differs
      ? `But with a weight and 'mean' the two forms average differently, as in PyTorch: index targets divide by the ` +
        `summed weights of the targets, sum(w[t]), probability targets by the number of positions (${rows}); make sure ` +
        `the one you use is the one you meant.`
      : `With a weight and 'mean' they would differ (index targets divide by sum(w[t]), probability targets by the number of positions).`),
    rows, Array.from({ length: Math.min(SHOWN, rows) }, (_, i) => i));
  }
  if (bad.count > 0) {
    const parts: string[] = [];
    if (nonFinite) parts.push(`${nonFinite} ${nonFinite === 1 ? 'holds' : 'hold'} NaN or infinite values`);
    if (negatives) parts.push(`${negatives} ${negatives === 1 ? 'has' : 'have'} negative entries`);
    const sums = lo === hi ? `sum to ${fmt(lo)}` : `sums range from ${fmt(lo)} to ${fmt(hi)}`;
    const hints: string[] = [];
    if (multiHot) {
      hints.push(`${multiHot} ${multiHot === 1 ? 'is' : 'are'} multi-hot (several 1s): for independent labels use a binary cross-entropy (sigmoid) ` +
        'loss; for a distribution divide each row by its sum.');
    }
    if (zeroRows) hints.push(`${zeroRows} ${zeroRows === 1 ? 'sums' : 'sum'} to 0 and ${zeroRows === 1 ? 'adds' : 'add'} nothing to the loss.`);
    f.fromSample('probability-target-not-normalized', negatives || nonFinite ? 'error' : 'warning',
      `${plural(bad.count, w)} of the probability target ${bad.count === 1 ? 'is' : 'are'} not a distribution ` +
      `(${which(bad, w)}; ${sums}${parts.length ? '; ' + parts.join(', ') : ''}). PyTorch does not ` +
      `renormalise, and neither does xent: each ${w}'s loss is scaled by its sum, and negative entries can make it ` +
      `negative. Normalise the rows (each >= 0, summing to 1). ${hints.join(' ')}`.trimEnd(), bad);
  }
}

function analyseWeight(weight: Float32Array, info: IndexInfo | null, reduction: Reduction, f: Findings): void {
  const bad = new Sample();
  const zero = new Sample();
  let negative = 0;
  for (let c = 0; c < weight.length; c++) {
    const w = weight[c];
    if (w === 0) zero.add(c, w, `weight[${c}] = 0`);
    else if (!(w > 0) || w === Infinity) {
      bad.add(c, w, `weight[${c}] = ${fmt(w)}`);
      if (w < 0) negative++;
    }
  }
  let zeroTotal = false;
  if (info && reduction === 'mean' && info.valid > 0 && bad.count === 0) {
    let d = 0;
    for (let i = 0; i < info.index.length; i++) if (info.index[i] >= 0) d += weight[info.index[i]];
    zeroTotal = d === 0;
  }
  if (bad.count === 0 && zero.count === 0) return;
  const all = zero.count === weight.length;
  const parts: string[] = [];
  if (bad.count) {
    parts.push(`${bad.list()}: ${negative ? 'a negative weight rewards the loss for being wrong (gradient ascent on those classes)' : ''}` +
      `${negative && bad.count > negative ? '; ' : ''}${bad.count > negative ? 'a NaN or infinite weight makes the loss NaN or infinite' : ''}.`);
  }
  if (zero.count) {
    parts.push(`${zero.list()}: ${all ? 'every class has weight 0, so the loss is 0 (sum) or NaN (mean)' :
      "targets of these classes add no loss and no gradient, and with 'mean' leave the divisor (a way to mask a class)"}.`);
  }
  if (zeroTotal) parts.push(`The weights of this batch's targets sum to 0, so 'mean' divides by 0: the loss is NaN.`);
  const sample = bad.count ? bad : zero;
  f.add('non-positive-weight', bad.count || all || zeroTotal ? 'error' : 'info',
    `options.weight has ${plural(bad.count + zero.count, 'class', 'classes')}` +
    ` weighted <= 0 or not finite: ${parts.join(' ')}`, bad.count + zero.count, sample.positions.slice(), sample.values.slice());
}

/** max, second largest (equal to max when it repeats), min and float64 sum of a row, from scanRow. */
const STATS = new Float64Array(4);

/** The one pass over every logit: three compares and an add per element (NaN leaves max and min alone
 *  and shows in the sum). Kept small and monomorphic so that it compiles to a tight loop. */
function scanRow(x: Float32Array, off: number, stride: number, C: number): void {
  let max = -Infinity;
  let top2 = -Infinity;
  let min = Infinity;
  let sum = 0;
  const end = off + C * stride;
  for (let i = off; i < end; i += stride) {
    const v = x[i];
    sum += v;
    if (v > max) { top2 = max; max = v; } else if (v > top2) top2 = v;
    if (v < min) min = v;
  }
  STATS[0] = max;
  STATS[1] = top2;
  STATS[2] = min;
  STATS[3] = sum;
}

interface Context {
  layout: Layout;
  index: Int32Array | null;
  prob: ArrayLike<number> | null;
  eps: number;
  logProbs: boolean;
  validRows: number;
}

function analyseLogits(ctx: Context, f: Findings): void {
  const { layout, index, prob, eps, logProbs } = ctx;
  const { N, C, S } = layout;
  const x = layout.data as Float32Array; // diagnoseImpl widens half-precision logits first
  const R = N * S;
  const w = rowWord(layout);
  const lnC = Math.log(C);
  const surelySaturated = SATURATED + Math.log(C - 1);
  let probRows = C >= 2 && R > 0;
  let logpRows = C >= 2 && R > 0 && !logProbs;
  let constRows = C >= 2 && R > 0 && !logProbs;
  const notLogp = new Sample();
  let worstLse = 0;
  const nonFinite = new Sample();
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  let hurts = false;
  const extreme = new Sample();
  let worstAbs = 0;
  let worstSpread = 0;
  const underflow = new Sample();
  let worstGap = 0;
  const saturated = new Sample();

  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const r = n * S + s;
      const off = n * C * S + s;
      scanRow(x, off, S, C);
      const max = STATS[0];
      const top2 = STATS[1];
      const min = STATS[2];
      const sum = STATS[3];
      const t = index ? index[r] : -3;
      if (sum !== sum || max === Infinity || min === -Infinity) {
        let rowBad = false;
        for (let c = 0, i = off; c < C; c++, i += S) {
          const v = x[i];
          if (v !== v) { nan++; rowBad = true; nonFinite.add(i, v, `input.data[${i}] = NaN`); } else if (v === Infinity) { posInf++; rowBad = true; nonFinite.add(i, v, `input.data[${i}] = Infinity`); } else if (v === -Infinity) { negInf++; nonFinite.add(i, v, `input.data[${i}] = -Infinity`); }
        }
        if (rowBad) {
          hurts = true;
          probRows = logpRows = constRows = false;
          continue;
        }
        // only -inf: harmless off the target (a mask); +inf loss on the target, with smoothing or with
        // probability targets (0 * -inf = NaN where the probability is 0); a row of only -inf is NaN
        if (max === -Infinity || eps > 0 || prob !== null || (t >= 0 && x[off + t * S] === -Infinity)) hurts = true;
      }
      if (probRows) probRows = min >= 0 && max <= 1 && Math.abs(sum - 1) <= NORM_TOL;
      if (constRows) constRows = min === max && max !== -Infinity;
      if (logpRows) logpRows = max <= 0 && Math.abs(rowLse(x, off, S, C, max)) <= NORM_TOL;
      if (logProbs) {
        const lse = rowLse(x, off, S, C, max);
        if (!(Math.abs(lse) <= NORM_TOL)) {
          notLogp.add(r);
          if (Math.abs(lse) > Math.abs(worstLse) || worstLse !== worstLse) worstLse = lse;
        }
      }
      if (max > EXTREME || min < -EXTREME || max - min > EXTREME) {
        let lo = min;
        if (isMaskFill(min)) {
          lo = Infinity;
          for (let c = 0, i = off; c < C; c++, i += S) if (!isMaskFill(x[i]) && x[i] < lo) lo = x[i];
        }
        if (lo !== Infinity && (max > EXTREME || lo < -EXTREME || max - lo > EXTREME)) {
          extreme.add(r);
          worstAbs = Math.max(worstAbs, Math.abs(max), Math.abs(lo));
          worstSpread = Math.max(worstSpread, max - lo);
        }
      }
      if (logProbs || C < 2) continue;
      if (t >= 0) {
        const xt = x[off + t * S];
        if (max - xt > UNDERFLOW - lnC) {
          const gap = rowLse(x, off, S, C, max) - xt;
          if (gap > UNDERFLOW) { underflow.add(r, gap); worstGap = Math.max(worstGap, gap); }
        }
        if (xt === max && top2 < max) {
          const g = max - top2;
          let sat = g > surelySaturated;
          if (!sat && g > SATURATED) {
            let mass = 0;
            for (let c = 0, i = off; c < C; c++, i += S) if (c !== t) mass += Math.exp(x[i] - xt);
            sat = mass < SATURATED_MASS;
          }
          if (sat) saturated.add(r);
        }
      } else if (prob !== null && max - min > UNDERFLOW - lnC) {
        const lse = rowLse(x, off, S, C, max);
        let gap = 0;
        for (let c = 0, i = off; c < C; c++, i += S) if (prob[i] > 0 && lse - x[i] > gap) gap = lse - x[i];
        if (gap > UNDERFLOW) { underflow.add(r, gap); worstGap = Math.max(worstGap, gap); }
      }
    }
  }

  if (nonFinite.count > 0) {
    const kinds = [nan && `${nan} NaN`, posInf && `${posInf} +inf`, negInf && `${negInf} -inf`].filter(Boolean).join(', ');
    let msg = `input has ${plural(nonFinite.count, 'non-finite logit')} (${kinds}): ${nonFinite.list()}. `;
    if (nan || posInf) {
      msg += `Every ${w} holding a NaN or +inf gets a NaN loss and a NaN gradient (even an ignored one), and a ` +
        `'mean' or 'sum' over it is NaN. The NaN comes from the model, not the loss: look for a division by 0, a ` +
        `log or sqrt of a negative, an overflow after exploding logits (see extreme-logits), or a learning rate ` +
        `that is too high; PyTorch's torch.autograd.set_detect_anomaly(True) names the op.`;
      if (negInf) msg += ' -inf alone would be fine off the target (a mask).';
    } else if (hurts) {
      msg += `-inf is fine off the target (a mask: probability 0), but here it reaches the loss: on a target ` +
        `class (loss +inf), with labelSmoothing or probability targets (every class carries target mass: +inf, ` +
        `or 0 * inf = NaN), or filling a whole ${w} (NaN). Use a large finite fill (-1e9) or exclude those targets.`;
    } else {
      msg += `They are all off the target: a mask (masked_fill(-inf)) is fine, those classes get probability 0 ` +
        `and add nothing.`;
    }
    f.fromSample('non-finite-logits', hurts ? 'error' : 'info', msg, nonFinite, true);
  }
  if (probRows) {
    const lo = Math.log(C - 1 + Math.E) - 1;
    const hi = Math.log(C - 1 + Math.E);
    if (logProbs) {
      f.add('probabilities-as-logits', 'error', `every ${w} of the nllLoss input lies in [0, 1] and sums to 1 ` +
        `(within ${NORM_TOL}): these are probabilities (softmax output), not log-probabilities. nllLoss does not ` +
        `take a log, so the loss is -p[target], in [-1, 0]: negative, and minimised by nothing useful. Pass ` +
        `logSoftmax(logits) (PyTorch: F.log_softmax), or the raw logits to crossEntropy.`, R, firstRows(R));
    } else {
      f.add('probabilities-as-logits', 'error', `every ${w} of input lies in [0, 1] and sums to 1 (within ` +
        `${NORM_TOL}): these look like probabilities (softmax already applied), not logits. crossEntropy applies ` +
        `log-softmax itself, so it computes softmax twice: the loss is squeezed into [${fmt(lo)}, ${fmt(hi)}] ` +
        `around log(C) = ${fmt(lnC)} however right the model is, it barely moves, and the gradients through the ` +
        `first softmax nearly vanish. Pass the raw logits: remove the final softmax (nn.Softmax) from the model.`,
      R, firstRows(R));
    }
  } else if (logProbs && notLogp.count > 0) {
    f.fromSample('logits-as-log-probabilities', 'error', `${plural(notLogp.count, w)} of the nllLoss input ` +
      `${notLogp.count === 1 ? 'is' : 'are'} not log-probabilities (${which(notLogp, w)}; logsumexp up to ` +
      `${fmt(worstLse)}, not 0): nllLoss does not normalise, so its loss is just -input[target], unbounded below. ` +
      `Pass logSoftmax(logits), or call crossEntropy on the logits.`, notLogp);
  }
  if (logpRows) {
    f.add('log-probabilities-as-logits', 'info', `every ${w} of input is <= 0 with logsumexp within ${NORM_TOL} ` +
      `of 0: these look like log-probabilities (log_softmax already applied). Harmless, since log_softmax of ` +
      `log-probabilities changes nothing and the loss and gradient are the same, but redundant: drop the extra ` +
      `log_softmax, or pass them to nllLoss.`, R, firstRows(R));
  }
  if (constRows) {
    f.add('constant-logits', 'warning', `every ${w} of input is constant (all C = ${C} logits equal), so the ` +
      `prediction is uniform and the loss is exactly log(C) = ${fmt(lnC)} per position (times the target's sum for ` +
      `probability targets), whatever the target. The model's output does not depend on its input: a freshly ` +
      `zero-initialised last layer (fine at step 0), dead activations feeding it, or weights driven to 0.`, R, firstRows(R));
  }
  if (extreme.count > 0) {
    f.fromSample('extreme-logits', 'warning', `${plural(extreme.count, w)} ${extreme.count === 1 ? 'has' : 'have'} ` +
      `exploding logits (${which(extreme, w)}; |logit| up to ${fmt(worstAbs)}, spread up to ${fmt(worstSpread)}; ` +
      `the threshold is ${EXTREME}). xent's loss is still exact, but at this size a float32 logit keeps only ~1e-3 ` +
      `of absolute precision, softmax is one-hot, and the next step tends to overflow into inf/NaN. Lower the ` +
      `learning rate, clip gradients, check the initialisation of the last layer, or add a z-loss ` +
      `(1e-4 * logsumexp(x)^2) to keep the logits small. (Fills <= -1e9, -65504 and -inf are read as masks and ` +
      `not counted.)`, extreme);
  }
  if (underflow.count > 0) {
    const word = prob !== null ? 'a target class' : 'the target logit';
    f.fromSample('underflowing-target', 'warning', `in ${plural(underflow.count, w)} (${which(underflow, w)}) ${word} ` +
      `sits more than ${fmt(UNDERFLOW)} below the ${w}'s logsumexp (up to ${fmt(worstGap)}): its probability is ` +
      `below the smallest normal float32, so a naive -log(softmax(x)[t]) returns inf (or an inexact value) in ` +
      `float32. xent's value is finite and exact (the loss of such a ${w} is that gap, e.g. ${fmt(worstGap)}), ` +
      `since it works in log space. The model is confidently wrong on ${underflow.count === 1 ? 'it' : 'them'}: ` +
      `check the labels of those ${w}s, and see extreme-logits.`, underflow, true);
  }
  if (saturated.count > 0) {
    const all = saturated.count === ctx.validRows;
    f.fromSample('saturated-rows', 'info', `${all ? `every scored ${w}` : plural(saturated.count, w)} ` +
      `(${which(saturated, w)}) ${saturated.count === 1 ? 'predicts' : 'predict'} the target with probability 1 to ` +
      `float32 precision (the other logits are all more than ${fmt(SATURATED)} below it), so ${all ? 'the loss is' : saturated.count === 1 ? 'its loss is' : 'their loss is'} ` +
      `0 to float32 precision (below 2^-24 ~ 6e-8; PyTorch's float32 arithmetic gives exactly 0) and the gradient ` +
      `~0; nothing is NaN. Fine for a trained model on easy ` +
      `examples; if the loss is 0 from the first step, suspect a label leaking into the input.`, saturated);
  }
}

/** `row 3` or `rows 0, 4, 9, … (12 in all)` */
function which(s: Sample, w: string): string {
  return `${s.count === 1 ? w : `${w}s`} ${s.list()}`;
}

function firstRows(R: number): number[] {
  return Array.from({ length: Math.min(SHOWN, R) }, (_, i) => i);
}

const DIAGNOSE_KEYS = [...GRAD_KEYS, 'logProbs'] as const;

function checkMode(v: unknown): CheckMode {
  if (v === undefined) return 'off';
  if (v === 'off' || v === 'warn' || v === 'throw') return v;
  throw new TypeError(`options.check: expected 'off', 'warn' or 'throw', got ${describe(v)}`);
}

function diagnoseImpl(input: Logits, target: Target, options: unknown, keys: readonly string[], logProbsMode: boolean | null): Finding[] {
  const opts = checkOptions(options, keys);
  checkMode(opts.check);
  let logProbs = logProbsMode ?? false;
  if (logProbsMode === null && opts.logProbs !== undefined) {
    if (typeof opts.logProbs !== 'boolean') throw new TypeError(`options.logProbs: expected a boolean, got ${describe(opts.logProbs)}`);
    logProbs = opts.logProbs;
  }
  const resolved = resolveInput(input, opts.classes);
  // half-precision logits are analysed as their f32 values (a copy: diagnose is for debugging)
  const layout = resolved.half ? { ...resolved, data: halfToFloat32(resolved.data as Uint16Array, resolved.half), half: Half.none } : resolved;
  const ignoreIndex = opts.ignoreIndex === undefined ? -100 : checkInteger('options.ignoreIndex', opts.ignoreIndex);
  const reduction = resolveReduction(opts.reduction);
  const eps = resolveSmoothing(opts.labelSmoothing);
  const weight = resolveWeight(opts.weight, layout.C);
  const f = new Findings();
  const P = layout.N * layout.S;

  const view = readTarget(target, layout, f);
  if (layout.C === 1) {
    f.add('single-class', 'error', `input has a single class (shape ${shapeString(layout.shape)}): log-softmax of ` +
      `one logit is 0, so the loss is always 0 and the gradient 0, whatever the model does. For a binary task ` +
      `output 2 logits per position, or use a binary cross-entropy (sigmoid) loss on the single logit.`, 1);
  }
  let info: IndexInfo | null = null;
  if (view.kind === 'index') info = analyseIndices(view.raw, layout, ignoreIndex, f);
  if (weight) analyseWeight(weight, info, reduction, f);
  if (P === 0) {
    f.add('empty-batch', reduction === 'mean' ? 'error' : 'info', `input.shape ${shapeString(layout.shape)} has no ` +
      `positions: ${reduction === 'mean' ? "'mean' over nothing is NaN (as in PyTorch)" : `'${reduction}' gives ${reduction === 'sum' ? '0' : 'an empty array'}`}.`, 0);
  } else if (info && info.ignored === P) {
    const mean = reduction === 'mean';
    f.add('all-targets-ignored', mean ? 'error' : 'warning', `every target equals ignoreIndex (${ignoreIndex}): no ` +
      `position contributes, so ${mean ? "'mean' divides 0 by 0 and the loss is NaN (as in PyTorch), with a zero gradient"
        : `the loss is 0 and so is the gradient`}. A batch of padding only? Skip it${mean ? ", or use 'sum' and divide by a count you keep" : ''}; ` +
      `or check that ignoreIndex is the padding value and not a real class.`, P, firstRows(P));
  }
  if (view.kind === 'prob' && !view.quiet) analyseProbTarget(view.data, layout, weight, reduction, f);
  let validRows = 0;
  if (info) validRows = info.valid;
  analyseLogits({
    layout, index: info ? info.index : null, prob: view.kind === 'prob' ? view.data : null, eps, logProbs, validRows,
  }, f);
  return f.list
    .map((finding, i) => ({ finding, i }))
    .sort((a, b) => SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] || a.i - b.i)
    .map((e) => e.finding);
}

/**
 * Explains what is wrong with cross-entropy arguments instead of computing the loss: softmax applied
 * before the loss, one-hot targets, class indices out of range, NaN or exploding logits, a batch whose
 * targets are all ignored, a single class, and more (README: "My loss is NaN / zero / not going down").
 *
 * Takes what crossEntropy takes (and crossEntropyWithGrad's options; `logProbs: true` checks nllLoss's
 * arguments). Data problems are reported, never thrown, including those crossEntropy throws for.
 * @returns the findings, errors first, then warnings, then info; [] when nothing is wrong
 * @throws {TypeError|RangeError} what crossEntropy throws for the input and the options (how to read the
 *   data), and a TypeError for a target it cannot read at all
 */
export function diagnose(input: Logits, target: Target, options?: DiagnoseOptions): Finding[] {
  return diagnoseImpl(readArg('input', input) as Logits, readArg('target', target) as Target, options, DIAGNOSE_KEYS, null);
}

// ---- the check option ----

/** Thrown by `check: 'throw'` when diagnose() finds an error. A RangeError, like crossEntropy's own
 *  refusal of bad class indices. */
export class XentCheckError extends RangeError {
  /** Every finding of the call (errors, warnings and info). */
  readonly findings: Finding[];
  constructor(findings: Finding[]) {
    const errors = findings.filter((e) => e.severity === 'error');
    super(`xent check: ${plural(errors.length, 'error')}: ` + errors.map((e) => `[${e.code}] ${e.message}`).join(' | '));
    this.name = 'XentCheckError';
    this.findings = findings;
  }
}

function defaultHandler(f: Finding): void {
  console.warn(`xent ${f.severity} [${f.code}]: ${f.message}`);
}

let handler: DiagnosticsHandler = defaultHandler;
const reported = new Set<FindingCode>();

/**
 * Where `check: 'warn' | 'throw'` reports its findings (warnings and errors; info only comes from
 * diagnose()). Each code is reported once, until the next setDiagnosticsHandler call, which resets that
 * memory. `null` restores the default, console.warn.
 */
export function setDiagnosticsHandler(fn: DiagnosticsHandler | null): void {
  if (fn !== null && typeof fn !== 'function') {
    throw new TypeError(`setDiagnosticsHandler: expected a function or null, got ${describe(fn)}`);
  }
  handler = fn ?? defaultHandler;
  reported.clear();
}

/** The `check` option: called by the loss functions only when options.check is set and not 'off', with
 *  the arguments they read (readArgs). */
export function runCheck(input: Logits, target: Target, options: object, keys: 'loss' | 'grad', logProbs: boolean): void {
  const mode = checkMode((options as { check?: unknown }).check);
  if (mode === 'off') return;
  const findings = diagnoseImpl(input, target, options, keys === 'grad' ? GRAD_KEYS : logProbs ? LOSS_KEYS : CE_KEYS, logProbs);
  const errors = mode === 'throw' && findings.some((e) => e.severity === 'error');
  for (const finding of findings) {
    if (finding.severity === 'info' || (errors && finding.severity === 'error') || reported.has(finding.code)) continue;
    reported.add(finding.code);
    handler(finding);
  }
  if (errors) throw new XentCheckError(findings);
}
