// Public types. Shapes follow PyTorch: the class axis is 1 for batched inputs and 0 for unbatched ones.

/** A dense float32 tensor in row-major (C) order. `data.length` must equal the product of `shape`. */
export interface Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** An integer tensor of class indices, e.g. `{ data: Int32Array.of(1, 0), shape: [2] }`. */
export interface IndexTensor {
  readonly data: IntegerArray;
  readonly shape: readonly number[];
}

/** Integer typed arrays accepted as class indices (BigInt64Array is what PyTorch's int64 exports as). */
export type IntegerArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** Logits: a tensor of shape [C], [N, C] or [N, C, d1, ..., dK], or a flat Float32Array with `options.classes`. */
export type Logits = Tensor | Float32Array;

/** Class indices laid out as the input's shape without the class axis, or class probabilities
 *  (a Tensor with the input's own shape). A single number fits an unbatched input. */
export type Target = IntegerArray | readonly number[] | number | IndexTensor | Tensor;

export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** Per-class rescaling weight, length C. Default: all ones. */
  weight?: Float32Array | readonly number[] | null;
  /** Class-index targets equal to this contribute no loss and no gradient, and are left out of the
   *  mean's denominator. Default -100. Ignored for probability targets (as in PyTorch). */
  ignoreIndex?: number;
  /** 'mean' (default): weighted mean over non-ignored positions (divided by the number of positions for
   *  probability targets); 'sum'; 'none': one loss per position, as a Float32Array. */
  reduction?: Reduction;
  /** In [0, 1], default 0. Mixes the target with the uniform distribution: (1 - s) * target + s / C. */
  labelSmoothing?: number;
  /** The number of classes, required when `input` is a flat Float32Array (read as [N, classes]). */
  classes?: number;
}

export interface CrossEntropyGradOptions extends CrossEntropyOptions {
  /** The upstream gradient d(objective)/d(loss): a number for 'mean' and 'sum' (default 1); a
   *  Float32Array with one value per position (or a number, broadcast) for 'none'. */
  gradOutput?: number | Float32Array;
  /** Where to write the gradient (length of the input). It may be the input's own data: the gradient then
   *  overwrites the logits in place and nothing is allocated. */
  out?: Float32Array;
}

export interface SoftmaxOptions {
  /** The axis to normalise over; negative counts from the end. Default -1 (the last axis). */
  dim?: number;
}

export type BackendName = 'wasm' | 'js';
