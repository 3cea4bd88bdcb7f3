// diagnose(): explains the classic cross-entropy mistakes (README: "My loss is NaN / zero / not going
// down") instead of computing anything; the `check` option of the loss functions runs it first (check.ts).
//
// It reads what crossEntropy reads, but where crossEntropy throws for a data problem (a class index out of
// range or not an integer, a target of the wrong form or shape) diagnose reports a finding. It still
// throws what crossEntropy throws for the input and the options, which say how to read the data (input
// not a Float32Array or { data, shape }, an unknown option, a weight of the wrong length, ...), and a
// TypeError for a target it cannot read at all (a string, an object without data and shape).
//
// Cost: one pass over the logits with three compares and an add per element, plus exp/log only on the
// rare rows where a finding needs the exact logsumexp; one pass over the targets.
import { checkChoice, checkOptions, describe, readArg, shapeString } from '../args.ts';
import { Half, halfToFloat32 } from '../half.ts';
import { GRAD_KEYS, resolveInput, resolveLossOptions } from '../problem.ts';
import { asClassesFirst, classesLastOf } from '../classes-last.ts';
import type { CheckMode, DiagnoseOptions, Finding, Logits, Target } from '../types.ts';
import { Findings, SEVERITY_ORDER, firstRows } from './findings.ts';
import { analyseLogits } from './logits.ts';
import { readTarget } from './read-target.ts';
import { analyseIndices, analyseProbTarget, analyseWeight, type IndexInfo } from './targets.ts';

const DIAGNOSE_KEYS = [...GRAD_KEYS, 'logProbs'] as const;

export function checkMode(v: unknown): CheckMode {
  return checkChoice('options.check', v, ['off', 'warn', 'throw'], 'off');
}

export function diagnoseImpl(input: Logits, target: Target, options: unknown, keys: readonly string[], logProbsMode: boolean | null): Finding[] {
  const opts = checkOptions(options, keys);
  checkMode(opts.check);
  let logProbs = logProbsMode ?? false;
  if (logProbsMode === null && opts.logProbs !== undefined) {
    if (typeof opts.logProbs !== 'boolean') throw new TypeError(`options.logProbs: expected a boolean, got ${describe(opts.logProbs)}`);
    logProbs = opts.logProbs;
  }
  if (classesLastOf(opts.classAxis)) [input, target] = asClassesFirst(input, target) as [Logits, Target];
  const resolved = resolveInput(input, opts.classes);
  // half-precision logits are analysed as their f32 values (a copy: diagnose is for debugging)
  const layout = resolved.half ? { ...resolved, data: halfToFloat32(resolved.data as Uint16Array, resolved.half), half: Half.none } : resolved;
  const { ignoreIndex, reduction, eps, weight } = resolveLossOptions(opts, layout.C);
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
