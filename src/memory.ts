// Zero-copy inputs and outputs: Float32Arrays that live in xent's WASM memory. The wasm backend sees
// that an array is a view of its own memory and hands the kernels its address instead of copying it in
// (inputs) or out (gradients, outputs).
import { checkInteger, setViewGuard } from './args.ts';
import { wasmKernels } from './backend/select.ts';
import type { WasmHeap } from './backend/wasm/heap.ts';

/** The views handed out by blocks since freed: a call given one is refused instead of computing on
 *  memory that may belong to a newer block. (Subarrays of them are caught only by the bounds check.) */
const freedViews = new WeakSet<object>();

/** Refuses, at the boundary of every call, a freed allocFloat32 view and a view of xent's WASM memory
 *  outside every live block (the kernels would read past it). Installed by the first allocFloat32. */
function guard(wasm: WasmHeap | null) {
  return (name: string, original: object, view: ArrayBufferView): void => {
    if (freedViews.has(original)) throw new TypeError(`${name}: this allocFloat32 array was freed`);
    if (wasm && view.buffer === wasm.buffer && !wasm.inBlock(view.byteOffset, view.byteLength) && view.byteLength > 0) {
      throw new RangeError(
        `${name}: a view of xent's WASM memory (bytes ${view.byteOffset}..${view.byteOffset + view.byteLength}) ` +
        'outside every live allocFloat32 array: use allocFloat32(n).data (or a subarray of it)',
      );
    }
  };
}

/** A Float32Array allocated in xent's WASM memory. */
export interface WasmFloat32Array {
  /** Number of floats. */
  readonly length: number;
  /**
   * A view of the floats. WASM memory can grow during any xent call or allocation, which detaches
   * older views (they then have length 0): read `data` again after such a call instead of keeping a view.
   * Throws after free().
   */
  readonly data: Float32Array;
  /** Returns the memory to xent. Idempotent. */
  free(): void;
}

/** Bytes held in xent's WASM memory by allocFloat32 arrays not yet freed. */
let liveBytes = 0;

/** @internal Bytes of xent's WASM memory held by allocFloat32 arrays not yet freed (for leak tests:
 *  WASM memory never shrinks, so its size alone cannot show a block being returned). */
export function allocatedFloat32Bytes(): number {
  return liveBytes;
}

/**
 * Allocates `length` floats (zero-filled) in xent's WASM memory, for callers that fill logits themselves
 * or want the gradient written in place: pass `{ data: a.data, shape }` as input and `out: g.data` to
 * crossEntropyWithGrad. Where the wasm backend is unavailable it returns ordinary memory, so code that
 * uses it runs unchanged on the JS backend.
 * @throws {TypeError} length is not an integer; {RangeError} length < 0 or the memory cannot grow
 */
export function allocFloat32(length: number): WasmFloat32Array {
  checkInteger('allocFloat32: length', length);
  if (length < 0) throw new RangeError(`allocFloat32: length must be >= 0, got ${length}`);
  if (length > 2 ** 30) throw new RangeError(`allocFloat32: length ${length} is more than wasm32's 4 GiB hold (2^30 floats)`);
  const wasm = wasmKernels()?.heap ?? null;
  setViewGuard(guard(wasm));
  let freed = false;
  const gone = () => new TypeError('allocFloat32: this array was freed');
  if (!wasm) {
    const data = new Float32Array(length);
    return {
      length,
      get data() { if (freed) throw gone(); return data; },
      free() { freed = true; freedViews.add(data); },
    };
  }
  let ptr: number;
  try {
    ptr = wasm.alloc(length * 4);
  } catch (e) {
    throw new RangeError(`allocFloat32: cannot grow WASM memory for ${length} floats (${e instanceof Error ? e.message : e})`);
  }
  liveBytes += length * 4;
  new Float32Array(wasm.buffer, ptr, length).fill(0); // freed blocks are reused
  let view = new Float32Array(wasm.buffer, ptr, length);
  return {
    length,
    get data() {
      if (freed) throw gone();
      if (view.buffer !== wasm.buffer) view = new Float32Array(wasm.buffer, ptr, length);
      return view;
    },
    free() {
      if (!freed) {
        wasm.free(ptr);
        liveBytes -= length * 4;
      }
      freed = true;
      freedViews.add(view);
    },
  };
}
