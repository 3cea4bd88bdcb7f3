// The analyses of the targets and the class weights: class indices (range, integers, 1-based labels,
// padding markers), probability targets (one-hot, not normalised) and weights <= 0 or not finite.
import { describe } from '../args.ts';
import { classIndexOf, type Layout } from '../problem.ts';
import { positionOffset } from '../shape.ts';
import { IGNORED } from '../backend/types.ts';
import type { Reduction } from '../types.ts';
import { Findings, Sample, fmt, plural, rowWord, which } from './findings.ts';
import { INVALID, NORM_TOL, SHOWN } from './thresholds.ts';

export interface IndexInfo {
  /** One per position: the class, IGNORED, or INVALID. */
  index: Int32Array;
  valid: number;
  ignored: number;
}

export function analyseIndices(raw: ArrayLike<unknown>, layout: Layout, ignoreIndex: number, f: Findings): IndexInfo {
  const { C } = layout;
  const index = new Int32Array(raw.length);
  const notInt = new Sample();
  const out = new Sample();
  let valid = 0, ignored = 0, min = Infinity, max = -Infinity, zero = false, in01 = true, strings = false;
  const negatives = new Set<number>();
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i], v = classIndexOf(r);
    if (v === null) {
      const num = typeof r === 'number' ? r : NaN;
      if (typeof r === 'string') strings = true;
      if (!(num >= 0 && num <= 1)) in01 = false;
      notInt.add(i, num, `target[${i}] = ${typeof r === 'number' ? fmt(r) : describe(r)}`);
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

export function analyseProbTarget(data: ArrayLike<number>, layout: Layout, weight: Float32Array | null, reduction: Reduction, f: Findings): void {
  const { N, C, S } = layout;
  const rows = N * S;
  let allOneHot = rows > 0;
  const bad = new Sample();
  let negatives = 0, nonFinite = 0, multiHot = 0, zeroRows = 0, lo = Infinity, hi = -Infinity;
  const w = rowWord(layout);
  for (let r = 0; r < rows; r++) {
    const off = positionOffset(r, C, S);
    let sum = 0, ones = 0, binary = true, neg = false, nf = false;
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
      bad.add(r);
      if (neg) negatives++;
      if (nf) nonFinite++;
      if (binary && ones > 1) multiHot++;
      if (sum === 0) zeroRows++;
      if (sum < lo) lo = sum;
      if (sum > hi) hi = sum;
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

export function analyseWeight(weight: Float32Array, info: IndexInfo | null, reduction: Reduction, f: Findings): void {
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
