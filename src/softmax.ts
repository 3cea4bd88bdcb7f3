// logSoftmax, softmax and logSumExp along any axis: the tensor reads as (N, C, S) around that axis.
import { runClassOp } from './ops/class-ops.ts';
import type { SoftmaxOptions, Tensor, TensorLike } from './types.ts';

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
