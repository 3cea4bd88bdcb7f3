// A worker of createPool's pool (src/pool.ts): runs xent's public functions by name on its own module
// instance and posts the results back, their fresh arrays transferred (not copied). Node (worker_threads)
// and browsers (module Workers) alike.
import * as xent from './index.ts';

import { BufferCache, ownedBuffers } from './pool-buffers.ts';

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

function handle(message: { init?: { backend: xent.BackendChoice; relaxed?: boolean }; recycle?: ArrayBuffer } & Partial<Request>, post: Post): void {
  if (message.init) {
    xent.setBackend(message.init.backend, message.init.relaxed === undefined ? undefined : { relaxed: message.init.relaxed });
    post({ ready: xent.getBackendInfo() });
    return;
  }
  if (message.recycle) return outputs.give(message.recycle);
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
    const err = e as Error;
    post({ id, inputs, error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } }, inputs);
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
