// The cross-entropy family: crossEntropy, crossEntropyWithGrad, nllLoss, nllLossWithGrad (the ops: ops/xent.ts).
import { runLoss, runLossWithGrad } from './ops/spec.ts';
import { CROSS_ENTROPY, NLL_LOSS } from './ops/xent.ts';
import type {
  CrossEntropyGradOptions, CrossEntropyOptions, Logits, LossWithGrad, NllLossGradOptions, NllLossOptions, PerElement, Reduced, Target,
} from './types.ts';

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
export function crossEntropy(input: Logits, target: Target, options: PerElement<CrossEntropyOptions>): Float32Array;
export function crossEntropy(input: Logits, target: Target, options?: Reduced<CrossEntropyOptions>): number;
export function crossEntropy(input: Logits, target: Target, options?: CrossEntropyOptions): number | Float32Array;
export function crossEntropy(input: Logits, target: Target, options?: CrossEntropyOptions): number | Float32Array {
  return runLoss(CROSS_ENTROPY, input, target, options);
}

/**
 * The loss and its gradient d(loss)/d(input) (scaled by options.gradOutput), from one evaluation.
 * `grad` is laid out like the input; with `options.out === input.data` it overwrites the logits in place.
 * Ignored positions get a zero gradient. With options.zLoss (and reduction mean or sum), `zLoss` is the
 * z-loss part of `loss`, reduced the same way.
 */
export function crossEntropyWithGrad(input: Logits, target: Target, options: PerElement<CrossEntropyGradOptions>): LossWithGrad<Float32Array>;
export function crossEntropyWithGrad(
  input: Logits, target: Target, options?: Reduced<CrossEntropyGradOptions>,
): LossWithGrad<number> & { zLoss?: number };
export function crossEntropyWithGrad(
  input: Logits, target: Target, options?: CrossEntropyGradOptions,
): LossWithGrad & { zLoss?: number };
export function crossEntropyWithGrad(
  input: Logits, target: Target, options?: CrossEntropyGradOptions,
): LossWithGrad & { zLoss?: number } {
  return runLossWithGrad(CROSS_ENTROPY, input, target, options);
}

/**
 * Negative log-likelihood of log-probabilities, as torch.nn.functional.nll_loss: cross-entropy whose input
 * already is log_softmax(logits). Takes the same targets and options as crossEntropy; with class
 * probabilities or labelSmoothing it computes what cross_entropy would on these log-probabilities.
 */
export function nllLoss(logProbs: Logits, target: Target, options: PerElement<NllLossOptions>): Float32Array;
export function nllLoss(logProbs: Logits, target: Target, options?: Reduced<NllLossOptions>): number;
export function nllLoss(logProbs: Logits, target: Target, options?: NllLossOptions): number | Float32Array;
export function nllLoss(logProbs: Logits, target: Target, options?: NllLossOptions): number | Float32Array {
  return runLoss(NLL_LOSS, logProbs, target, options);
}

/**
 * nllLoss and its gradient d(loss)/d(logProbs) (scaled by options.gradOutput), as autograd gives for
 * F.nll_loss: minus the target's weight (over the mean's divisor) at each position's target class, 0
 * elsewhere and at ignored positions; with class probabilities or labelSmoothing, minus each class's
 * coefficient. `grad` is laid out like the input (options.out, which may be the input's data).
 */
export function nllLossWithGrad(logProbs: Logits, target: Target, options: PerElement<NllLossGradOptions>): LossWithGrad<Float32Array>;
export function nllLossWithGrad(logProbs: Logits, target: Target, options?: Reduced<NllLossGradOptions>): LossWithGrad<number>;
export function nllLossWithGrad(logProbs: Logits, target: Target, options?: NllLossGradOptions): LossWithGrad;
export function nllLossWithGrad(logProbs: Logits, target: Target, options?: NllLossGradOptions): LossWithGrad {
  return runLossWithGrad(NLL_LOSS, logProbs, target, options);
}
