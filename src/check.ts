// Argument checks. TypeError for a value of the wrong kind, RangeError for a value of the right kind
// outside what is allowed. Every message names the argument, says what was expected and what came.

/** A short description of a value for error messages: `Float64Array(12)`, `number 1.5`, `string "avg"`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `Array(${v.length})`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<unknown>).length ?? v.byteLength})`;
  switch (typeof v) {
    case 'string': return `string ${JSON.stringify(v)}`;
    case 'number': case 'bigint': case 'boolean': return `${typeof v} ${String(v)}`;
    case 'object': return v.constructor && v.constructor !== Object ? v.constructor.name : 'object';
    default: return typeof v;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Rejects a non-object options argument and any key not in `allowed` (catches `ignore_index` typos). */
export function checkOptions(options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw new TypeError(`options: expected a plain object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`options.${key}: unknown option; expected one of ${allowed.join(', ')}`);
    }
  }
  return options;
}

export function checkInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new TypeError(`${name}: expected an integer, got ${describe(v)}`);
  }
  return v;
}

export function checkFloat32Array(name: string, v: unknown): Float32Array {
  if (!(v instanceof Float32Array)) {
    throw new TypeError(`${name}: expected a Float32Array, got ${describe(v)}`);
  }
  return v;
}

/** A shape: an array of non-negative integers. Returns the element count. */
export function checkShape(name: string, shape: unknown): number {
  if (!Array.isArray(shape)) throw new TypeError(`${name}: expected an array of non-negative integers, got ${describe(shape)}`);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new TypeError(`${name}[${i}]: expected a non-negative integer, got ${describe(d)}`);
    }
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
