// Argument checks. TypeError for a value of the wrong kind, RangeError for a value of the right kind
// outside what is allowed. Every message names the argument, says what was expected and what came.
//
// Typed arrays are recognised by their brand (the internal slot that %TypedArray%.prototype's getters
// read), not by instanceof: arrays from another realm (node:vm, an iframe, jsdom) are genuine, a Proxy
// around one is not. Every array that passes a check is handed on as a fresh view of this realm over the
// same memory, so no later step calls a method a subclass or an own property could override: once an
// argument is past the checks, no user code runs until the call returns.

const TypedArrayProto = Object.getPrototypeOf(Int8Array.prototype) as object;
function intrinsicGetter(key: PropertyKey): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(TypedArrayProto, key)!.get! as (this: unknown) => unknown;
}
const nameOf = intrinsicGetter(Symbol.toStringTag) as (this: unknown) => string | undefined;
const bufferOf = intrinsicGetter('buffer') as (this: unknown) => ArrayBufferLike;
const offsetOf = intrinsicGetter('byteOffset') as (this: unknown) => number;
const lengthOf = intrinsicGetter('length') as (this: unknown) => number;

type TypedArrayCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView & ArrayLike<number | bigint>;
const CTORS: Record<string, TypedArrayCtor> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array,
  Float64Array, BigInt64Array, BigUint64Array,
} as unknown as Record<string, TypedArrayCtor>;
const F16 = (globalThis as { Float16Array?: TypedArrayCtor }).Float16Array;
if (F16) CTORS.Float16Array = F16; // Node 24+, Deno, Bun, browsers

/** The kind of a genuine typed array of any realm ('Float32Array', ...), or undefined for anything else. */
export function typedArrayName(v: unknown): string | undefined {
  return nameOf.call(v);
}

function isDetached(buffer: ArrayBufferLike): boolean {
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Called on every array argument that passed its check (set by memory.ts once xent memory is handed
 *  out): refuses views of freed or foreign parts of xent's WASM memory. */
let guardView: ((name: string, original: object, view: ArrayBufferView) => void) | null = null;
export function setViewGuard(fn: typeof guardView): void {
  guardView = fn;
}

/**
 * A view of this realm over the memory of the genuine typed array `v`, or undefined when `v` is not one.
 * Reads internal slots only. A view whose buffer was detached (WASM memory that grew) is refused.
 */
export function plainView(name: string, v: unknown): (ArrayBufferView & ArrayLike<number | bigint>) | undefined {
  const kind = typedArrayName(v);
  if (kind === undefined) return undefined;
  const length = lengthOf.call(v), buffer = bufferOf.call(v);
  if (length === 0 && isDetached(buffer)) {
    throw new TypeError(
      `${name}: its ArrayBuffer is detached (a view of xent's WASM memory is detached when the memory grows: ` +
      `read allocFloat32(...).data again after each call instead of keeping a view)`,
    );
  }
  const view = new CTORS[kind](buffer, offsetOf.call(v), length);
  guardView?.(name, v as object, view);
  return view;
}

/** One of `choices` (a string option), or `fallback` when undefined; a TypeError names the choices. */
export function checkChoice<T extends string>(name: string, v: unknown, choices: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if ((choices as readonly unknown[]).includes(v)) return v as T;
  const listed = choices.map((c) => `'${c}'`);
  throw new TypeError(`${name}: expected ${listed.slice(0, -1).join(', ')} or ${listed[listed.length - 1]}, got ${describe(v)}`);
}

/** A short description of a value for error messages: `Float64Array(12)`, `number 1.5`, `string "avg"`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `Array(${v.length})`;
  const kind = typedArrayName(v);
  if (kind !== undefined) return `${kind}(${lengthOf.call(v)})`;
  switch (typeof v) {
    case 'string': return `string ${JSON.stringify(v)}`;
    case 'number': case 'bigint': case 'boolean': return `${typeof v} ${String(v)}`;
    case 'object': {
      const name = ctorName(v);
      if (posesAsTypedArray(v)) return `an object posing as ${name} (not a genuine typed array: a Proxy?)`;
      return name !== 'Object' ? name : 'object';
    }
    default: return typeof v;
  }
}

/** An object that is no typed array but claims to be one (a Proxy around one, or a hand-made
 *  look-alike): it would pass instanceof and then fail inside with an engine message. */
function posesAsTypedArray(v: object): boolean {
  try {
    return typedArrayName(v) === undefined && (v instanceof (Object.getPrototypeOf(Int8Array) as Function) || ctorName(v) in CTORS);
  } catch {
    return true;
  }
}

function ctorName(v: object): string {
  try {
    const c = (v as { constructor?: { name?: unknown } }).constructor;
    return typeof c?.name === 'string' && c.name ? c.name : 'Object';
  } catch {
    return 'Object';
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Rejects a non-object options argument and any key not in `allowed` (catches `ignore_index` typos).
 *  Returns a copy in which every option was read exactly once (a getter runs once). */
export function checkOptions(options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw new TypeError(`options: expected a plain object, got ${describe(options)}`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`options.${key}: unknown option; expected one of ${allowed.join(', ')}`);
    }
    // `out` is read here but checked (readArg) by the function that writes it, which returns it as passed
    out[key] = key === 'out' ? options[key] : readArg(`options.${key}`, options[key]);
  }
  return out;
}

/** An element-by-element copy of a plain array (each element read once; holes become undefined), nested
 *  arrays included. */
function copyArray(a: readonly unknown[], depth: number): unknown[] {
  const out = new Array<unknown>(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    out[i] = Array.isArray(v) && depth < 32 ? copyArray(v, depth + 1) : v;
  }
  return out;
}

/**
 * An argument read once, at the boundary: a genuine typed array becomes a plain view (plainView), a plain
 * array a copy, a `{ data, shape, dtype }` object (or a `{ data, dims, type }` tensor of onnxruntime or
 * transformers.js) a plain `{ data, shape, dtype }` copy of those fields (each read once, and read in
 * turn); anything else is returned as it is, for the checks to refuse.
 */
export function readArg(name: string, v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const view = plainView(name, v);
  if (view !== undefined) return view;
  if (posesAsTypedArray(v)) throw new TypeError(`${name}: expected a typed array, got ${describe(v)}`);
  if (Array.isArray(v)) return copyArray(v, 0);
  if (!('data' in v)) return v;
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = { data: readArg(`${name}.data`, src.data) };
  // onnxruntime's and transformers.js' tensors say `dims` and `type` for `shape` and `dtype`
  if ('shape' in v) out.shape = readArg(`${name}.shape`, src.shape);
  else if ('dims' in v) out.shape = readArg(`${name}.dims`, src.dims);
  if ('dtype' in v) out.dtype = src.dtype;
  else if ('type' in v) {
    const type = src.type; // 'int64', 'int32' ...: the data's own kind says it
    if (type === 'float32' || type === 'float16' || type === 'bfloat16') out.dtype = type;
  }
  return out;
}

/** A number that should be an integer: NaN, infinities and unsafe magnitudes are bad values (RangeError),
 *  fractions and other types the wrong kind (TypeError). */
export function checkInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || (Number.isFinite(v) && !Number.isInteger(v))) {
    throw new TypeError(`${name}: expected an integer, got ${describe(v)}`);
  }
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name}: expected a finite integer, got ${v}`);
  return v;
}

/** Floats given as a Float32Array (as it is), a Float64Array or a number[] (converted; every entry must be
 *  a number); undefined for anything else. */
export function floatsOf(name: string, v: unknown): Float32Array | undefined {
  if (v instanceof Float32Array) return v;
  if (v instanceof Float64Array) return Float32Array.from(v);
  if (!Array.isArray(v)) return undefined;
  v.forEach((e: unknown, i) => {
    if (typeof e !== 'number') throw new TypeError(`${name}[${i}]: expected a number, got ${e === undefined ? 'undefined (a hole in the array?)' : describe(e)}`);
  });
  return Float32Array.from(v as number[]);
}

/** `v` (read by readArg: a plain view) if it is a Float32Array. */
export function checkFloat32Array(name: string, v: unknown): Float32Array {
  if (!(v instanceof Float32Array)) throw new TypeError(`${name}: expected a Float32Array, got ${describe(v)}`);
  return v;
}

/** The largest extent of one axis: the kernels index a row with 32-bit integers. */
export const MAX_DIM = 2 ** 31 - 1;

/** A shape: an array of non-negative integers, each at most MAX_DIM. Returns the element count. */
export function checkShape(name: string, shape: unknown): number {
  if (!Array.isArray(shape)) throw new TypeError(`${name}: expected an array of non-negative integers, got ${describe(shape)}`);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = checkInteger(`${name}[${i}]`, shape[i]);
    if (d < 0) throw new RangeError(`${name}[${i}]: expected a non-negative integer, got ${d}`);
    if (d > MAX_DIM) throw new RangeError(`${name}[${i}]: ${d} is larger than ${MAX_DIM}, the longest axis xent handles`);
    size *= d;
  }
  return size;
}

/** Checks `${name}.shape` (as checkShape) and that it holds exactly `length` elements; returns the shape. */
export function checkShapeOf(name: string, shape: unknown, length: number): readonly number[] {
  const size = checkShape(`${name}.shape`, shape);
  const s = shape as readonly number[];
  if (size !== length) {
    throw new RangeError(`${name}.data has ${length} elements but ${name}.shape ${shapeString(s)} needs ${size}`);
  }
  return s;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Byte ranges of two views that share memory (an empty view overlaps nothing). */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 &&
    a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** Refuses an output that shares memory with an input (PyTorch refuses it too: the result would depend on
 *  the order of the writes). `inPlace` is the one input `out` may equal exactly (same memory, same length). */
export function checkNoOverlap(
  outName: string, out: ArrayBufferView, inputs: readonly (readonly [string, ArrayBufferView | null | undefined])[],
  inPlace: ArrayBufferView | null = null,
): void {
  for (const [name, a] of inputs) {
    if (!a || !overlaps(out, a)) continue;
    if (a === inPlace && a.byteOffset === out.byteOffset && a.byteLength === out.byteLength) continue;
    throw new RangeError(
      `${outName} overlaps ${name} (bytes ${out.byteOffset}..${out.byteOffset + out.byteLength} and ` +
      `${a.byteOffset}..${a.byteOffset + a.byteLength} of one buffer): an output may not share memory with an input` +
      (a === inPlace ? ' except exactly (the same offset and length: in place)' : ''),
    );
  }
}
