// A worker of createPool's pool (src/pool.ts): runs xent's public functions by name on its own module
// instance and posts the results back, their fresh arrays transferred (not copied). Node (worker_threads)
// and browsers (module Workers) alike.
import * as xent from './index.ts';

interface Request {
  id: number;
  fn: string;
  args: unknown[];
}

type Post = (message: unknown, transfer?: ArrayBuffer[]) => void;

/** The result's fresh arrays, whose buffers can move to the caller instead of being copied. */
function transferable(result: unknown): ArrayBuffer[] {
  const found: ArrayBuffer[] = [];
  const add = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && !found.includes(v.buffer)) found.push(v.buffer);
  };
  add(result);
  if (result && typeof result === 'object' && !ArrayBuffer.isView(result)) Object.values(result).forEach(add);
  return found;
}

function handle(message: { init?: { backend: xent.BackendChoice; relaxed?: boolean } } & Partial<Request>, post: Post): void {
  if (message.init) {
    xent.setBackend(message.init.backend, message.init.relaxed === undefined ? undefined : { relaxed: message.init.relaxed });
    post({ ready: xent.getBackendInfo() });
    return;
  }
  const { id, fn, args } = message as Request;
  try {
    const f = (xent as unknown as Record<string, (...a: unknown[]) => unknown>)[fn];
    const result = f(...args);
    post({ id, result }, transferable(result));
  } catch (e) {
    const err = e as Error;
    post({ id, error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } });
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
