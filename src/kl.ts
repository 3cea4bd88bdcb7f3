// klDiv: torch.nn.functional.kl_div, and its gradient with respect to the input.
import { KL_DIV } from './ops/kl.ts';
import { runLoss, runLossWithGrad } from './ops/spec.ts';
import type { ElementwiseGradOptions, ElementwiseLoss, ElementwiseLossWithGrad } from './types.ts';

export interface KlDivOptions {
  /** 'mean' (default: over every element, as PyTorch), 'batchmean' (the sum over the first dimension's
   *  size: the KL divergence's true mean per sample), 'sum' or 'none' (one value per element). */
  reduction?: 'mean' | 'batchmean' | 'sum' | 'none';
  /** The target holds log-probabilities (default false: probabilities). */
  logTarget?: boolean;
}

export interface KlDivGradOptions extends KlDivOptions, ElementwiseGradOptions {}

/**
 * KL(target || exp(input)) elementwise, as torch.nn.functional.kl_div: `input` holds log-probabilities,
 * `target` probabilities (or log-probabilities with logTarget), the same shape; each element gives
 * target (log target - input), with 0 log 0 = 0 (and, as PyTorch, NaN for a zero target at a -inf input).
 * @throws {TypeError} wrong argument types, an unknown option or reduction; {RangeError} shape mismatches
 */
export const klDiv: ElementwiseLoss<KlDivOptions> = (input, target, options?: KlDivOptions) => runLoss(KL_DIV, input, target, options) as never;

/** The loss and d(loss)/d(input) = -target (times gradOutput, over the reduction's divisor), from one pass. */
export const klDivWithGrad: ElementwiseLossWithGrad<KlDivGradOptions> = (input, target, options?: KlDivGradOptions) =>
  runLossWithGrad(KL_DIV, input, target, options) as never;
