// The WebAssembly backend: one chunked runner for every kernel. A call's per-row arrays are copied into
// the module's memory a chunk of rows at a time (cache-sized, and never more than the memory limit), the
// kernel runs once per chunk, its outputs are copied out; arrays that already live in the module's memory
// are used where they are. The kernel's parameter order and scratch needs come from abi.ts.
import { checkInteger } from '../../args.ts';
import type { Call, CallResult, Floats, Kernels } from '../types.ts';
import { blockRows } from '../blocks.ts';
import { BINDINGS, checkBindings, type Binding } from './abi.ts';
import { PAGE, WasmHeap } from './heap.ts';
import { exportsOf } from './module.ts';

let memoryLimit = 256 * 2 ** 20;
/** Bytes of input per kernel call: small enough that the chunk just copied in is still in L2 when the
 *  kernel reads it, so the copy costs little more than the read it replaces. */
const CHUNK_BYTES = 512 * 1024;

/** Caps the WASM memory xent grows to (bytes, default 256 MiB); larger jobs run in chunks of rows. A
 *  single row (C * d1 * ... * dK floats) larger than the cap still runs, in a memory just large enough. */
export function setWasmMemoryLimit(bytes: number): void {
  checkInteger('setWasmMemoryLimit: bytes', bytes);
  if (bytes < PAGE) throw new RangeError(`setWasmMemoryLimit: expected an integer number of bytes >= ${PAGE}, got ${bytes}`);
  memoryLimit = bytes;
}

// Byte offsets reach 4 GiB: plain arithmetic, never 32-bit integer operators
const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** A fixed or cycle array of a call: placed once (or, a cycle, a window a chunk), `floats` long. */
interface Fixed {
  slot: number;
  data: Float32Array | null;
  floats: number;
  fill: number;
}

/** A per-row array of a call, as one chunk after another sees it. */
interface Lane {
  name: string;
  /** Its parameter's position. */
  slot: number;
  data: Floats;
  out: boolean;
  /** Bytes per row. */
  width: number;
  /** The array's own address when it lives in module memory, else -1, and its length: both read before
   *  any growth detaches the view (a detached view says 0 for both). */
  at: number;
  length: number;
  /** The lane whose working copy this out array is written over, if any. */
  host: Lane | null;
  /** Its region in the chunk (a byte offset), when it has one. */
  offset: number;
}

/** Copies elements [from, from + count) of `a` to element `to` of the module memory's view of its kind
 *  (one call site per kind: each stays monomorphic); a few elements by a loop, cheaper than a subarray. */
function copyIn(heap: WasmHeap, a: Floats, from: number, count: number, to: number): void {
  if (a instanceof Float32Array) {
    if (count > 16) heap.f32.set(a.subarray(from, from + count), to);
    else for (let k = 0; k < count; k++) heap.f32[to + k] = a[from + k];
  } else if (a instanceof Int32Array) {
    if (count > 16) heap.i32.set(a.subarray(from, from + count), to);
    else for (let k = 0; k < count; k++) heap.i32[to + k] = a[from + k];
  } else heap.u16.set(a.subarray(from, from + count), to);
}

/** f32[to + k] = src[(start + k) % src.length] for k < count. */
function setCycle(f32: Float32Array, to: number, src: Float32Array, start: number, count: number): void {
  for (let k = 0; k < count;) {
    const s = (start + k) % src.length, c = Math.min(count - k, src.length - s);
    f32.set(src.subarray(s, s + c), to + k);
    k += c;
  }
}

/** The bytes of arena run() takes for `call` when each of its per-row arrays lives in module memory (a
 *  pool worker's, over shared memory): the fixed part and one chunk, as run() lays them out, bounded. */
export function arenaBytes(call: Call): number {
  const b = BINDINGS[call.kernel], scratch = b.scratch?.(call);
  let bytes = 16 + align16(8 * (b.totals ?? 0)), perRow = 0, regions = 4;
  for (const name in call.arrays) {
    const a = call.arrays[name];
    if (a?.role === 'fixed') bytes += align16((a.length + 3) * 4);
    if (a?.role === 'cycle') {
      bytes += align16((a.period + 3) * 4) + 16; // placed once, or a window of a chunk's rows + 3
      perRow += 4;
      regions++;
    }
  }
  for (const name in scratch?.fixed) bytes += align16(scratch.fixed[name]);
  for (const name in scratch?.perRow) {
    perRow += scratch.perRow[name];
    regions++;
  }
  // a chunk is at most CHUNK_BYTES of rows, or one row group of the binding's alignment when that is more
  return bytes + Math.max(CHUNK_BYTES, (b.align ?? 1) * perRow) + 16 * regions + 16;
}

/** @internal The wasm backend; not part of the published types (they must not need WebAssembly's). */
export class WasmKernels implements Kernels {
  readonly name = 'wasm' as const;
  private readonly ex: ReturnType<typeof exportsOf>;
  /** The module's memory: allocFloat32's blocks (memory.ts) and the per-call arena. */
  readonly heap: WasmHeap;

  constructor(instance: WebAssembly.Instance) {
    this.ex = exportsOf(instance);
    checkBindings(this.ex);
    this.heap = new WasmHeap(this.ex.memory, this.ex.heap_base());
  }

  /** Current size of the module's memory in bytes (it never shrinks: wasm memory cannot). */
  get memoryBytes(): number {
    return this.heap.memoryBytes;
  }

  run(call: Call): CallResult {
    const { heap } = this;
    const b = BINDINGS[call.kernel];
    // the kernel's arguments, by position (abi.ts); absent arrays and scratch are 0
    const { slot, args } = slotsOf(b);
    args.fill(0);
    const { scalars } = call, params = b.params;
    for (let i = 0; i < params.length; i++) {
      const v = scalars[params[i]];
      if (v !== undefined) args[i] = v;
    }
    const derived = b.derived?.(call);
    for (const name in derived) args[slot.get(name)!] = derived[name];
    const scratch = b.scratch?.(call);

    // the call's fixed part (fixed arrays, whole-call scratch, the totals) from the arena's start; the
    // per-row arrays: in module memory already, or a region per chunk (an out over its host's)
    const base = heap.base, lanes: Lane[] = [], fixed: Fixed[] = [], cycles: Fixed[] = [];
    let p = align16(base), period = 0;
    for (const name in call.arrays) {
      const a = call.arrays[name];
      if (a === null) continue;
      if (a.role === 'fixed' || a.role === 'cycle') {
        const floats = (a.role === 'fixed' ? a.length : (period = a.period)) + 3; // + 3: read as whole vectors
        (a.role === 'fixed' ? fixed : cycles).push({ slot: slot.get(name)!, data: a.data, floats, fill: a.role === 'fixed' ? a.fill ?? 0 : 0 });
        if (a.role === 'fixed') {
          args[slot.get(name)!] = p;
          p = align16(p + floats * 4);
        }
      } else {
        const at = heap.inMemory(a.data) ? a.data.byteOffset : -1; // before any growth detaches the view
        const width = a.per * a.data.BYTES_PER_ELEMENT;
        lanes.push({ name, slot: slot.get(name)!, data: a.data, out: a.role === 'out', width, at, length: a.data.length, host: null, offset: 0 });
      }
    }
    if (call.rows === 0) return { total: 0, zTotal: 0, outs: outsOf(lanes, heap) };
    const over = call.over;
    for (const l of lanes) {
      if (!l.out || l.at >= 0) continue;
      for (const h of lanes) {
        if (!h.out && (h.data === l.data || (over?.[0] === l.name && over[1] === h.name)) && h.at < 0 && h.width === l.width) l.host = h;
      }
    }
    for (const name in scratch?.fixed) {
      const bytes = scratch.fixed[name];
      if (!bytes) continue;
      args[slot.get(name)!] = p;
      p = align16(p + bytes);
    }
    const totals = b.totals ? p : 0;
    if (b.totals) {
      args[slot.get('totals')!] = totals;
      p = align16(p + 8 * b.totals);
    }
    let perRow = 4 * cycles.length; // a cycle's window, if it is not placed once
    for (const l of lanes) if (l.at < 0 && !l.host) perRow += l.width;
    const rowScratch = scratch?.perRow;
    for (const name in rowScratch) perRow += rowScratch[name];
    // the limit caps the per-call arena, which starts after the caller's allocFloat32 blocks (16 bytes a
    // region: their alignment)
    const budget = Math.min((heap.arena?.bytes ?? memoryLimit) - (p - base), CHUNK_BYTES) - 16 * (lanes.length + cycles.length + 2);
    const align = b.align ?? 1;
    const rows = Math.min(call.rows, Math.max(align, Math.floor(budget / Math.max(perRow, 1) / align) * align));
    // cycles no longer than a chunk are placed once, as fixed arrays; longer ones, a chunk's window at a time
    const once = period <= rows;
    if (once) {
      for (const c of cycles) {
        args[c.slot] = p;
        p = align16(p + c.floats * 4);
        fixed.push(c);
      }
    }
    const chunkStart = p;
    const rowsAt = slot.get('rows')!, totalAt = slot.get('total'), zTotalAt = slot.get('zTotal'), cycleAt = slot.get('cycle0');
    const kernel = this.ex[b.export] as (...args: number[]) => void;

    // totals add up by reduction blocks (blocks.ts): a chunk never crosses a block's end
    const block = b.totals ? blockRows(call) : Infinity;
    const blocks = b.totals ? new Float64Array(2 * Math.ceil(call.rows / block)) : undefined;
    let total = 0, zTotal = 0, blockTotal = 0, blockZ = 0;
    for (let row0 = 0, r = 0; row0 < call.rows; row0 += r) {
      r = Math.min(rows, call.rows - row0, block - (row0 % block));
      p = chunkStart;
      for (const l of lanes) {
        if (l.at >= 0 || l.host) continue;
        l.offset = p;
        p = align16(p + r * l.width);
      }
      for (const name in rowScratch) {
        if (!rowScratch[name]) continue;
        args[slot.get(name)!] = p;
        p = align16(p + r * rowScratch[name]);
      }
      if (!once) {
        for (const c of cycles) {
          args[c.slot] = p;
          p = align16(p + (r + 3) * 4);
        }
      }
      heap.reserve(p);
      const { f32 } = heap;
      if (row0 === 0) { // fixed arrays stay where they are for every chunk (growth keeps memory's contents)
        for (const f of fixed) {
          if (f.data) setCycle(f32, args[f.slot] / 4, f.data, 0, f.floats);
          else f32.fill(f.fill, args[f.slot] / 4, args[f.slot] / 4 + f.floats);
        }
      }
      if (!once) for (const c of cycles) setCycle(f32, args[c.slot] / 4, c.data!, row0 % period, r + 3);
      if (cycleAt !== undefined) args[cycleAt] = once ? row0 % period : 0;
      for (const l of lanes) {
        const el = l.data.BYTES_PER_ELEMENT, from = (row0 * l.width) / el;
        if (l.at >= 0) args[l.slot] = l.at + row0 * l.width;
        else if (l.host) args[l.slot] = l.host.offset;
        else {
          args[l.slot] = l.offset;
          if (!l.out) copyIn(heap, l.data, from, (r * l.width) / el, l.offset / el);
        }
      }
      args[rowsAt] = r;
      // the block's running totals go into each call, which adds its rows in order: the sums do not
      // depend on the chunks
      if (row0 % block === 0) blockTotal = blockZ = 0;
      if (totalAt !== undefined) args[totalAt] = blockTotal;
      if (zTotalAt !== undefined) args[zTotalAt] = blockZ;
      kernel(...args);
      if (totals) {
        blockTotal = heap.f64[totals / 8];
        if (b.totals === 2) blockZ = heap.f64[totals / 8 + 1];
        if ((row0 + r) % block === 0 || row0 + r === call.rows) {
          const i = 2 * Math.floor(row0 / block);
          blocks![i] = blockTotal;
          blocks![i + 1] = blockZ;
          total += blockTotal;
          zTotal += blockZ;
        }
      }
      for (const l of lanes) {
        if (!l.out || l.at >= 0) continue;
        const src = args[l.slot] / 4; // outs are Float32Arrays
        (l.data as Float32Array).set(heap.f32.subarray(src, src + (r * l.width) / 4), (row0 * l.width) / 4);
      }
    }
    return { total, zTotal, outs: outsOf(lanes, heap), blocks };
  }
}

/** The out arrays of a call, each the call's own or, in WASM memory that grew, a fresh view of it. */
function outsOf(lanes: Lane[], heap: WasmHeap): Record<string, Float32Array> {
  const outs: Record<string, Float32Array> = {};
  for (const l of lanes) if (l.out) outs[l.name] = l.at >= 0 ? heap.live(l.data as Float32Array, l.at, l.length) : (l.data as Float32Array);
  return outs;
}

const SLOTS = new Map<Binding, { slot: Map<string, number>; args: number[] }>();

/** Each parameter's position in a binding's export, and an argument list to fill (calls are not
 *  reentrant: the kernels run synchronously). */
function slotsOf(b: Binding): { slot: Map<string, number>; args: number[] } {
  let m = SLOTS.get(b);
  if (!m) SLOTS.set(b, (m = { slot: new Map(b.params.map((name, i) => [name, i])), args: new Array(b.params.length).fill(0) }));
  return m;
}
