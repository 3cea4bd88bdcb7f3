// xent/tfjs: xent's cross-entropy as a TensorFlow.js loss, whose gradient (through tf.customGrad) is
// xent's fused gradient, computed in the same pass as the loss. The only file of xent that imports
// @tensorflow/tfjs-core (an optional peer dependency); the main entry never loads it.
import * as tf from '@tensorflow/tfjs-core';
import { describe, shapeString } from './args.ts';
import { positionShape, sameShape } from './shape.ts';
import { crossEntropy, crossEntropyWithGrad } from './loss.ts';
import { allocFloat32, type WasmFloat32Array } from './memory.ts';
import type { CrossEntropyOptions, IndexTensor, Reduction, Tensor as XentTensor } from './types.ts';

export { init } from './backend/select.ts';

/** The options of crossEntropyLoss: those of the core's crossEntropy (weight, ignoreIndex, reduction,
 *  labelSmoothing, check, ...). The upstream gradient comes from tfjs (dy), so there is no gradOutput. */
export type TfCrossEntropyOptions = Omit<CrossEntropyOptions, 'classes'>;

/** The parts of tfjs-backend-wasm (4.x) read to see a tensor's bytes in place in tfjs's WASM heap. */
interface TfWasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined };
}

function wasmBackendOf(backend: unknown): TfWasmBackend | null {
  const b = backend as Partial<TfWasmBackend> | null;
  return b && b.wasm?.HEAPU8 instanceof Uint8Array && typeof b.dataIdMap?.get === 'function' ? b as TfWasmBackend : null;
}

/** The logits' floats with as few copies as the backend allows: on tfjs's wasm backend a view of the
 *  tensor in tfjs's WASM heap (no copy: xent's kernels stream it into their own memory in cache-sized
 *  chunks, as they do any array); on cpu the tensor's backing array (dataSync returns it, no copy);
 *  elsewhere what dataSync returns (a copy out of the backend). */
function floatsOf(x: tf.Tensor): Float32Array {
  const wasm = tf.getBackend() === 'wasm' ? wasmBackendOf(tf.backend()) : null;
  const at = wasm?.dataIdMap.get(x.dataId)?.memoryOffset;
  if (wasm && typeof at === 'number' && at % 4 === 0) return new Float32Array(wasm.wasm.HEAPU8.buffer, at, x.size);
  return asFloat32(x.dataSync());
}

/** tfjs's cpu backend may hold a float32 tensor's values in another typed array (a cast from int32
 *  shares the Int32Array): those are converted (a copy); a Float32Array is used as is. */
function asFloat32(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

function asInt32(a: ArrayLike<number>): Int32Array {
  return a instanceof Int32Array ? a : Int32Array.from(a);
}

/** The tape tfjs records on now: the array that a top-level tf.grad / variableGrads / minimize starts, which
 *  nested ones share, and which is replaced (or set to null) once that computation's backward is done. */
function activeTape(): unknown {
  return (tf.engine() as unknown as { state?: { activeTape?: unknown } }).state?.activeTape;
}

/** Gradient buffers in xent's WASM memory that no backward has taken yet, with the tape they were recorded
 *  on. tfjs backpropagates a tape only inside the call that recorded it, and a loss that is not part of the
 *  differentiated objective (a logged metric) never has its gradFunc run; tfjs offers no hook when the
 *  tape is dropped. So each crossEntropyLoss call first frees the buffers of tapes that are no longer
 *  active: what undifferentiated losses hold is bounded by one gradient computation's worth, freed at the
 *  next call, and no buffer a backward could still read is ever freed (no recomputation is needed). */
const pending = new Map<WasmFloat32Array, unknown>();

function freeStaleGradients(): void {
  if (pending.size === 0) return;
  const tape = activeTape();
  for (const [a, t] of pending) {
    if (t !== tape) {
      pending.delete(a);
      a.free();
    }
  }
}

/** Where xent writes the gradient. On tfjs's wasm backend, an array in xent's own WASM memory (the
 *  kernels write it in place), copied once into tfjs's heap by the backward pass and then freed, or freed
 *  by freeStaleGradients if no backward takes it. Elsewhere a fresh Float32Array, which tf.tensor on cpu
 *  adopts as the gradient tensor's storage without copying (and the GC reclaims with the tape). */
function gradBuffer(n: number): { data: Float32Array; release(): void } {
  if (tf.getBackend() !== 'wasm') {
    const data = new Float32Array(n);
    return { data, release() {} };
  }
  const a = allocFloat32(n);
  pending.set(a, activeTape());
  return { get data() { return a.data; }, release() { pending.delete(a); a.free(); } };
}

/** Whether a gradient tape records now (tf.grad, variableGrads, minimize): only then is the gradient
 *  computed; a loss outside any gradient computation costs a forward pass only. */
function recording(): boolean {
  const engine = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof engine.isTapeOn === 'function' ? engine.isTapeOn() : true;
}

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor ||
    (typeof v === 'object' && v !== null && 'dataId' in v && 'dtype' in v && 'shape' in v && 'dataSync' in v);
}

/** Validates the tensors (dtype, shape) before any tfjs work; the core validates the values. */
function validate(logits: unknown, target: unknown, options: unknown): { kind: 'index' | 'prob' } {
  if (!isTensor(logits)) throw new TypeError(`logits: expected a float32 tf.Tensor, got ${describe(logits)}`);
  if (logits.dtype !== 'float32') throw new TypeError(`logits: expected a float32 tf.Tensor, got ${logits.dtype}`);
  if (logits.isDisposed) throw new TypeError('logits: the tensor is disposed');
  if (logits.rank === 0) throw new RangeError('logits: expected at least 1 dimension (the classes), got shape []');
  const C = (logits.rank > 1 ? logits.shape[1] : logits.shape[0]) as number;
  if (C < 1) throw new RangeError(`logits: shape ${shapeString(logits.shape)} has 0 classes`);
  if (!isTensor(target)) {
    throw new TypeError(`target: expected an int32 tf.Tensor of class indices or a float32 tf.Tensor of probabilities, got ${describe(target)}`);
  }
  if (target.isDisposed) throw new TypeError('target: the tensor is disposed');
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError(`options: expected an object, got ${describe(options)}`);
  }
  for (const key of ['gradOutput', 'out', 'classes'] as const) {
    if (options && key in options) {
      throw new TypeError(`options.${key}: not an option of xent/tfjs crossEntropyLoss (the gradient comes from tfjs)`);
    }
  }
  if (target.dtype === 'int32') {
    const want = positionShape(logits.shape);
    if (!sameShape(target.shape, want)) {
      throw new RangeError(
        `target: int32 class indices of shape ${shapeString(target.shape)} do not fit logits of shape ` +
        `${shapeString(logits.shape)} (expected ${shapeString(want)}: the logits' shape without the class axis)`,
      );
    }
    return { kind: 'index' };
  }
  if (target.dtype === 'float32') {
    if (!sameShape(target.shape, logits.shape)) {
      throw new RangeError(
        `target: float32 probabilities of shape ${shapeString(target.shape)} must have the logits' shape ` +
        `${shapeString(logits.shape)}`,
      );
    }
    return { kind: 'prob' };
  }
  throw new TypeError(`target: expected int32 class indices or float32 probabilities, got ${target.dtype}`);
}

/**
 * Cross-entropy between tfjs logits and targets, as torch.nn.functional.cross_entropy, differentiable in
 * tfjs: under tf.grad, tf.variableGrads or optimizer.minimize, the gradient w.r.t. the logits is xent's
 * fused gradient, computed together with the loss in one pass (no second forward).
 *
 * @param logits float32, shape [C], [N, C] or [N, C, d1, ..., dK] (class axis 1, or 0 when unbatched)
 * @param target int32 class indices (the logits' shape without the class axis), or float32 class
 *   probabilities (the logits' shape). Not differentiated.
 * @returns a scalar tensor for 'mean' and 'sum'; for 'none', one loss per position (the target's shape)
 * @throws {TypeError} a wrong dtype or a non-tensor argument, a bad option
 * @throws {RangeError} a shape mismatch, a class index out of range (the core's checks)
 */
export function crossEntropyLoss(logits: tf.Tensor, target: tf.Tensor, options?: TfCrossEntropyOptions): tf.Tensor {
  const { kind } = validate(logits, target, options);
  const reduction: Reduction = options?.reduction ?? 'mean';
  const shape = logits.shape;
  // xent runs here, before tfjs records anything: the core's value checks (a class index out of range, a
  // bad option) throw before any tensor or tape node exists
  const t = kind === 'index'
    ? { data: asInt32(target.dataSync() as ArrayLike<number>), shape: target.shape } satisfies IndexTensor
    : { data: asFloat32(target.dataSync() as ArrayLike<number>), shape: target.shape } satisfies XentTensor;
  const input = { data: floatsOf(logits), shape };
  freeStaleGradients(); // before allocating, so that a stale buffer's memory is reused
  let buffer: { data: Float32Array; release(): void } | null = null;
  let loss: number | Float32Array;
  if (recording()) {
    buffer = gradBuffer(logits.size);
    try {
      // one pass: the loss and the gradient (for a dy of 1), written into the buffer
      loss = crossEntropyWithGrad(input, t, { ...options, out: buffer.data }).loss;
    } catch (e) {
      buffer.release();
      throw e;
    }
  } else {
    loss = crossEntropy(input, t, options); // no gradient tape records: the forward alone
  }
  const gradFunc = (dy: tf.Tensor): tf.Tensor => {
    if (!buffer) throw new Error('xent/tfjs: no gradient was recorded for this loss (it was computed outside a gradient tape)');
    // cpu: adopts the Float32Array (no copy); wasm: one copy into tfjs's heap, after which xent's is freed
    const g = tf.tensor(buffer.data, shape, 'float32');
    buffer.release();
    buffer = null;
    if (reduction !== 'none') {
      if (dy.dataSync()[0] === 1) return g; // the loss is the objective: no scaling pass
      return tf.mul(g, dy);
    }
    // per-position dy, broadcast over the class axis
    const dyShape = shape.length > 1 ? [shape[0], 1, ...shape.slice(2)] : [1];
    return tf.mul(g, tf.reshape(dy, dyShape));
  };
  // The target is closed over rather than passed as an input: customGrad wants one gradient per input,
  // and an int32 target has none. The forward only wraps the loss computed above in a tensor.
  const lossFn = tf.customGrad(() => ({
    value: typeof loss === 'number' ? tf.scalar(loss, 'float32') : tf.tensor(loss, positionShape(shape), 'float32'),
    gradFunc,
  }));
  return lossFn(logits);
}
