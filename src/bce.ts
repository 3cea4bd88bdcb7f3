// binaryCrossEntropyWithLogits: torch.nn.functional.binary_cross_entropy_with_logits, and its gradient.
import { BCE_WITH_LOGITS } from './ops/bce.ts';
import { runLoss, runLossWithGrad } from './ops/spec.ts';
import type { ElementwiseGradOptions, ElementwiseLoss, ElementwiseLossWithGrad, Reduction, Tensor } from './types.ts';

export interface BceOptions {
  /** Per-element rescaling weight, broadcast to the input's shape as PyTorch does (numpy rules, aligned
   *  on the last axis): a Tensor, or a Float32Array read as 1-D (one weight per last-axis position). */
  weight?: Tensor | Float32Array | readonly number[];
  /** Weight of the positive term, one per last-axis position (PyTorch's pos_weight). */
  posWeight?: Float32Array | readonly number[];
  /** 'mean' (default, over every element), 'sum' or 'none' (one loss per element). */
  reduction?: Reduction;
}

export interface BceGradOptions extends BceOptions, ElementwiseGradOptions {}

/**
 * Binary cross-entropy between logits and targets in [0, 1] of the same shape, as
 * torch.nn.functional.binary_cross_entropy_with_logits (the stable form max(x, 0) - x y + log1p(e^-|x|)).
 * @throws {TypeError} wrong argument types or unknown options; {RangeError} shape mismatches
 */
export const binaryCrossEntropyWithLogits: ElementwiseLoss<BceOptions> = (input, target, options?: BceOptions) => runLoss(BCE_WITH_LOGITS, input, target, options) as never;

/** The loss and d(loss)/d(input), laid out like the input, from one pass. */
export const binaryCrossEntropyWithLogitsWithGrad: ElementwiseLossWithGrad<BceGradOptions> = (input, target, options?: BceGradOptions) =>
  runLossWithGrad(BCE_WITH_LOGITS, input, target, options) as never;
