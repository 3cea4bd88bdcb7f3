// The pool's shared-memory path: one call's rows split over the workers. The public function runs here, on
// the calling thread, so that its arguments are read and checked once (a bad one rejects before any worker
// sees it); each kernel call it makes is sent to the workers as row ranges of whole reduction blocks
// (backend/blocks.ts) of arrays in the memory the pool shares (a shared WebAssembly.Memory, which every
// worker's instance imports: arrays in it are read and written where they are, others are staged there),
// and the function is run again with the results in place of the kernel (a replay), as often as it makes
// calls. The blocks' totals are added in block order, as the synchronous call adds them: results are its
// bits for any number of workers. This thread alone allocates in the shared memory: the staging, and for
// each call an arena per worker (its scratch and chunks), freed when the call's ranges have settled.
import { addTotals, blockRows, sliceCall } from './backend/blocks.ts';
import type { Call, CallResult, Floats } from './backend/types.ts';
import { arenaBytes } from './backend/wasm/kernels.ts';
import { SHARED_MAX_PAGES, SHARED_MIN_PAGES, type WasmHeap } from './backend/wasm/heap.ts';
import { readArg } from './args.ts';
import { throughRunner } from './ops/run.ts';

/** What a worker runs: rows [r0, r1) of the call, whose per-row arrays are views of shared memory, in
 *  its arena there (bytes [at, at + bytes); on the wasm backend). */
export interface RowsRequest {
  call: Call;
  r0: number;
  r1: number;
  arena?: { at: number; bytes: number };
}

/** Sends a request to worker k; resolves with its blocks' totals (total, zTotal per block, in order). */
export type Send = (k: number, request: RowsRequest) => Promise<Float64Array>;

/** Whether shared memory can reach the workers here, and why (not). */
export function sharedMemory(): { memory: WebAssembly.Memory | null; reason: string } {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (isolated === false) return { memory: null, reason: 'the page is not cross-origin isolated (COOP/COEP headers), so memory cannot be shared with workers' };
  if (typeof SharedArrayBuffer !== 'function') return { memory: null, reason: 'SharedArrayBuffer is not available in this environment' };
  try {
    const memory = new WebAssembly.Memory({ initial: SHARED_MIN_PAGES, maximum: SHARED_MAX_PAGES, shared: true });
    return { memory, reason: 'a shared WebAssembly.Memory: each call\'s rows are split over the workers, arrays in pool.allocFloat32 memory are read and written where they are' };
  } catch (e) {
    return { memory: null, reason: `a shared WebAssembly.Memory cannot be made here (${e instanceof Error ? e.message : String(e)})` };
  }
}

/** A snapshot of an argument that later reads see unchanged: tensor-likes (getters, Proxies) read once
 *  into plain objects, nested in arrays and options too; typed arrays are kept as they are (not copied). */
export function snapshot(name: string, v: unknown): unknown {
  const read = readArg(name, v);
  if (ArrayBuffer.isView(read)) return ArrayBuffer.isView(v) ? v : read; // the caller's own array: an out is returned as itself
  if (typeof read !== 'object' || read === null) return read;
  if (Array.isArray(read)) return read.map((x, i) => snapshot(`${name}[${i}]`, x));
  return Object.fromEntries(Object.entries(read).map(([k, x]) => [k, snapshot(`${name}.${k}`, x)]));
}

const sameMemory = (a: Floats, b: Floats) => a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;

/** A kernel call's result from the workers: the totals, and each out array's shared view. */
interface Ran {
  total: number;
  zTotal: number;
  outs: Record<string, Floats>;
}

/** Raised through the public function to stop it at a call it has no result for yet. */
const NEED = Symbol('xent pool: a kernel call to run');

/** Runs `fn` up to its first kernel call: its arguments read and checked here, its errors thrown here
 *  (for the pool's 'copy' mode, which then sends the whole call to a worker). */
export function checkArguments(fn: (...a: unknown[]) => unknown, args: unknown[]): void {
  try {
    throughRunner(() => { throw NEED; }, () => fn(...args));
  } catch (e) {
    if (e !== NEED) throw e;
  }
}

/** Ranges a worker gets of a call whose arrays are copied into staging: several, so that the workers
 *  start after a fraction of the copying, when that copying is more than STAGED_SMALL bytes (a few
 *  targets cost less to copy than a range costs to send and finish: about 0.1 to 0.3 ms here). */
const RANGES_COPIED = 4;
const STAGED_SMALL = 1 << 20;

/** The typed arrays in a snapshot of arguments (in arrays and options too). */
function arraysIn(v: unknown, found: Floats[] = []): Floats[] {
  if (ArrayBuffer.isView(v)) found.push(v as Floats);
  else if (Array.isArray(v)) v.forEach((x) => arraysIn(x, found));
  else if (typeof v === 'object' && v !== null) Object.values(v).forEach((x) => arraysIn(x, found));
  return found;
}

/** Whether `a` is memory of one of `arrays` (the caller's, not an array the function made). */
const within = (a: Floats, arrays: Floats[]) =>
  arrays.some((b) => b.buffer === a.buffer && b.byteOffset <= a.byteOffset && a.byteOffset + a.byteLength <= b.byteOffset + b.byteLength);

export class Splitter {
  /** `scratchBytes`: of each worker's arena, for its kernels' scratch; null when the workers run the JS
   *  backend (no arena). */
  constructor(private readonly workers: number, private readonly send: Send, private readonly heap: WasmHeap, private readonly scratchBytes: number | null) {}

  /** Runs `fn` (a public function) with its kernel calls on the workers. */
  async run(fn: (...a: unknown[]) => unknown, args: unknown[]): Promise<unknown> {
    const done: Ran[] = [], held: number[] = [], callers = arraysIn(args);
    try {
      for (;;) {
        let next = 0, need: Call | null = null;
        let value: unknown;
        try {
          value = throughRunner((call) => {
            if (next < done.length) return replay(call, done[next++]);
            need = call;
            throw NEED;
          }, () => fn(...args));
        } catch (e) {
          if (e !== NEED) throw e;
        }
        if (need === null) return value;
        done.push(await this.dispatch(need, held, callers));
      }
    } finally {
      for (const at of held) this.heap.free(at);
    }
  }

  /** Sends a call's rows to the workers in ranges of whole blocks. An array that is not shared is
   *  copied into staging a range at a time, just before that range is sent (the copy overlaps the
   *  workers' work); an out array of the caller's own receives each range as it comes back. */
  private async dispatch(call: Call, held: number[], callers: Floats[]): Promise<Ran> {
    const { heap } = this;
    const arrays: Call['arrays'] = {}, outs: Record<string, Floats> = {};
    const copyIn: Copy[] = [], copyOut: Copy[] = [], staged: Array<{ from: Floats; to: Floats }> = [];
    for (const name in call.arrays) {
      const a = call.arrays[name];
      if (a === null || (a.role !== 'in' && a.role !== 'out')) {
        arrays[name] = a;
        continue;
      }
      let data = a.data;
      if (!heap.inMemory(data)) {
        let s = staged.find((e) => sameMemory(e.from, a.data)); // an out over an in: one staging
        if (!s) {
          const at = heap.alloc(data.byteLength);
          held.push(at);
          const Ctor = data.constructor as new (b: ArrayBufferLike, o: number, n: number) => Floats;
          staged.push((s = { from: data, to: new Ctor(heap.buffer, at, data.length) }));
        }
        const to = s.to;
        if (a.role === 'in' && !copyIn.some((c) => c.to === to)) copyIn.push({ from: data, to, per: a.per });
        if (a.role === 'out' && within(data, callers)) copyOut.push({ from: s.to, to: data, per: a.per });
        data = s.to;
      }
      arrays[name] = { ...a, data };
      // delivered early into the caller's array: the run again finds the rows in place
      if (a.role === 'out') outs[name] = copyOut.some((c) => c.to === a.data) ? a.data : data;
    }
    const shipped: Call = { ...call, arrays };
    const block = blockRows(call), blocks = Math.ceil(call.rows / block);
    const copied = copyIn.reduce((bytes, c) => bytes + c.from.byteLength, 0);
    const ranges = Math.min(blocks, this.workers * (copied > STAGED_SMALL ? RANGES_COPIED : 1)), answers: Array<Promise<Float64Array>> = [];
    // each worker's arena for this call (its ranges run one after another there)
    const arenaSize = this.scratchBytes === null ? 0 : this.scratchBytes + arenaBytes(shipped);
    const arenas = arenaSize ? Array.from({ length: Math.min(ranges, this.workers) }, () => heap.alloc(arenaSize)) : [];
    for (let j = 0; j < ranges; j++) {
      const r0 = Math.floor((j * blocks) / ranges) * block, r1 = Math.min(call.rows, Math.floor(((j + 1) * blocks) / ranges) * block);
      for (const c of copyIn) copyRows(c, r0, r1);
      const k = j % this.workers, arena = arenaSize ? { at: arenas[k], bytes: arenaSize } : undefined;
      const answer = this.send(k, { call: shipped, r0, r1, arena });
      answers.push(copyOut.length ? answer.then((t) => (copyOut.forEach((c) => copyRows(c, r0, r1)), t)) : answer);
    }
    // every range settled before a failure is passed on: no worker still writes the staging or an arena
    const settled = await Promise.allSettled(answers);
    for (const at of arenas) heap.free(at);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    // the blocks' totals in block order (the ranges are in order, and each lists its blocks in order)
    return { ...addTotals(settled.map((r) => (r as PromiseFulfilledResult<Float64Array>).value)), outs };
  }
}

/** Rows of an array copied from one place to another. */
interface Copy {
  from: Floats;
  to: Floats;
  per: number;
}

const copyRows = (c: Copy, r0: number, r1: number) => c.to.set(c.from.subarray(r0 * c.per, r1 * c.per) as never, r0 * c.per);

/** The result of a call the workers ran, for the public function's run again: its out arrays receive
 *  the rows (unless they are the shared memory the workers wrote). */
function replay(call: Call, ran: Ran): CallResult {
  const outs: Record<string, Float32Array> = {};
  for (const name in ran.outs) {
    const a = call.arrays[name];
    if (a?.role !== 'out') throw new Error(`xent pool: the replayed call has no out array ${name}`);
    if (!sameMemory(a.data, ran.outs[name])) (a.data as Float32Array).set(ran.outs[name] as Float32Array);
    outs[name] = a.data as Float32Array;
  }
  return { total: ran.total, zTotal: ran.zTotal, outs };
}

/** A worker's part: rows [r0, r1) of a call (r0 a block's start: the slice's blocks are the call's), in
 *  one run; the totals of each block in order (none when the call sums nothing). */
export function runRows(run: (call: Call) => CallResult, { call, r0, r1 }: RowsRequest): Float64Array {
  return run(sliceCall(call, r0, r1)).blocks ?? new Float64Array(0);
}
