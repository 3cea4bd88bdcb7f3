// The public surface: exports, backend selection and fallback, and the built package entry.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as xent from '../src/index.ts';
import { ABI_VERSION, wasmBytes } from '../src/backend/wasm/module.ts';

const PUBLIC = [
  'crossEntropy', 'crossEntropyWithGrad', 'nllLoss', 'logSoftmax', 'softmax', 'logSumExp',
  'init', 'getBackend', 'setBackend', 'getBackendInfo', 'setWasmMemoryLimit', 'allocFloat32',
  'diagnose', 'setDiagnosticsHandler', 'XentCheckError', 'tokenLogProbs', 'tokenStats', 'perplexity', 'continuationLogProb', 'causalLMLoss', 'causalLMLossWithGrad',
  'binaryCrossEntropyWithLogits', 'binaryCrossEntropyWithLogitsWithGrad', 'klDiv', 'klDivWithGrad',
  'nllLossWithGrad', 'softmin', 'logSoftmaxBackward', 'softmaxBackward', 'logSumExpBackward',
  'distillationLoss', 'distillationLossWithGrad', 'createPool',
].sort();

const x = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };

describe('public API', () => {
  afterEach(() => xent.setBackend('auto'));

  it('exports exactly the documented functions', () => {
    expect(Object.keys(xent).sort()).toEqual(PUBLIC);
    for (const name of PUBLIC) expect(typeof (xent as Record<string, unknown>)[name]).toBe('function'); // XentCheckError: a class
  });

  it("init() resolves with the backend in use; 'auto' picks wasm where SIMD runs (Node 20)", async () => {
    expect(await xent.init()).toBe('wasm');
    expect(xent.getBackend()).toBe('wasm');
    xent.setBackend('js');
    expect(await xent.init()).toBe('js');
    expect(xent.getBackendInfo()).toMatchObject({ name: 'js', choice: 'js', wasmUnavailable: undefined });
    xent.setBackend('auto');
    expect(xent.getBackendInfo().name).toBe('wasm');
    expect(xent.getBackendInfo().wasmMemoryBytes).toBeGreaterThan(0);
  });

  it("the embedded module's ABI version matches the loader's", () => {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), {});
    expect((exports.ABI_VERSION as WebAssembly.Global).value).toBe(ABI_VERSION);
  });

  it('the built package entry (dist/) works and matches the sources', async () => {
    const dist = await import('../dist/index.js');
    expect(Object.keys(dist).sort()).toEqual(PUBLIC);
    expect(dist.crossEntropy(x, 3)).toBe(142);
    expect(dist.getBackend()).toBe('wasm');
  });
});

describe('fallback when wasm cannot run', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  async function freshXent(): Promise<typeof xent> {
    vi.resetModules();
    return import('../src/index.ts');
  }

  const WA = WebAssembly;
  const refused = () => new WA.CompileError('Refused to compile or instantiate WebAssembly module because wasm-unsafe-eval is not allowed');
  const scenarios: [string, () => void, RegExp][] = [
    ['no WebAssembly at all', () => vi.stubGlobal('WebAssembly', undefined), /WebAssembly is not available/],
    ['no SIMD (validate fails)', () => vi.stubGlobal('WebAssembly', { ...WA, validate: () => false }), /does not support WebAssembly SIMD/],
    ['compilation refused (CSP)', () => vi.stubGlobal('WebAssembly', {
      validate: WA.validate,
      Module: function () { throw refused(); },
      instantiate: () => Promise.reject(refused()),
    }), /wasm-unsafe-eval is not allowed/],
  ];

  it.each(scenarios)("%s: 'auto' uses js, says why, and setBackend('wasm') throws", async (_name, stub, reason) => {
    stub();
    const fresh = await freshXent();
    expect(await fresh.init()).toBe('js'); // the async path first, then the sync one
    expect(fresh.getBackend()).toBe('js');
    expect(fresh.getBackendInfo().wasmUnavailable).toMatch(reason);
    expect(() => fresh.setBackend('wasm')).toThrow(/the wasm backend is unavailable/);
    expect(fresh.getBackend()).toBe('js');
    vi.stubGlobal('WebAssembly', WA);
    expect(fresh.crossEntropy(x, 3)).toBe(142);
  });

  it('init() before any call compiles asynchronously and is memoised', async () => {
    const fresh = await freshXent();
    const [a, b] = await Promise.all([fresh.init(), fresh.init()]);
    expect([a, b]).toEqual(['wasm', 'wasm']);
  });
});
