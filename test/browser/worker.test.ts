// xent inside a module Web Worker: it loads (wasm, compiled in the worker), and every number of the shared
// workload equals, bit for bit, what the page computes on the same backend.
import { afterEach, describe, expect, it } from 'vitest';
import * as xent from '../../src/index.ts';
import { runWorkload, type WorkloadResult } from './workload.ts';

interface Reply {
  info?: xent.BackendInfo;
  result?: WorkloadResult;
  error?: string;
}

function inWorker(backend: 'wasm' | 'js' | 'auto'): Promise<Reply> {
  const worker = new Worker(new URL('./xent.worker.ts', import.meta.url), { type: 'module' });
  return new Promise<Reply>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Reply>) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
    worker.postMessage({ backend });
  }).finally(() => worker.terminate());
}

describe('xent in a module Web Worker', () => {
  afterEach(() => xent.setBackend('auto'));

  it("'auto' picks wasm in the worker, as on the page", async () => {
    const reply = await inWorker('auto');
    expect(reply.error).toBeUndefined();
    expect(reply.info).toMatchObject({ name: 'wasm', choice: 'auto', wasmUnavailable: undefined });
    expect(reply.info!.wasmMemoryBytes).toBeGreaterThan(0);
    expect(await xent.init()).toBe('wasm');
  });

  it.each(['wasm', 'js'] as const)('%s: the same numbers as on the page, bit for bit', async (backend) => {
    const reply = await inWorker(backend);
    expect(reply.error).toBeUndefined();
    expect(reply.result!.backend).toBe(backend);
    xent.setBackend(backend);
    const here = runWorkload(xent);
    expect(here.backend).toBe(backend);
    expect(Object.keys(reply.result!.values)).toEqual(Object.keys(here.values));
    for (const [name, want] of Object.entries(here.values)) {
      expect(reply.result!.values[name], name).toEqual(want);
    }
    expect(here.values.seedLoss).toEqual([142]);
    expect(here.values.seedNaive).toEqual([Infinity]);
  });
});
