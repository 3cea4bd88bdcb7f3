// The contract both backends implement: a backend runs a call and returns its result. A call names its
// kernel and carries its arrays (with their role and their size per row) and its scalars; the wasm
// backend copies the arrays into its memory a chunk of rows at a time, the JS backend loops over them
// directly. Calls hold only typed arrays and numbers, and results come back in the result: nothing a
// caller passes is mutated but its output arrays, so a call can be run anywhere (a worker, say).
// Both backends compute the same math (see assembly/xent.ts).

/** Marks an ignored position in the normalised Int32Array of targets handed to the kernels. */
export const IGNORED = -1;

/** How a bce call's weight is laid out. The numbers are the wasm ABI's (bce_logits_f32's `wMode`), which
 *  the backends' loops compare as they are. */
export const WeightMode = { none: 0, lastAxis: 1, perElement: 2 } as const;
export type WeightMode = (typeof WeightMode)[keyof typeof WeightMode];

export type ClassOp = 'logsumexp' | 'log_softmax' | 'softmax' | 'softmin';
export type BackwardOp = 'log_softmax_backward' | 'softmax_backward' | 'logsumexp_backward';

/**
 * The kernels, with the arrays and scalars each reads (names as in the call):
 * - xent_index / xent_prob: cross-entropy over an (N, C, S) layout (rows = N). Arrays: x (logits, or
 *   log-probabilities when logProbs; 16-bit patterns when half), target (IGNORED-normalised indices, S a
 *   row, or probabilities laid out like x), weight (fixed, C; null: ones), loss, scales, lse, entropy (S a
 *   row), grad (C*S a row; may be x itself). Scalars: C, S, half, eps, wsum, gscale, logProbs, invT, zLoss,
 *   softcap, ignoreIndex. Totals: the loss and its z-loss part.
 * - bce: binary cross-entropy, rows = elements. Arrays: x, y, weight (per element, or fixed and one per
 *   last-axis position: a cycle), posWeight (a cycle), loss, scales, grad. Scalars: L, wMode, gscale.
 *   Totals: the loss.
 * - kl_div: KL divergence, rows = elements. Arrays: x (log-probabilities), y (the target), loss, scales,
 *   grad. Scalars: logTarget, gscale. Totals: the loss.
 * - distill: knowledge distillation, rows of C classes (classes last). Arrays: s, t (the student's and the
 *   teacher's logits; 16-bit patterns when halfS / halfT), labels (IGNORED-normalised, one a row; null:
 *   none), loss, scales, grad (never over s). Scalars: C, halfS, halfT, invT, mode (0: KL(P || Q),
 *   1: KL(Q || P), 2: the JSD with beta), beta, alpha, gscale. Totals: the loss.
 * - logsumexp / log_softmax / softmax / softmin: over the class axis of (N, C, S) (rows = N); arrays x
 *   and out.
 * - log_softmax_backward / softmax_backward / logsumexp_backward: the same layout; arrays g (the upstream
 *   gradient: like out, or one per position for logsumexp), y (the forward's output; its input for
 *   logsumexp, which out may not overwrite), out, and for logsumexp optionally lse (its result, one per
 *   position: then g exp(y - lse) elementwise).
 */
export type KernelName = 'xent_index' | 'xent_prob' | 'bce' | 'kl_div' | 'distill' | ClassOp | BackwardOp;

export type Floats = Float32Array | Int32Array | Uint16Array;

/** An array of a call: `in` arrays are read, `out` arrays written, `per` elements a row; a `fixed` array
 *  is read whole by every row (null data: `length` copies of `fill`); row i of a call reads element
 *  i % period of a `cycle` array (a last-axis array of an elementwise op; a call's cycles share a period). */
export type CallArray =
  | { role: 'in' | 'out'; data: Floats; per: number }
  | { role: 'fixed'; data: Float32Array | null; length: number; fill?: number }
  | { role: 'cycle'; data: Float32Array; period: number };

export interface Call {
  kernel: KernelName;
  /** Rows to run: the kernels see them in order, a chunk at a time. 0: nothing to compute. */
  rows: number;
  arrays: Record<string, CallArray | null>;
  scalars: Record<string, number>;
  /** An out array that may be written over the working copy of an in array of the same size (to save
   *  memory traffic), as [out, in]; an out whose data is an in's data is written over it in any case. */
  over?: readonly [string, string];
}

export interface CallResult {
  /** The sum of the per-row losses in float64, added in row order (0 for class ops). */
  total: number;
  /** Of that total, the z-loss terms (xent with a z-loss; else 0). */
  zTotal: number;
  /** Each out array: the call's own, or a fresh view of the same floats when it lives in WASM memory that
   *  grew during the call. */
  outs: Record<string, Float32Array>;
  /** A summed kernel's reduction blocks (blocks.ts), in order: each block's total and z-loss total. */
  blocks?: Float64Array;
}

export interface Kernels {
  readonly name: 'wasm' | 'js';
  run(call: Call): CallResult;
}
