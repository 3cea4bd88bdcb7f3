// A worker of createPool's pool (src/pool.ts): runs rows of a kernel call in the memory the pool shares
// (pool-split.ts), on its instance of the threads build (backend/wasm/threads.ts), or, where memory cannot
// be shared, xent's public functions by name, their results posted back with their fresh arrays
// transferred (not copied). Node (worker_threads) and browsers (module Workers) alike.
import * as xent from './index.ts';

import { kernels } from './backend/select.ts';
import type { Call, Floats } from './backend/types.ts';
import { ThreadKernels } from './backend/wasm/threads.ts';
import { BufferCache, ownedBuffers } from './pool-buffers.ts';
import { runRows, type RowsRequest } from './pool-split.ts';

interface Request {
  id: number;
  fn: string;
  args: unknown[];
  /** The caller passed options.out of this length: the result goes into a kept buffer, moved back. */
  outLength?: number;
}

type Post = (message: unknown, transfer?: ArrayBuffer[]) => void;

/** Output buffers the pool sent back after copying them into its callers' arrays. */
const outputs = new BufferCache(4);

/** An error as it can be posted: its class's name (the pool rebuilds TypeError and RangeError) and message. */
function errorOf(e: unknown): { name: string; message: string } {
  const err = e as Error;
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
}

type Message = { init?: { backend: xent.BackendChoice; relaxed?: boolean; memory?: WebAssembly.Memory }; recycle?: ArrayBuffer; rows?: RowsRequest } & Partial<Request>;

/** The memory the pool shares ('shared' mode), and this worker's instance on it (the wasm backend). */
let memory: WebAssembly.Memory | null = null;
let threads: ThreadKernels | null = null;

/** The call with its per-row arrays as views of this thread's memory (they arrive as views of another
 *  SharedArrayBuffer object over it). */
function rebased(call: Call): Call {
  const arrays: Call['arrays'] = {};
  for (const name in call.arrays) {
    const a = call.arrays[name];
    if (a === null || (a.role !== 'in' && a.role !== 'out')) arrays[name] = a;
    else {
      const { data } = a, Ctor = data.constructor as new (b: ArrayBufferLike, o: number, n: number) => Floats;
      arrays[name] = { ...a, data: new Ctor(memory!.buffer, data.byteOffset, data.length) };
    }
  }
  return { ...call, arrays };
}

/** A request's rows, on this worker's instance in its arena, or on the JS backend. */
function runShared(request: RowsRequest): Float64Array {
  const rows = { ...request, call: rebased(request.call) };
  if (!threads) return runRows((call) => kernels().run(call), rows);
  threads.useArena(request.arena!.at, request.arena!.bytes);
  return runRows((call) => threads!.kernels.run(call), rows);
}

function handle(message: Message, post: Post): void {
  if (message.init) {
    xent.setBackend(message.init.backend, message.init.relaxed === undefined ? undefined : { relaxed: message.init.relaxed });
    const info = xent.getBackendInfo();
    memory = message.init.memory ?? null;
    // the threads build, as the build this thread's backend runs: the same bits
    if (memory && info.name === 'wasm') threads = new ThreadKernels(memory, info.build!);
    post({ ready: info, scratchBytes: threads?.scratchBytes ?? null, heapBase: threads?.heapBase ?? 16 });
    return;
  }
  if (message.recycle) return outputs.give(message.recycle);
  if (message.rows) { // a call's rows over shared memory (pool-split.ts): only the blocks' totals go back
    try {
      post({ id: message.id, totals: runShared(message.rows) });
    } catch (e) {
      post({ id: message.id, error: errorOf(e) });
    }
    return;
  }
  const { id, fn, args, outLength } = message as Request;
  // the argument copies the pool moved here go back with the answer, for its next call
  const inputs = args.flatMap(ownedBuffers);
  try {
    if (outLength !== undefined) (args[args.length - 1] as { out?: Float32Array }).out = new Float32Array(outputs.take(outLength * 4));
    const f = (xent as unknown as Record<string, (...a: unknown[]) => unknown>)[fn];
    const result = f(...args);
    const moved = ownedBuffers(result).filter((b) => !inputs.includes(b));
    post({ id, result, inputs }, [...moved, ...inputs]);
  } catch (e) {
    post({ id, inputs, error: errorOf(e) }, inputs);
  }
}

const scope = globalThis as unknown as { WorkerGlobalScope?: unknown; postMessage?: Post; onmessage?: unknown };
if (scope.WorkerGlobalScope !== undefined) {
  scope.onmessage = (e: MessageEvent) => handle(e.data, (m, transfer) => (scope.postMessage as (m: unknown, t?: ArrayBuffer[]) => void)(m, transfer));
} else {
  const specifier = 'node:worker_threads'; // a variable: bundlers and the browser never resolve it
  const { parentPort } = (await import(specifier)) as typeof import('node:worker_threads');
  parentPort!.on('message', (m) => handle(m, (r, transfer) => parentPort!.postMessage(r, transfer)));
}
