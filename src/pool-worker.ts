// A worker of createPool's pool (src/pool.ts), on its own module instance: runs rows of a kernel call over
// shared memory (pool-split.ts), or, where memory cannot be shared, xent's public functions by name, their
// results posted back with their fresh arrays transferred (not copied). Node (worker_threads) and browsers
// (module Workers) alike.
import * as xent from './index.ts';

import { kernels } from './backend/select.ts';
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

type Message = { init?: { backend: xent.BackendChoice; relaxed?: boolean }; recycle?: ArrayBuffer; rows?: RowsRequest } & Partial<Request>;

function handle(message: Message, post: Post): void {
  if (message.init) {
    xent.setBackend(message.init.backend, message.init.relaxed === undefined ? undefined : { relaxed: message.init.relaxed });
    post({ ready: xent.getBackendInfo() });
    return;
  }
  if (message.recycle) return outputs.give(message.recycle);
  if (message.rows) { // a call's rows over shared memory (pool-split.ts): only the blocks' totals go back
    try {
      post({ id: message.id, totals: runRows((call) => kernels().run(call), message.rows) });
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
