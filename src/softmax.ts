// logSoftmax, softmax, softmin and logSumExp along any axis, and their backward: the tensor reads as
// (N, C, S) around that axis.
import { runBackwardOp, runClassOp } from './ops/class-ops.ts';
import type { LogSumExpBackwardOptions, SoftmaxOptions, Tensor, TensorLike } from './types.ts';

/**
 * log_softmax(x) = x - logsumexp(x) along options.dim (default: the last axis), computed in log space so
 * that it stays finite where log(softmax(x)) underflows to -inf. Returns a Float32Array shaped like input.
 */
export function logSoftmax(input: Tensor | Float32Array | TensorLike, options?: SoftmaxOptions): Float32Array {
  return runClassOp('log_softmax', input, options);
}

/** softmax(x) = exp(x - max) / sum(exp(x - max)) along options.dim (default: the last axis). */
export function softmax(input: Tensor | Float32Array | TensorLike, options?: SoftmaxOptions): Float32Array {
  return runClassOp('softmax', input, options);
}

/**
 * log(sum(exp(x))) along options.dim (default: the last axis), with the max subtracted first. Returns a
 * Float32Array shaped like input without that axis. Like torch.logsumexp, an infinite max gives +-inf.
 */
export function logSumExp(input: Tensor | Float32Array | TensorLike, options?: SoftmaxOptions): Float32Array {
  return runClassOp('logsumexp', input, options);
}

/** softmin(x) = softmax(-x) along options.dim (default: the last axis), as torch.nn.functional.softmin. */
export function softmin(input: Tensor | Float32Array | TensorLike, options?: SoftmaxOptions): Float32Array {
  return runClassOp('softmin', input, options);
}

/**
 * The backward of logSoftmax: d/dx given the upstream gradient g and output = logSoftmax(x) along
 * options.dim, g - exp(output) * sum(g) (PyTorch's _log_softmax_backward_data). Shaped like output;
 * options.out may be gradOutput's or output's data (in place).
 */
export function logSoftmaxBackward(gradOutput: Tensor | Float32Array | TensorLike, output: Tensor | Float32Array | TensorLike, options?: SoftmaxOptions): Float32Array {
  return runBackwardOp('log_softmax_backward', gradOutput, output, options);
}

/**
 * The backward of softmax: d/dx given the upstream gradient g and output = softmax(x) along options.dim,
 * output * (g - sum(g * output)) (PyTorch's _softmax_backward_data). Shaped like output; options.out may
 * be gradOutput's or output's data (in place).
 */
export function softmaxBackward(gradOutput: Tensor | Float32Array | TensorLike, output: Tensor | Float32Array | TensorLike, options?: SoftmaxOptions): Float32Array {
  return runBackwardOp('softmax_backward', gradOutput, output, options);
}

/**
 * The backward of logSumExp: d/dx = g * softmax(input) along options.dim, g shaped like logSumExp's
 * result (or with that axis kept as 1). Shaped like input. Where a row's max is infinite it is PyTorch's
 * g * exp(input - logsumexp): NaN at +inf entries and 0 elsewhere; NaN for an all -inf row. With
 * options.result (the forward's logSumExp, as autograd saves it) it is g * exp(input - result) exactly as
 * PyTorch computes it, in one pass instead of a softmax.
 */
export function logSumExpBackward(gradOutput: Tensor | Float32Array | TensorLike, input: Tensor | Float32Array | TensorLike, options?: LogSumExpBackwardOptions): Float32Array {
  return runBackwardOp('logsumexp_backward', gradOutput, input, options);
}
