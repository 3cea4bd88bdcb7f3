// A small, strict reader of NumPy .npy files (format versions 1.0, 2.0 and 3.0), for `xent doctor`:
// what np.save(path, tensor.detach().cpu().numpy()) writes. Browser-safe: it reads bytes, not files.
//
// Accepted: little-endian (or single-byte) float16, float32, float64 and (u)int8/16/32/64 arrays, in C or
// Fortran order (Fortran-order data is transposed into C order). Refused with an NpyError naming the
// problem: a wrong magic string, an unknown version, a malformed header, big-endian data, any other dtype
// (bool, complex, strings, objects, structured), and a data section shorter or longer than the shape needs.
import { Half, halfToFloat32 } from './half.ts';

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

export type NpyDtype =
  | 'float16' | 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

export type NpyData =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;

export interface NpyArray {
  /** The dtype stored in the file. float16 data is returned converted (exactly) to a Float32Array. */
  dtype: NpyDtype;
  /** The file's dtype string, e.g. '<f4'. */
  descr: string;
  shape: number[];
  /** Whether the file stored the data in Fortran order; `data` is in C (row-major) order either way. */
  fortranOrder: boolean;
  /** 'major.minor' of the format. */
  version: string;
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DTYPES: Record<string, { dtype: NpyDtype; size: number }> = {
  f2: { dtype: 'float16', size: 2 }, f4: { dtype: 'float32', size: 4 }, f8: { dtype: 'float64', size: 8 },
  i1: { dtype: 'int8', size: 1 }, u1: { dtype: 'uint8', size: 1 }, i2: { dtype: 'int16', size: 2 },
  u2: { dtype: 'uint16', size: 2 }, i4: { dtype: 'int32', size: 4 }, u4: { dtype: 'uint32', size: 4 },
  i8: { dtype: 'int64', size: 8 }, u8: { dtype: 'uint64', size: 8 },
};

const KIND_NAMES: Record<string, string> = {
  b: 'bool', c: 'complex', U: 'unicode string', S: 'byte string', a: 'byte string', O: 'Python object',
  M: 'datetime64', m: 'timedelta64', V: 'void/structured', f: 'float', i: 'int', u: 'uint',
};

// ---- the header: a Python dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } ----

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

class HeaderParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): PyValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail(`unexpected ${JSON.stringify(this.s.slice(this.i, this.i + 10))}`);
    return v;
  }

  private fail(why: string): never {
    throw new NpyError(`malformed header (${why}): ${JSON.stringify(this.s.trim().slice(0, 120))}`);
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i])) this.i++;
  }

  private value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string();
    const m = /^(True|False|None|-?\d+L?)/.exec(this.s.slice(this.i));
    if (!m) this.fail(`unexpected ${JSON.stringify(this.s.slice(this.i, this.i + 10))}`);
    this.i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace('L', ''));
  }

  private string(): string {
    const q = this.s[this.i++];
    const end = this.s.indexOf(q, this.i);
    if (end < 0) this.fail('unterminated string');
    const v = this.s.slice(this.i, end);
    if (v.includes('\\')) this.fail('escapes in strings are not supported');
    this.i = end + 1;
    return v;
  }

  private sequence(close: string): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) { this.i++; return out; }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private dict(): { [key: string]: PyValue } {
    this.i++;
    const out: { [key: string]: PyValue } = {};
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') { this.i++; return out; }
      const key = this.value();
      if (typeof key !== 'string') this.fail('a key that is not a string');
      this.ws();
      if (this.s[this.i++] !== ':') this.fail("expected ':'");
      out[key] = this.value();
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail("expected ',' or '}'");
    }
  }
}

function dtypeOf(descr: PyValue): { dtype: NpyDtype; size: number; descr: string } {
  if (typeof descr !== 'string') {
    throw new NpyError(`unsupported dtype: a structured array (descr ${JSON.stringify(descr)}); save a plain numeric array`);
  }
  const m = /^([<>|=])([a-zA-Z])(\d*)$/.exec(descr);
  if (!m) throw new NpyError(`unsupported dtype '${descr}'`);
  const [, order, kind, bytes] = m;
  const known = DTYPES[kind + bytes];
  if (!known) {
    const name = KIND_NAMES[kind] ? `${KIND_NAMES[kind]}${bytes && 'fiuc'.includes(kind) ? String(Number(bytes) * 8) : ''}` : 'unknown';
    throw new NpyError(`unsupported dtype '${descr}' (${name}): expected float16, float32 or float64 logits and integer or float targets`);
  }
  if (order === '>' && known.size > 1) {
    throw new NpyError(`big-endian data ('${descr}') is not supported: re-save it little-endian, e.g. np.save(path, a.astype('<${kind}${bytes}'))`);
  }
  return { ...known, descr };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function typed(dtype: NpyDtype, buf: ArrayBuffer): NpyData {
  switch (dtype) {
    case 'float16': return halfToFloat32(new Uint16Array(buf), Half.float16);
    case 'float32': return new Float32Array(buf);
    case 'float64': return new Float64Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'uint8': return new Uint8Array(buf);
    case 'int16': return new Int16Array(buf);
    case 'uint16': return new Uint16Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'uint32': return new Uint32Array(buf);
    case 'int64': return new BigInt64Array(buf);
    case 'uint64': return new BigUint64Array(buf);
  }
}

/** Fortran-order data (first index fastest) rearranged into C order (last index fastest). */
function fortranToC<T extends NpyData>(data: T, shape: readonly number[]): T {
  const out = new (data.constructor as { new (n: number): T })(data.length);
  const rank = shape.length;
  if (rank < 2 || data.length === 0) { out.set(data as never); return out; }
  const fstride: number[] = [];
  for (let d = 0, s = 1; d < rank; d++) { fstride.push(s); s *= shape[d]; }
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < data.length; i++) {
    (out as unknown as unknown[])[i] = (data as unknown as unknown[])[src];
    for (let d = rank - 1; d >= 0; d--) { // odometer over the C-order index, keeping the Fortran offset
      idx[d]++;
      src += fstride[d];
      if (idx[d] < shape[d]) break;
      src -= fstride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Parses the bytes of a .npy file. Throws an NpyError (one line, no path) for anything it refuses. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    const start = Array.from(bytes.subarray(0, 6), (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
    throw new NpyError(bytes.length === 0 ? 'not a .npy file (empty)' : `not a .npy file (it starts with "${start}", not "\\x93NUMPY")`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) throw new NpyError(`unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new NpyError('truncated .npy file (the header length is cut off)');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (bytes.length < start + headerLen) {
    throw new NpyError(`truncated .npy file (the header needs ${headerLen} bytes, ${bytes.length - start} are there)`);
  }
  const raw = bytes.subarray(start, start + headerLen);
  let text: string;
  if (major === 3) {
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(raw); } catch { throw new NpyError('malformed header (not UTF-8)'); }
  } else {
    if (raw.some((b) => b > 127)) throw new NpyError('malformed header (not ASCII)');
    text = String.fromCharCode(...raw);
  }
  const header = new HeaderParser(text).parse();
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new NpyError('malformed header (not a dict)');
  const keys = Object.keys(header).sort().join(',');
  if (keys !== 'descr,fortran_order,shape') {
    throw new NpyError(`malformed header (keys ${Object.keys(header).join(', ') || 'none'}; expected descr, fortran_order, shape)`);
  }
  const { dtype, size, descr } = dtypeOf(header.descr);
  const fortranOrder = header.fortran_order;
  if (typeof fortranOrder !== 'boolean') throw new NpyError('malformed header (fortran_order is not True or False)');
  const shapeValue = header.shape;
  if (!Array.isArray(shapeValue) || !shapeValue.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyError(`malformed header (shape ${JSON.stringify(shapeValue)} is not a tuple of non-negative integers)`);
  }
  const shape = shapeValue as number[];
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * size;
  if (!Number.isSafeInteger(need)) throw new NpyError(`shape (${shape.join(', ')}) is too large`);
  const have = bytes.length - start - headerLen;
  if (have < need) {
    throw new NpyError(`truncated .npy file: shape (${shape.join(', ')}) of ${dtype} needs ${need} bytes of data, the file has ${have}`);
  }
  if (have > need) throw new NpyError(`${have - need} unexpected bytes after the data of shape (${shape.join(', ')}) ${dtype}`);
  if (!LITTLE_ENDIAN_HOST) throw new NpyError('this reader needs a little-endian host');
  // an aligned copy we own (slice() of a Node.js buffer would be a view into a shared pool)
  const copy = new Uint8Array(need);
  copy.set(bytes.subarray(start + headerLen, start + headerLen + need));
  let data = typed(dtype, copy.buffer);
  if (fortranOrder) data = fortranToC(data, shape);
  return { dtype, descr, shape, fortranOrder, version: `${major}.${minor}`, data };
}
