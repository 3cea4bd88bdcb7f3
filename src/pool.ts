// createPool: xent's compute functions on worker threads (Node's worker_threads, browsers' module Workers),
// as Promises, so that a call never blocks the calling thread, on the same kernels and build as the calling
// thread: results are the synchronous API's, bit for bit, for any number of workers. Where memory can be
// shared (always in Node; in cross-origin isolated pages) one call's rows are split over every worker
// (pool-split.ts), in a shared WebAssembly.Memory that each worker's instance imports. Elsewhere each call
// runs whole on one worker: its arguments are read once here (tensor-likes' getters included) and copied
// to the worker, its results move back (their buffers transferred), and a caller's `out` receives them. Calls complete in the order they were made.
import { checkInteger, readArg } from './args.ts';
import { getBackendInfo } from './backend/select.ts';
import { WasmHeap } from './backend/wasm/heap.ts';
import { BufferCache } from './pool-buffers.ts';
import { checkArguments, sharedMemory, snapshot, Splitter, type RowsRequest } from './pool-split.ts';
import * as compute from './compute.ts';

/** The functions a pool runs: every public function of xent that computes (compute.ts). */
type PoolFunction = keyof typeof compute;
const POOL_FUNCTIONS = Object.keys(compute) as PoolFunction[];
const functions = compute as unknown as Record<PoolFunction, (...a: unknown[]) => unknown>;

type Async<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never;

export interface PoolOptions {
  /** Worker threads (default: the cores available, at most 8). */
  workers?: number;
  /** Calls whose first two arguments hold fewer values than this run on the calling thread, in their
   *  turn (default SYNC_BELOW; 0: every call goes to the workers, so none blocks the calling thread). */
  syncBelow?: number;
}

export type Pool = { [K in PoolFunction]: Async<(typeof compute)[K]> } & {
  /** How many workers. */
  readonly workers: number;
  /** Calls whose first two arguments hold fewer values run on the calling thread (options.syncBelow). */
  readonly syncBelow: number;
  /** How calls reach the workers, and why: 'shared' (a call's rows split over the workers, through
   *  shared memory), or 'copy' (each call whole on one worker, its arguments copied to it, its results
   *  back). */
  readonly info: { mode: 'shared' | 'copy'; reason: string };
  /** `n` floats (zeros) that the workers read and write where they are, with no copy: in the memory the
   *  workers share in 'shared' mode (its buffer a SharedArrayBuffer), an ordinary array in 'copy' mode.
   *  `data` throws after free(); free() gives the floats back to the pool. */
  allocFloat32(n: number): { readonly length: number; readonly data: Float32Array; free(): void };
  /** Bytes of the memory the workers share (0 in 'copy' mode): it grows to hold allocFloat32's arrays and
   *  each call's staging and arenas, whose space later calls reuse; it never shrinks. */
  readonly memoryBytes: number;
  /** Ends the workers; calls made after it reject. */
  close(): Promise<void>;
};

interface Port {
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(fn: (message: any) => void): void;
  /** Whether the worker keeps a Node process alive: only while it has calls to answer. */
  hold(busy: boolean): void;
  terminate(): Promise<unknown> | void;
}

async function spawn(): Promise<Port> {
  const url = new URL('./pool-worker.js', import.meta.url);
  const g = globalThis as { Worker?: typeof Worker; process?: { versions?: { node?: string } } };
  if (g.process?.versions?.node === undefined && typeof g.Worker === 'function') {
    const w = new g.Worker(url, { type: 'module' });
    return { post: (m, transfer) => w.postMessage(m, transfer ?? []), onMessage: (fn) => w.addEventListener('message', (e) => fn(e.data)), hold() {}, terminate: () => w.terminate() };
  }
  const specifier = 'node:worker_threads'; // a variable: bundlers and the browser never resolve it
  const { Worker: NodeWorker } = (await import(specifier)) as typeof import('node:worker_threads');
  const w = new NodeWorker(url);
  return {
    post: (m, transfer) => w.postMessage(m, transfer), onMessage: (fn) => w.on('message', fn), terminate: () => w.terminate(),
    hold: (busy) => (busy ? w.ref() : w.unref()), // an idle pool does not keep the process alive
  };
}

/** The cores the environment offers. */
async function cores(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (typeof nav?.hardwareConcurrency === 'number') return nav.hardwareConcurrency;
  const specifier = 'node:os';
  const os = (await import(specifier)) as typeof import('node:os');
  return os.availableParallelism?.() ?? os.cpus().length;
}

/** A copy of an argument that can be posted: tensor-likes read once into plain { data, shape, dtype },
 *  nested in arrays and options too (onnxruntime's and transformers.js' tensors are not cloneable); typed
 *  arrays copied once into buffers of their own (kept ones when they come back), which move to the worker
 *  (`transfer`) rather than being serialised and copied again. */
function cloneable(name: string, v: unknown, transfer: ArrayBuffer[], buffers: BufferCache): unknown {
  const read = readArg(name, v);
  if (typeof read !== 'object' || read === null) return read;
  if (ArrayBuffer.isView(read)) {
    if (read instanceof DataView) return read;
    const Ctor = read.constructor as new (b: ArrayBuffer) => ArrayBufferView & { set(a: ArrayLike<unknown>): void };
    const copy = new Ctor(buffers.take(read.byteLength));
    copy.set(read as unknown as ArrayLike<unknown>);
    transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  }
  if (Array.isArray(read)) return read.map((x, i) => cloneable(`${name}[${i}]`, x, transfer, buffers));
  return Object.fromEntries(Object.entries(read).map(([k, x]) => [k, cloneable(`${name}.${k}`, x, transfer, buffers)]));
}

const ERRORS: Record<string, ErrorConstructor> = { TypeError, RangeError };

/** The default syncBelow: below about 4M values a call is faster on the calling thread than split over
 *  two workers (bench/pool.mjs, Node 24 on 2 cores: a round trip costs about 0.6 ms, and 2048 x 1000
 *  crossEntropy takes 3.5 ms here, 4.6 ms through the pool; 16 x 262144 breaks even). */
export const SYNC_BELOW = 1 << 22;

/** The number of values of an argument (a tensor-like's data, or a typed array); Infinity for anything
 *  else (a wrong kind of argument goes to a worker, whose error comes back). */
function floatsOf(v: unknown): number {
  const data = ArrayBuffer.isView(v) ? v : (v as { data?: unknown } | null)?.data;
  return ArrayBuffer.isView(data) ? (data as unknown as ArrayLike<unknown>).length : Infinity;
}

/** The synchronous function, on this thread. */
async function sync(fn: PoolFunction, args: unknown[]): Promise<unknown> {
  return functions[fn](...args);
}

/**
 * A pool of workers that run xent's compute functions asynchronously: `await pool.crossEntropy(...)`
 * takes the same arguments as `crossEntropy` and resolves with the same result, bit for bit (the workers
 * use the calling thread's backend and build). Errors reject with the same class and message.
 * @throws {TypeError | RangeError} for a non-integer or non-positive `workers`
 */
export async function createPool(options: PoolOptions = {}): Promise<Pool> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`createPool: expected options to be an object, got ${String(options)}`);
  const n = options.workers ?? Math.min(8, Math.max(1, await cores()));
  checkInteger('createPool: options.workers', n);
  if (n < 1) throw new RangeError(`createPool: options.workers: expected an integer >= 1, got ${n}`);
  const syncBelow = options.syncBelow === undefined ? SYNC_BELOW : checkInteger('createPool: options.syncBelow', options.syncBelow);
  if (syncBelow < 0) throw new RangeError(`createPool: options.syncBelow: expected an integer >= 0, got ${syncBelow}`);
  const backend = getBackendInfo();
  const shared = sharedMemory();
  const init = { backend: backend.choice, relaxed: backend.build === undefined ? undefined : backend.build === 'relaxed-simd', memory: shared.memory ?? undefined };
  const ports = await Promise.all(Array.from({ length: n }, spawn));
  /** Answers awaited, by request id: each with its worker, to count what it has to do. */
  const pending = new Map<number, { answer(m: any): void; fail(e: unknown): void; port: number }>();
  const busy = new Array<number>(n).fill(0);
  const inputs = new BufferCache(8); // argument copies, back from the workers ('copy' mode)
  let nextId = 0, closed = false, last: Promise<unknown> = Promise.resolve();
  // what the workers' instances of the threads build report: where the static data ends, and the scratch
  // an arena holds (null: no instance, the JS backend, and no arenas)
  let heapBase = 16, scratchBytes: number | null = null;
  await Promise.all(ports.map((port) => new Promise<void>((ready) => {
    port.onMessage((m) => {
      if (m.ready) {
        port.hold(false);
        heapBase = m.heapBase;
        scratchBytes = m.scratchBytes;
        return ready();
      }
      const job = pending.get(m.id)!;
      pending.delete(m.id);
      for (const b of m.inputs ?? []) inputs.give(b); // 'copy' mode's argument copies, for the next call
      if (--busy[job.port] === 0) port.hold(false);
      if (m.error) return job.fail(new (ERRORS[m.error.name] ?? Error)(m.error.message));
      job.answer(m);
    });
    port.post({ init });
  })));

  /** Posts a request to worker k; resolves with its answer. */
  function send(k: number, message: object, transfer?: ArrayBuffer[]): Promise<any> {
    if (busy[k]++ === 0) ports[k].hold(true);
    const id = nextId++;
    const answer = new Promise((answer, fail) => pending.set(id, { answer, fail, port: k }));
    ports[k].post({ id, ...message }, transfer);
    return answer;
  }

  const heap = shared.memory ? new WasmHeap(shared.memory, heapBase) : null;
  const splitter = heap && new Splitter(n, (k, rows: RowsRequest) => send(k, { rows }).then((m) => m.totals as Float64Array), heap, scratchBytes);

  /** 'copy' mode: the whole call on the least busy worker, its arguments copied there (the options' out
   *  stays here: the worker writes a kept buffer of its own, which moves back and is copied into it). */
  async function whole(fn: PoolFunction, args: unknown[]): Promise<unknown> {
    const options = args.length > 1 ? args[args.length - 1] : undefined;
    let out: Float32Array | null = null, sent = args;
    if (typeof options === 'object' && options !== null && !Array.isArray(options) && !ArrayBuffer.isView(options) && !('data' in options)) {
      const { out: o, ...rest } = options as { out?: unknown };
      if (o instanceof Float32Array) {
        out = o;
        sent = [...args.slice(0, -1), rest];
      }
    }
    const transfer: ArrayBuffer[] = [];
    const posted = sent.map((a, i) => cloneable(`argument ${i}`, a, transfer, inputs));
    const k = busy.indexOf(Math.min(...busy));
    const m = await send(k, { fn, args: posted, outLength: out?.length }, transfer);
    let result = m.result;
    // the caller's out (not sent: the worker wrote its own) receives the result, and is what comes back
    const written: Float32Array | null = !out ? null : result instanceof Float32Array ? result : result?.grad instanceof Float32Array ? result.grad : null;
    if (out && written) {
      out.set(written);
      result = result === written ? out : { ...result, grad: out };
      ports[k].post({ recycle: written.buffer }, [written.buffer as ArrayBuffer]); // the worker's next out
    }
    return result;
  }

  function call(fn: PoolFunction, args: unknown[]): Promise<unknown> {
    if (closed) return Promise.reject(new Error(`xent pool: ${fn} was called after close()`));
    let done: Promise<unknown>;
    if (Math.max(floatsOf(args[0]), floatsOf(args[1])) < syncBelow) { // a round trip would cost more than the call
      done = last.then(() => sync(fn, args), () => sync(fn, args));
    } else {
      // started now: the arguments are read and checked (and, shared, the first kernel call sent) before
      // this returns; a bad argument rejects with this thread's own error
      try {
        const read = args.map((a, i) => snapshot(`argument ${i}`, a));
        if (splitter) done = splitter.run(functions[fn], read);
        else {
          checkArguments(functions[fn], read);
          done = whole(fn, read);
        }
      } catch (e) {
        done = Promise.reject(e);
      }
    }
    // results resolve in the order the calls were made
    const ordered = last.then(() => done, () => done);
    last = ordered.catch(() => undefined);
    return ordered;
  }

  const pool = {
    workers: n,
    syncBelow,
    info: heap ? { mode: 'shared' as const, reason: shared.reason } : { mode: 'copy' as const, reason: `${shared.reason}: each call runs whole on one worker, its arguments copied to it and its results back` },
    allocFloat32(length: number) {
      checkInteger('pool.allocFloat32: length', length);
      if (length < 0) throw new RangeError(`pool.allocFloat32: expected a number of floats >= 0, got ${length}`);
      const at = heap ? heap.alloc(length * 4) : 0;
      let data: Float32Array | null = heap ? new Float32Array(heap.buffer, at, length).fill(0) : new Float32Array(length);
      return {
        length,
        get data(): Float32Array {
          if (data === null) throw new TypeError('pool.allocFloat32: this array was freed');
          return data;
        },
        free() {
          if (data !== null && heap) heap.free(at);
          data = null;
        },
      };
    },
    get memoryBytes() {
      return heap?.memoryBytes ?? 0;
    },
    async close() {
      closed = true;
      await Promise.all(ports.map((p) => p.terminate()));
      for (const job of pending.values()) job.fail(new Error('xent pool: closed while the call was running'));
      pending.clear();
    },
  } as Record<string, unknown>;
  for (const fn of POOL_FUNCTIONS) pool[fn] = (...args: unknown[]) => call(fn, args);
  return pool as unknown as Pool;
}
