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

/** Half-precision logits as their raw 16-bit patterns (what onnxruntime-web and many models return).
 *  `{ data: Float16Array, shape }` is accepted too where the runtime has Float16Array. The kernels widen
 *  them to f32 a chunk at a time; gradients are f32. */
export interface HalfTensor {
  readonly data: Uint16Array;
  readonly shape: readonly number[];
  readonly dtype: 'float16' | 'bfloat16';
}

/** The runtime's Float16Array where the TypeScript lib in use declares it (lib esnext), else never: the
 *  types then accept a Float16Array exactly where the program can have one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Float16Data = typeof globalThis extends { Float16Array: new (...args: any[]) => infer T } ? T : never;

/** Float16 logits as a Float16Array (what onnxruntime returns on Node 24+, Deno, Bun and Chromium), with
 *  or without `dtype: 'float16'`. */
export interface Float16Tensor {
  readonly data: Float16Data;
  readonly shape: readonly number[];
  readonly dtype?: 'float16';
}

/** A tensor as onnxruntime (`Tensor`) and transformers.js return them: `dims` is read as `shape`, and
 *  `type` ('float32', 'float16', 'bfloat16'; 'int64' and 'int32' for ids) as `dtype`. Float16 data may be
 *  the raw bits in a Uint16Array (or a Float16Array where the runtime has one). */
export interface TensorLike {
  readonly data: Float32Array | Uint16Array | Float16Data | IntegerArray;
  readonly dims: readonly number[];
  readonly type?: string;
}

/** Logits: a tensor of shape [C], [N, C] or [N, C, d1, ..., dK] (float32, or half precision for the
 *  cross-entropy family), or a flat Float32Array with `options.classes`. */
export type Logits = Tensor | Float32Array | HalfTensor | Float16Tensor | TensorLike;

/** Class indices laid out as the input's shape without the class axis, or class probabilities
 *  (a Tensor with the input's own shape). A single number fits an unbatched input. */
export type Target = IntegerArray | readonly number[] | number | IndexTensor | Tensor | TensorLike;

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
  /** Where the classes are: 1 (default: PyTorch's layout, [N, C, d1, ..., dK]) or -1 / 'last' (classes
   *  last, as language models lay out logits: [..., C], targets the leading axes). */
  classAxis?: 1 | -1 | 'last';
  /** Divides the logits by this first (>= 2^-126, whose reciprocal float32 still holds; default 1): the
   *  loss of softmax(x / T); the gradient is with respect to the undivided logits. Not an option of nllLoss. */
  temperature?: number;
  /** PaLM's z-loss (>= 0, default 0): adds zLoss * logsumexp(x)^2 to each non-ignored position's loss
   *  (after the temperature), reduced with it, gradient included. Not an option of nllLoss. */
  zLoss?: number;
  /** Logit soft-capping (Gemma 2; > 0, default off): the logits become softcap * tanh(x / softcap)
   *  (after the temperature) before the softmax; the gradient goes through the tanh. Not for nllLoss. */
  softcap?: number;
  /** Run diagnose() on the arguments first. 'off' (default): nothing, no cost. 'warn': its warnings and
   *  errors go to the diagnostics handler (setDiagnosticsHandler; console.warn by default), each code once
   *  until the handler is reset, then the call proceeds as with 'off'. 'throw': warnings as with 'warn',
   *  and any finding of severity 'error' throws an XentCheckError (a RangeError) before any work. */
  check?: CheckMode;
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
  /** Where to write the result (the output's length). For logSoftmax and softmax it may be the input's
   *  own data: the result then overwrites it in place. */
  out?: Float32Array;
}

export interface LogSumExpBackwardOptions extends SoftmaxOptions {
  /** The forward's result, logSumExp(input) along dim (shaped like gradOutput may be), as autograd keeps
   *  it: the gradient is then PyTorch's g * exp(input - result) in one pass, with no reduction. */
  result?: Tensor | Float32Array | TensorLike;
}

export type BackendName = 'wasm' | 'js';

/** The wasm backend's two builds: 'relaxed-simd' (fused multiply-adds, where the engine has relaxed SIMD)
 *  and 'simd' (baseline WebAssembly SIMD: the same bits on every machine). */
export type WasmBuild = 'relaxed-simd' | 'simd';

/** The `check` option of the cross-entropy family. */
export type CheckMode = 'off' | 'warn' | 'throw';

export type Severity = 'error' | 'warning' | 'info';

/** What diagnose() can report (README: "My loss is NaN / zero / not going down"). */
export type FindingCode =
  | 'probabilities-as-logits' | 'log-probabilities-as-logits' | 'logits-as-log-probabilities'
  | 'constant-logits' | 'non-finite-logits' | 'extreme-logits' | 'underflowing-target' | 'saturated-rows'
  | 'one-hot-target' | 'target-out-of-range' | 'target-not-integer' | 'target-type' | 'target-shape'
  | 'probability-target-not-normalized' | 'all-targets-ignored' | 'empty-batch' | 'single-class'
  | 'non-positive-weight';

/** One problem diagnose() found. */
export interface Finding {
  code: FindingCode;
  /** 'error': the loss is wrong, NaN or refused; 'warning': probably a mistake; 'info': worth knowing. */
  severity: Severity;
  /** Plain words: what was seen, what it does to the loss, what to do. */
  message: string;
  /** How many offending elements, rows or classes there are in all. */
  count: number;
  /** The first few (at most 5) of them: positions (n*S + s, an index into the target or a 'none' loss)
   *  for row findings, flat indices into input.data for non-finite-logits, class indices for
   *  non-positive-weight. */
  positions: number[];
  /** The offending values at `positions`, where the finding is about values (target-out-of-range,
   *  target-not-integer, non-finite-logits, non-positive-weight). */
  values?: number[];
}

/** The options of diagnose(): those of crossEntropyWithGrad (gradOutput and out are accepted and
 *  ignored), plus `logProbs: true` to check the arguments of nllLoss (input = log-probabilities). */
export interface DiagnoseOptions extends CrossEntropyGradOptions {
  logProbs?: boolean;
}

/** Receives the findings of the `check: 'warn' | 'throw'` option. */
export type DiagnosticsHandler = (finding: Finding) => void;

/** nllLoss's options: crossEntropy's but those that act on logits. */
export type NllLossOptions = Omit<CrossEntropyOptions, 'temperature' | 'zLoss' | 'softcap'>;

/** nllLossWithGrad's options: nllLoss's, and the upstream gradient and output buffer of crossEntropyWithGrad. */
export type NllLossGradOptions = NllLossOptions & Pick<CrossEntropyGradOptions, 'gradOutput' | 'out'>;

/** The gradient options of an elementwise loss (binaryCrossEntropyWithLogitsWithGrad, klDivWithGrad). */
export interface ElementwiseGradOptions {
  /** The upstream gradient: a number for a reduced loss (default 1); for 'none' a Float32Array with one
   *  value per element, or a number. */
  gradOutput?: number | Float32Array;
  /** Where to write the gradient (the input's length); may be the input's data (in place). */
  out?: Float32Array;
}

/** A loss and its gradient with respect to the input, laid out like the input; `L` is the loss's type
 *  (a number when reduced, a Float32Array for reduction 'none'). */
export interface LossWithGrad<L extends number | Float32Array = number | Float32Array> {
  loss: L;
  grad: Float32Array;
}

/** Options that ask for one loss value per position or element (the overloads then return a Float32Array). */
export type PerElement<O> = O & { reduction: 'none' };
/** Options that ask for a reduced loss, or say nothing of it (the overloads then return a number). */
export type Reduced<O> = O & { reduction?: Exclude<O extends { reduction?: infer R } ? R : never, 'none'> };

/** The input or target of an elementwise op: a float32 tensor, a Float32Array read as 1-D, or a tensor-like. */
export type ElementwiseInput = Tensor | Float32Array | TensorLike;

/** An elementwise loss (binaryCrossEntropyWithLogits, klDiv) with options O: its result's type follows the
 *  reduction. */
export interface ElementwiseLoss<O> {
  (input: ElementwiseInput, target: ElementwiseInput, options: PerElement<O>): Float32Array;
  (input: ElementwiseInput, target: ElementwiseInput, options?: Reduced<O>): number;
  (input: ElementwiseInput, target: ElementwiseInput, options?: O): number | Float32Array;
}

/** The loss and its gradient of an elementwise loss with gradient options O. */
export interface ElementwiseLossWithGrad<O> {
  (input: ElementwiseInput, target: ElementwiseInput, options: PerElement<O>): LossWithGrad<Float32Array>;
  (input: ElementwiseInput, target: ElementwiseInput, options?: Reduced<O>): LossWithGrad<number>;
  (input: ElementwiseInput, target: ElementwiseInput, options?: O): LossWithGrad;
}

