// Where wasm cannot run, 'auto' falls back to the JS backend, says why, and computes the same numbers:
// simulated in module workers (each imports a fresh xent from src/ after WebAssembly, its SIMD or the
// right to compile has been taken away), and on the example page built from dist/ (WebAssembly.validate
// stubbed before the page's scripts run, and a real Content-Security-Policy without 'wasm-unsafe-eval').
import { describe, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';
import * as xent from '../../src/index.ts';
import type { BackendInfo } from '../../src/index.ts';
import type { Scenario } from './fallback.worker.ts';
import { runWorkload, type WorkloadResult } from './workload.ts';

interface Reply {
  init?: string;
  info?: BackendInfo;
  wasmError?: string | null;
  result?: WorkloadResult;
  error?: string;
}

function inWorker(scenario: Scenario): Promise<Reply> {
  const worker = new Worker(new URL('./fallback.worker.ts', import.meta.url), { type: 'module' });
  return new Promise<Reply>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Reply>) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
    worker.postMessage({ scenario });
  }).finally(() => worker.terminate());
}

const REASONS: [Scenario, RegExp][] = [
  ['no-webassembly', /WebAssembly is not available/],
  ['no-simd', /does not support WebAssembly SIMD/],
  ['compile-refused', /wasm-unsafe-eval/],
];

describe('fallback in a worker, simulated', () => {
  it('control: nothing taken away, a fresh import picks wasm', async () => {
    const reply = await inWorker('none');
    expect(reply.error).toBeUndefined();
    expect(reply.init).toBe('wasm');
    expect(reply.info).toMatchObject({ name: 'wasm', choice: 'auto', wasmUnavailable: undefined });
    expect(reply.wasmError).toBeNull();
  });

  it.each(REASONS)("%s: 'auto' uses js, says why, setBackend('wasm') throws, same numbers as js here", async (scenario, reason) => {
    const reply = await inWorker(scenario);
    expect(reply.error).toBeUndefined();
    expect(reply.init).toBe('js');
    expect(reply.info).toMatchObject({ name: 'js', choice: 'auto' });
    expect(reply.info!.wasmUnavailable).toMatch(reason);
    expect(reply.wasmError).toMatch(/the wasm backend is unavailable/);
    expect(reply.result!.backend).toBe('js');
    xent.setBackend('js');
    try {
      expect(reply.result!.values).toEqual(runWorkload(xent).values);
    } finally {
      xent.setBackend('auto');
    }
    expect(reply.result!.values.seedLoss).toEqual([142]);
  });
});

describe('fallback on the example page (dist/)', () => {
  const page = (query: string) => `${inject('serverUrl')}examples/browser/index.html?${query}`;
  const done = '#bench-status[data-state="done"], #bench-status[data-state="error"]';

  async function expectJsFallback(url: string, initScript: string | undefined, reason: RegExp) {
    const { elements: el, errors } = await commands.openPage(url, { waitFor: done, initScript });
    expect(errors).toEqual([]);
    expect(el['bench-status'].data.state).toBe('done');
    expect(el.backend.text).toBe('js');
    expect(el.reason.text).toMatch(/^JS fallback: /);
    expect(el.reason.text).toMatch(reason);
    expect(el['xent-loss'].text).toBe('142');
    expect(el['naive-loss'].text).toBe('Infinity');
    // the benchmark runs on js alone and says wasm is unavailable
    expect(el['bench-wasm-ce'].text).toBe('unavailable here');
    expect(Number(el['bench-js-ce'].data.value)).toBeGreaterThan(0);
    expect(Number(el['bench-js-loss'].data.value)).toBeCloseTo(14.8674, 3);
    expect(el['bench-wasm-grad']).toBeUndefined();
  }

  it('no SIMD: WebAssembly.validate stubbed to false before the page loads', async () => {
    await expectJsFallback(page('reps=1'), 'WebAssembly.validate = () => false;', /does not support WebAssembly SIMD/);
  });

  it('no WebAssembly at all', async () => {
    await expectJsFallback(page('reps=1'), 'delete globalThis.WebAssembly;', /WebAssembly is not available/);
  });

  it("a real Content-Security-Policy without 'wasm-unsafe-eval' (script-src 'self')", async () => {
    await expectJsFallback(page('reps=1&csp=strict'), undefined, /Content Security Policy|unsafe-eval/);
  });
});
