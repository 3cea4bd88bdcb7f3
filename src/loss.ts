// The cross-entropy family: crossEntropy, crossEntropyWithGrad, nllLoss.
import { runCheck } from './diagnose/check.ts';
import { checkOptions, readArg } from './args.ts';
import { reduced, returnedOut } from './outputs.ts';
import { runLoss } from './ops/run.ts';
import { xentCall, type XentOutputs } from './ops/xent.ts';
import { CE_KEYS, GRAD_KEYS, LOSS_KEYS, resolveGradOptions, resolveProblem, type Problem } from './problem.ts';
import type { CrossEntropyGradOptions, CrossEntropyOptions, Logits, NllLossOptions, Target } from './types.ts';

/** Runs the problem's call and reduces. PyTorch divides its nll and smoothing sums separately, so a zero
 *  divisor gives NaN even where the smoothing sum alone would give inf (outputs.ts reduced). */
function lossOf(p: Problem, o: XentOutputs) {
  return runLoss(xentCall(p, o), p.reduction, p.denominator, p.S);
}

/**
 * Cross-entropy between logits and targets, as torch.nn.functional.cross_entropy.
 *
 * @param input logits of shape [C], [N, C] or [N, C, d1, ..., dK] (class axis 1, or 0 when unbatched),
 *   or a flat Float32Array read as [N, options.classes]
 * @param target class indices (one per position: the input's shape without the class axis) or class
 *   probabilities ({ data: Float32Array, shape } with the input's shape)
 * @returns the loss: a number for 'mean' and 'sum', a Float32Array with one value per position for 'none'
 * @throws {TypeError} an argument of the wrong type, an unknown option or reduction, a non-integer index
 * @throws {RangeError} a shape or length mismatch, a class index out of range, labelSmoothing outside [0, 1]
 * @example
 * crossEntropy({ data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] }, 3) // 142
 */
export function crossEntropy(input: Logits, target: Target, options?: CrossEntropyOptions): number | Float32Array {
  const [x, t, opts] = readArgs(input, target, options, CE_KEYS);
  if (opts.check !== undefined && opts.check !== 'off') runCheck(x, t, opts, 'loss', false);
  return lossOf(resolveProblem(x, t, opts), {}).loss;
}

/** The arguments of a loss, each read once: everything after this works on the copies. */
export function readArgs(input: unknown, target: unknown, options: unknown, keys: readonly string[]): [Logits, Target, Record<string, unknown>] {
  const opts = checkOptions(options, keys);
  return [readArg('input', input) as Logits, readArg('target', target) as Target, opts];
}

/**
 * The loss and its gradient d(loss)/d(input) (scaled by options.gradOutput), from one evaluation.
 * `grad` is laid out like the input; with `options.out === input.data` it overwrites the logits in place.
 * Ignored positions get a zero gradient. With options.zLoss (and reduction mean or sum), `zLoss` is the
 * z-loss part of `loss`, reduced the same way.
 */
export function crossEntropyWithGrad(
  input: Logits, target: Target, options?: CrossEntropyGradOptions,
): { loss: number | Float32Array; grad: Float32Array; zLoss?: number } {
  const [x, t, opts] = readArgs(input, target, options, GRAD_KEYS);
  if (opts.check !== undefined && opts.check !== 'off') runCheck(x, t, opts, 'grad', false);
  const p = resolveProblem(x, t, opts);
  const { out, gscale, scales } = resolveGradOptions(p, opts);
  const { loss, result } = lossOf(p, { grad: out, gscale, scales });
  const grad = returnedOut(result.outs.grad, out, opts.out);
  if (p.zLoss === 0 || p.reduction === 'none') return { loss, grad };
  // the z-loss part of `loss` alone, reduced the same way
  return { loss, grad, zLoss: reduced(result.zTotal, p.reduction, p.denominator) };
}

/**
 * Negative log-likelihood of log-probabilities, as torch.nn.functional.nll_loss: cross-entropy whose input
 * already is log_softmax(logits). Takes the same targets and options as crossEntropy; with class
 * probabilities or labelSmoothing it computes what cross_entropy would on these log-probabilities.
 */
export function nllLoss(logProbs: Logits, target: Target, options?: NllLossOptions): number | Float32Array {
  const [x, t, opts] = readArgs(logProbs, target, options, LOSS_KEYS);
  if (opts.check !== undefined && opts.check !== 'off') runCheck(x, t, opts, 'loss', true);
  return lossOf(resolveProblem(x, t, opts), { logProbs: true }).loss;
}
