// Turns the public (input, target, options) of the cross-entropy family into one validated problem over
// an (N, C, S) layout, S being the product of the trailing dimensions d1..dK. All checks happen here,
// before any backend work, so a bad argument never touches the WASM heap.
import type { Reduction, Target } from './types.ts';
import { Half, type HalfKind } from './half.ts';
import {
  checkChoice, checkFloat32Array, checkInteger, floatsOf, checkShapeOf, describe, MAX_DIM, shapeString,
} from './args.ts';
import { gradScale, outBuffer } from './outputs.ts';
import { positionShape, sameShape } from './shape.ts';
import { IGNORED } from './backend/types.ts';

export interface Layout {
  /** The logits: f32 values, or 16-bit patterns when `half` is set. */
  data: Float32Array | Uint16Array;
  shape: readonly number[];
  N: number;
  C: number;
  S: number;
  half: Half;
}

export interface Problem extends Layout {
  /** Normalised class indices, one per position, IGNORED where ignored; null for probability targets. */
  index: Int32Array | null;
  /** Probability targets laid out like the input; null for index targets. */
  prob: Float32Array | null;
  weight: Float32Array | null;
  reduction: Reduction;
  eps: number;
  /** The mean's divisor: sum of w[t] over non-ignored positions, or the number of positions. */
  denominator: number;
  /** 1 / temperature (1 when not set). */
  invT: number;
  /** z-loss coefficient (0 when not set). */
  zLoss: number;
  /** Soft cap c (0 when not set): logits become c tanh(x / (T c)). */
  softcap: number;
}

// 'check' is read by loss.ts before resolveProblem (diagnose/check.ts runCheck); here it only has to be allowed
export const LOSS_KEYS = ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing', 'classes', 'classAxis', 'check'] as const;
/** crossEntropy's: nllLoss's plus those that act on logits. */
export const CE_KEYS = [...LOSS_KEYS, 'temperature', 'zLoss', 'softcap'] as const;
export const GRAD_KEYS = [...CE_KEYS, 'gradOutput', 'out'] as const;
export const NLL_GRAD_KEYS = [...LOSS_KEYS, 'gradOutput', 'out'] as const;

/** Checks a { data: Float32Array, shape } argument (a bare Float32Array reads as 1-D). */
export function resolveTensor(input: unknown, name: string): { data: Float32Array; shape: readonly number[] } {
  if (input instanceof Float32Array) return { data: input, shape: [input.length] };
  if (typeof input !== 'object' || input === null || !('data' in input) || !('shape' in input)) {
    throw new TypeError(`${name}: expected { data: Float32Array, shape } or a Float32Array, got ${describe(input)}`);
  }
  const data = checkFloat32Array(`${name}.data`, input.data);
  return { data, shape: checkShapeOf(name, input.shape, data.length) };
}

/** The (N, C, S) layout of a cross-entropy input: class axis 1, or 0 when the input is 1-D (unbatched). */
export function resolveInput(input: unknown, classes: unknown, name = 'input'): Layout {
  if (input instanceof Float32Array) {
    if (classes === undefined) {
      throw new TypeError(`${name}: a flat Float32Array needs options.classes (read as [N, classes]); or pass { data, shape }`);
    }
    const C = checkInteger('options.classes', classes);
    if (C < 1) throw new RangeError(`options.classes: expected an integer >= 1, got ${C}`);
    if (input.length % C !== 0) {
      throw new RangeError(`${name}: length ${input.length} is not a multiple of options.classes = ${C}`);
    }
    return { data: input, shape: [input.length / C, C], N: input.length / C, C, S: 1, half: Half.none };
  }
  const { data, shape, half } = resolveLogitsTensor(input, name);
  if (shape.length === 0) throw new RangeError(`${name}.shape: expected at least 1 dimension (the classes), got []`);
  const batched = shape.length > 1;
  const C = batched ? shape[1] : shape[0];
  if (C < 1) throw new RangeError(`${name}.shape ${shapeString(shape)}: expected at least 1 class, got 0`);
  if (classes !== undefined && checkInteger('options.classes', classes) !== C) {
    throw new RangeError(`options.classes = ${classes} does not match the ${C} classes of ${name}.shape ${shapeString(shape)}`);
  }
  const N = batched ? shape[0] : 1;
  let S = 1;
  for (let i = 2; i < shape.length; i++) S *= shape[i];
  if (C * S > MAX_DIM) {
    throw new RangeError(`${name}.shape ${shapeString(shape)}: a position's ${C * S} logits exceed ${MAX_DIM}, the most xent handles`);
  }
  return { data, shape, N, C, S, half };
}

const F16 = (globalThis as { Float16Array?: new (...a: never[]) => object }).Float16Array;

/** resolveTensor, also taking half-precision logits: `{ data: Uint16Array | Float16Array, shape, dtype }`
 *  or a Float16Array without dtype. */
function resolveLogitsTensor(input: unknown, name: string): { data: Float32Array | Uint16Array; shape: readonly number[]; half: Half } {
  if (typeof input !== 'object' || input === null || !('data' in input)) return { ...resolveTensor(input, name), half: Half.none };
  const { data } = input as { data: unknown };
  const dtype = 'dtype' in input ? (input as { dtype: unknown }).dtype : undefined;
  const isF16 = F16 !== undefined && data instanceof F16;
  let half: HalfKind;
  if (dtype === undefined || dtype === 'float32') {
    if (!isF16) return { ...resolveTensor(input, name), half: Half.none };
    half = Half.float16;
  } else if (dtype === 'float16' || dtype === 'bfloat16') {
    if (!(data instanceof Uint16Array) && !(isF16 && dtype === 'float16')) {
      throw new TypeError(`${name}.data: dtype '${dtype}' expects the raw 16-bit patterns in a Uint16Array${dtype === 'float16' ? ' or a Float16Array' : ''}, got ${describe(data)}`);
    }
    half = dtype === 'float16' ? Half.float16 : Half.bfloat16;
  } else {
    throw new TypeError(`${name}.dtype: expected 'float32', 'float16' or 'bfloat16', got ${describe(dtype)}`);
  }
  const a = data as Uint16Array; // a Float16Array is read as its bit patterns
  const bits = new Uint16Array(a.buffer, a.byteOffset, a.length);
  const shape = checkShapeOf(name, (input as unknown as { shape: unknown }).shape, bits.length);
  return { data: bits, shape, half };
}

export function isIntegerArray(v: unknown): v is ArrayLike<number | bigint> {
  return v instanceof Int32Array || v instanceof BigInt64Array || v instanceof Uint8Array || v instanceof Int8Array ||
    v instanceof Int16Array || v instanceof Uint16Array || v instanceof Uint32Array || v instanceof BigUint64Array ||
    v instanceof Uint8ClampedArray;
}

/** Checks every class index and returns them normalised (IGNORED where equal to ignoreIndex); errors name
 *  the values `name` (the target, or distillation's labels). */
export function normaliseIndices(values: ArrayLike<unknown>, C: number, ignoreIndex: number, name = 'target'): Int32Array {
  if (values instanceof Int32Array) {
    // the common case: integers already. Copied whole (one read of the caller's array), then checked in
    // place: a read-mostly loop, about half the time of copying element by element
    const n = values.length, out = new Int32Array(n);
    out.set(values);
    for (let i = 0; i < n; i++) {
      const v = out[i];
      if ((v >>> 0) < C && v !== ignoreIndex) continue; // 0 <= v < C in one unsigned compare
      if (v !== ignoreIndex) throw outOfRange(name, i, v, C, ignoreIndex);
      out[i] = IGNORED;
    }
    return out;
  }
  return normaliseAny(values, C, ignoreIndex, name);
}

/** A target value as a class index: an integer number or a bigint, else null. */
export function classIndexOf(raw: unknown): number | null {
  if (typeof raw === 'bigint') return Number(raw);
  return typeof raw === 'number' && Number.isInteger(raw) ? raw : null;
}

function normaliseAny(values: ArrayLike<unknown>, C: number, ignoreIndex: number, name: string): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const raw = values[i], v = classIndexOf(raw);
    if (v === null) throw new TypeError(`${name}[${i}] = ${describe(raw)} is not an integer class index`);
    if (v === ignoreIndex) out[i] = IGNORED;
    else if (v >= 0 && v < C) out[i] = v;
    else throw outOfRange(name, i, raw, C, ignoreIndex);
  }
  return out;
}

function outOfRange(name: string, i: number, raw: unknown, C: number, ignoreIndex: number): RangeError {
  return new RangeError(
    `${name}[${i}] = ${String(raw)} is out of range for ${C} classes (expected 0 <= t < ${C}, or ignoreIndex ${ignoreIndex})`,
  );
}

/** A target's form, before any check of its fit: read the same way by validation (which refuses what does
 *  not fit) and by diagnose (which explains it). Throws for a target neither can read. */
export type TargetForm =
  | { form: 'number'; value: number | bigint }
  /** a plain array, possibly nested (diagnose flattens it; validation refuses the nesting) */
  | { form: 'list'; values: readonly unknown[] }
  /** a bare typed array: integer (class indices), or Float32Array / Float64Array (a mistake) */
  | { form: 'flat'; values: ArrayLike<number | bigint>; float: boolean }
  | { form: 'tensor'; data: ArrayLike<number | bigint>; shape: unknown; float: boolean };

const isFloatArray = (v: unknown): v is Float32Array | Float64Array => v instanceof Float32Array || v instanceof Float64Array;

export function targetForm(target: unknown): TargetForm {
  if (typeof target === 'number' || typeof target === 'bigint') return { form: 'number', value: target };
  if (Array.isArray(target)) return { form: 'list', values: target };
  if (isIntegerArray(target) || isFloatArray(target)) return { form: 'flat', values: target, float: isFloatArray(target) };
  if (typeof target === 'object' && target !== null && 'data' in target && 'shape' in target) {
    const { data, shape } = target as { data: unknown; shape: unknown };
    if (isIntegerArray(data) || isFloatArray(data)) return { form: 'tensor', data, shape, float: isFloatArray(data) };
    refuseTargetData(data);
  }
  return refuseTarget(target);
}

function refuseTarget(target: unknown): never {
  throw new TypeError(
    `target: expected class indices (Int32Array, BigInt64Array, number[] or a number) or probabilities ({ data: Float32Array, shape }), got ${describe(target)}`,
  );
}

function refuseTargetData(data: unknown): never {
  throw new TypeError(`target.data: expected Float32Array (probabilities) or an integer typed array (class indices), got ${describe(data)}`);
}

/** The hint for a target that fits the input read with classes last (language models' layout) but not
 *  with classes on axis 1: '' when it does not fit that either, or the two layouts coincide. */
function lastAxisHint(shape: readonly number[], fits: (lead: number[]) => boolean, got: string): string {
  if (shape.length < 3 || !fits(shape.slice(0, -1))) return '';
  return `. Input ${shapeString(shape)} with classes on axis 1 (PyTorch's layout, the default) needs targets ` +
    `${shapeString(positionShape(shape))}; with classes last it needs ${shapeString(shape.slice(0, -1))}, which is what you ` +
    `passed (${got}): pass classAxis: -1`;
}

function resolveTarget(
  target: Target, layout: Layout, ignoreIndex: number,
): { index: Int32Array | null; prob: Float32Array | null } {
  const positions = layout.N * layout.S;
  const want = positionShape(layout.shape);
  const t = targetForm(target);
  switch (t.form) {
    case 'number':
      if (positions !== 1) {
        throw new RangeError(`target: a single class index fits an input with 1 position, but input.shape ${shapeString(layout.shape)} has ${positions}`);
      }
      return { index: normaliseIndices([t.value], layout.C, ignoreIndex), prob: null };
    case 'list':
    case 'flat': {
      if (t.form === 'flat' && t.float) refuseTarget(target); // neither form: probabilities need a shape
      const values = t.values;
      if (values.length !== positions) {
        throw new RangeError(`target: expected ${positions} class indices (shape ${shapeString(want)}), got ${values.length}` +
          lastAxisHint(layout.shape, (lead) => values.length === lead.reduce((a, b) => a * b, 1), `${values.length}`));
      }
      return { index: normaliseIndices(values, layout.C, ignoreIndex), prob: null };
    }
    case 'tensor': {
      if (t.float && !(t.data instanceof Float32Array)) refuseTargetData(t.data); // probabilities are float32
      const tshape = checkShapeOf('target', t.shape, t.data.length);
      if (t.float) {
        if (!sameShape(tshape, layout.shape)) {
          throw new RangeError(`target: probability targets must have the input's shape ${shapeString(layout.shape)}, got ${shapeString(tshape)}`);
        }
        return { index: null, prob: t.data as Float32Array };
      }
      if (!sameShape(tshape, want)) {
        throw new RangeError(`target: class indices must have shape ${shapeString(want)}, got ${shapeString(tshape)}` +
          lastAxisHint(layout.shape, (lead) => sameShape(tshape, lead), shapeString(tshape)));
      }
      return { index: normaliseIndices(t.data, layout.C, ignoreIndex), prob: null };
    }
  }
}

export function resolveWeight(weight: unknown, C: number): Float32Array | null {
  if (weight === undefined || weight === null) return null;
  const w = floatsOf('options.weight', weight);
  if (!w) throw new TypeError(`options.weight: expected a Float32Array (or number[]) of length ${C}, got ${describe(weight)}`);
  if (w.length !== C) throw new RangeError(`options.weight: expected length ${C} (one per class), got ${w.length}`);
  return w;
}

export function resolveReduction(v: unknown): Reduction {
  return checkChoice('options.reduction', v, ['mean', 'sum', 'none'], 'mean');
}

/** A finite number > 0 (or >= 0 with zeroOk), or `fallback` when undefined. */
function resolvePositive(name: string, v: unknown, fallback: number, zeroOk: boolean): number {
  if (v === undefined) return fallback;
  const want = zeroOk ? 'a finite number >= 0' : 'a finite number > 0';
  if (typeof v !== 'number') throw new TypeError(`${name}: expected ${want}, got ${describe(v)}`);
  if (!Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) throw new RangeError(`${name}: expected ${want}, got ${v}`);
  return v;
}

/** The smallest temperature taken: the kernels multiply by 1 / T in float32. */
const MIN_TEMPERATURE = 2 ** -126; // 1.1754943508222875e-38, float32's smallest normal

export function resolveTemperature(v: unknown): number {
  const T = resolvePositive('options.temperature', v, 1, false);
  if (T < MIN_TEMPERATURE) {
    throw new RangeError(`options.temperature: expected a number >= 2^-126 (${MIN_TEMPERATURE}), got ${T}: its reciprocal overflows float32`);
  }
  return T;
}

export function resolveSmoothing(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number') throw new TypeError(`options.labelSmoothing: expected a number in [0, 1], got ${describe(v)}`);
  if (!(v >= 0 && v <= 1)) throw new RangeError(`options.labelSmoothing: expected a number in [0, 1], got ${v}`);
  return v;
}

function denominatorOf(index: Int32Array | null, weight: Float32Array | null, positions: number): number {
  if (!index) return positions;
  if (!weight) {
    let ignored = 0;
    for (let i = 0; i < index.length; i++) if (index[i] === IGNORED) ignored++;
    return index.length - ignored;
  }
  let d = 0;
  for (let i = 0; i < index.length; i++) {
    const t = index[i];
    if (t !== IGNORED) d += weight[t];
  }
  return d;
}

/** The options every cross-entropy op reads, resolved once (validation and diagnose share it). */
export interface LossOptions {
  ignoreIndex: number;
  reduction: Reduction;
  eps: number;
  weight: Float32Array | null;
}

export function resolveLossOptions(opts: Record<string, unknown>, C: number): LossOptions {
  return {
    ignoreIndex: opts.ignoreIndex === undefined ? -100 : checkInteger('options.ignoreIndex', opts.ignoreIndex),
    reduction: resolveReduction(opts.reduction),
    eps: resolveSmoothing(opts.labelSmoothing),
    weight: resolveWeight(opts.weight, C),
  };
}

/** Validates and normalises the arguments of the cross-entropy family, read by readArg / checkOptions. */
export function resolveProblem(input: unknown, target: unknown, opts: Record<string, unknown>): Problem {
  const layout = resolveInput(input, opts.classes);
  const { ignoreIndex, reduction, eps, weight } = resolveLossOptions(opts, layout.C);
  const { index, prob } = resolveTarget(target as Target, layout, ignoreIndex);
  const denominator = denominatorOf(index, weight, layout.N * layout.S);
  const invT = 1 / resolveTemperature(opts.temperature);
  const zLoss = resolvePositive('options.zLoss', opts.zLoss, 0, true);
  const softcap = resolvePositive('options.softcap', opts.softcap, 0, false);
  const { data, shape, N, C, S, half } = layout;
  return { data, shape, N, C, S, half, index, prob, weight, reduction, eps, denominator, invT, zLoss, softcap };
}

/** The gradient buffer and the per-position scale of crossEntropyWithGrad, from its checked options. */
export function resolveGradOptions(
  problem: Problem, opts: Record<string, unknown>,
): { out: Float32Array; gscale: number; scales: Float32Array | null } {
  const { gscale, scales } = gradScale(opts.gradOutput ?? 1, problem.reduction, problem.N * problem.S, problem.denominator, 'position');
  const out = outBuffer(opts.out, problem.data.length, [
    ['input.data', problem.data], ['target.data', problem.prob], ['options.weight', problem.weight], ['options.gradOutput', scales],
  ], problem.half ? null : problem.data, " (the input's)");
  return { out, gscale, scales };
}
