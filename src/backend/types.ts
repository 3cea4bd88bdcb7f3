// The contract both backends implement. Arrays are plain typed arrays; the wasm backend copies them into
// its memory, the JS backend works on them directly. Both compute the same math (see assembly/xent.ts).
import type { Half } from '../half.ts';

/** Marks an ignored position in the normalised Int32Array of targets handed to the kernels. */
export const IGNORED = -1;

/** One cross-entropy evaluation over an (N, C, S) layout. */
export interface XentJob {
  /** Logits (or log-probabilities when logProbs), N*C*S floats; 16-bit patterns when half is set. */
  x: Float32Array | Uint16Array;
  /** How x is stored: float32, or float16 / bfloat16 bit patterns. */
  half: Half;
  N: number;
  C: number;
  S: number;
  /** Class indices, one per position, IGNORED (-1) where ignored; or null with prob. */
  index: Int32Array | null;
  /** Probability targets laid out like x; or null with index. */
  prob: Float32Array | null;
  /** Class weights (length C) or null for all ones. */
  weight: Float32Array | null;
  /** Label smoothing in [0, 1]. */
  eps: number;
  /** x already holds log-probabilities (nllLoss): no log-softmax, no softmax term in the gradient. */
  logProbs: boolean;
  /** Per-position losses are written here when given (N*S floats). */
  loss: Float32Array | null;
  /** The gradient is written here when given (N*C*S floats); it may be x itself. */
  grad: Float32Array | null;
  /** Gradient scale per position (reduction 'none'), or null to use gscale for every position. */
  scales: Float32Array | null;
  gscale: number;
  /** 1 / temperature: the logits are divided by the temperature first (1: none; not for logProbs). */
  invT: number;
  /** z-loss coefficient: zLoss * logsumexp^2 is added to each non-ignored position's loss (0: none). */
  zLoss: number;
  /** Soft cap c, 0 for none: the logits become c tanh(x invT / c) (then no further temperature). */
  softcap: number;
  /** When given (index targets, eps 0): each position's logsumexp and softmax entropy of the (tempered,
   *  capped) logits, NaN where ignored, from the same pass. */
  lse?: Float32Array | null;
  entropy?: Float32Array | null;
}

/** How a BceJob's weight is laid out. The numbers are the wasm ABI's (bce_logits_f32's `wMode`), which
 *  the backends' loops compare as they are. */
export const WeightMode = { none: 0, lastAxis: 1, perElement: 2 } as const;
export type WeightMode = (typeof WeightMode)[keyof typeof WeightMode];

/** One binary cross-entropy evaluation over R rows of L elements (L = the input's last axis). */
export interface BceJob {
  x: Float32Array;
  y: Float32Array;
  R: number;
  L: number;
  /** Weights: none, one per last-axis position, or one per element (wMode). */
  weight: Float32Array | null;
  wMode: WeightMode;
  /** pos_weight, one per last-axis position, or null. */
  posWeight: Float32Array | null;
  loss: Float32Array | null;
  /** The gradient is written here when given; it may be x. */
  grad: Float32Array | null;
  scales: Float32Array | null;
  gscale: number;
}

export type ClassOp = 'logsumexp' | 'log_softmax' | 'softmax';

/** What a job gives back; the job itself is left as it was. */
export interface JobResult {
  /** The sum of the per-position (per-element) losses, in float64, added in position order. */
  total: number;
  /** Of that total, the z-loss terms (cross-entropy; 0 without a z-loss). */
  zTotal: number;
  /** The job's grad, or a fresh view of the same floats when it lives in WASM memory that grew. */
  grad: Float32Array | null;
}

export interface Kernels {
  readonly name: 'wasm' | 'js';
  /** Runs a cross-entropy job. */
  xent(job: XentJob): JobResult;
  /** Runs a binary cross-entropy job (zTotal 0). */
  bce(job: BceJob): JobResult;
  /** An op over the class axis of an (N, C, S) tensor: out has N*S floats for logsumexp, N*C*S otherwise.
   *  Returns out, or a fresh view of the same floats if it lives in WASM memory that grew. */
  classOp(op: ClassOp, x: Float32Array, N: number, C: number, S: number, out: Float32Array): Float32Array;
}
