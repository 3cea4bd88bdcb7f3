// binaryCrossEntropyWithLogits: torch.nn.functional.binary_cross_entropy_with_logits, and its gradient.
import { BCE_WITH_LOGITS } from './ops/bce.ts';
import { runLoss, runLossWithGrad } from './ops/spec.ts';
import type { ElementwiseGradOptions, LossWithGrad, PerElement, Reduced, Reduction, Tensor, TensorLike } from './types.ts';

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
export function binaryCrossEntropyWithLogits(input: Tensor | Float32Array | TensorLike, target: Tensor | Float32Array | TensorLike, options: PerElement<BceOptions>): Float32Array;
export function binaryCrossEntropyWithLogits(input: Tensor | Float32Array | TensorLike, target: Tensor | Float32Array | TensorLike, options?: Reduced<BceOptions>): number;
export function binaryCrossEntropyWithLogits(input: Tensor | Float32Array | TensorLike, target: Tensor | Float32Array | TensorLike, options?: BceOptions): number | Float32Array;
export function binaryCrossEntropyWithLogits(input: Tensor | Float32Array | TensorLike, target: Tensor | Float32Array | TensorLike, options?: BceOptions): number | Float32Array {
  return runLoss(BCE_WITH_LOGITS, input, target, options);
}

/** The loss and d(loss)/d(input), laid out like the input, from one pass. */
export function binaryCrossEntropyWithLogitsWithGrad(input: Tensor | Float32Array | TensorLike, target: Tensor | Float32Array | TensorLike, options: PerElement<BceGradOptions>): LossWithGrad<Float32Array>;
export function binaryCrossEntropyWithLogitsWithGrad(input: Tensor | Float32Array | TensorLike, target: Tensor | Float32Array | TensorLike, options?: Reduced<BceGradOptions>): LossWithGrad<number>;
export function binaryCrossEntropyWithLogitsWithGrad(input: Tensor | Float32Array | TensorLike, target: Tensor | Float32Array | TensorLike, options?: BceGradOptions): LossWithGrad;
export function binaryCrossEntropyWithLogitsWithGrad(
  input: Tensor | Float32Array | TensorLike, target: Tensor | Float32Array | TensorLike, options?: BceGradOptions,
): LossWithGrad {
  return runLossWithGrad(BCE_WITH_LOGITS, input, target, options);
}
