// The two wasm builds (baseline SIMD, build/xent.wasm; relaxed SIMD, build/xent-relaxed.wasm): which one
// is selected and why, `{ relaxed: false }`, option validation, lazy decoding, and the relaxed build's
// results against the baseline's (within the tolerances, not bit for bit: its multiply-adds are fused).
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as xent from '../src/index.ts';
import { TOL, expectClose } from './helpers/close.ts';
import { RELAXED } from './helpers/backends.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';

const { crossEntropy, crossEntropyWithGrad, getBackendInfo, init, logSoftmax, logSumExp, setBackend, softmax } = xent;

afterEach(() => setBackend('auto'));

describe('wasm build selection', () => {
  it(`'auto' uses the ${RELAXED ? 'relaxed-SIMD' : 'baseline SIMD'} build on this engine, and says why`, () => {
    setBackend('auto');
    const info = getBackendInfo();
    expect(info.name).toBe('wasm');
    expect(info.build).toBe(RELAXED ? 'relaxed-simd' : 'simd');
    expect(info.buildReason).toMatch(RELAXED ? /supports WebAssembly relaxed SIMD/ : /does not support WebAssembly relaxed SIMD/);
  });

  it.skipIf(!RELAXED)('wasm-relaxed: the relaxed-SIMD build runs every describe.each(BACKENDS) suite here', () => {
    setBackend('wasm');
    expect(getBackendInfo().build).toBe('relaxed-simd');
  });

  // shown as skipped where the engine has relaxed SIMD, as run (and passing) where it has not: the note
  it.skipIf(RELAXED)('wasm-relaxed is skipped: this engine has no relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)', () => {
    expect(getBackendInfo().build).toBe('simd');
  });

  it.each(['wasm', 'auto'] as const)("setBackend('%s', { relaxed: false }) forces the baseline build", (b) => {
    setBackend(b, { relaxed: false });
    expect(getBackendInfo()).toMatchObject({ name: 'wasm', choice: b, build: 'simd', buildReason: expect.stringMatching(/relaxed: false/) });
    setBackend(b, { relaxed: true });
    expect(getBackendInfo().build).toBe(RELAXED ? 'relaxed-simd' : 'simd');
    setBackend(b, { relaxed: false });
    setBackend(b); // options not given take their defaults
    expect(getBackendInfo().build).toBe(RELAXED ? 'relaxed-simd' : 'simd');
  });

  it('the JS backend has no build', () => {
    setBackend('js', { relaxed: false });
    const info = getBackendInfo();
    expect(info.name).toBe('js');
    expect(info.build).toBeUndefined();
    expect(info.buildReason).toBeUndefined();
  });

  it('validates the options: TypeError for an unknown key, a non-boolean relaxed, a non-object', () => {
    setBackend('wasm', { relaxed: false });
    const bad: unknown[] = [{ relax: false }, { relaxed: 0 }, { relaxed: 'false' }, { relaxed: null }, null, 1, 'relaxed', [false]];
    for (const o of bad) {
      expect(() => setBackend('wasm', o as never), JSON.stringify(o)).toThrow(TypeError);
      expect(() => setBackend('auto', o as never), JSON.stringify(o)).toThrow(TypeError);
    }
    expect(() => setBackend('wasm', { relaxed: 1 } as never)).toThrow("setBackend: expected options.relaxed to be a boolean, got number 1");
    expect(() => setBackend('wasm', { fast: true } as never)).toThrow('setBackend: unknown option "fast"');
    expect(getBackendInfo()).toMatchObject({ choice: 'wasm', build: 'simd' }); // a refused call changes nothing
    expect(() => setBackend('wasm', { relaxed: undefined })).not.toThrow();
  });
});

// vi.resetModules gives a fresh module graph under Node only (in a browser the loaded modules stay, as
// vitest.browser.config.ts says of api.test.ts), so these run under Node (20 and 24 in CI)
const inBrowser = typeof window !== 'undefined';

describe.skipIf(inBrowser)('lazy loading of the builds', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.resetModules();
  });

  async function fresh(): Promise<typeof xent> {
    vi.resetModules();
    return import('../src/index.ts');
  }

  it.each([
    ['first use', false], ['first use', true], ['await init()', false], ['await init()', true],
  ] as const)('%s decodes only the build it uses (relaxed: %s)', async (_how, relaxed) => {
    const x = await fresh();
    const decode = vi.spyOn(globalThis, 'atob');
    x.setBackend('auto', { relaxed }); // 'auto' loads nothing
    expect(decode).not.toHaveBeenCalled();
    if (_how === 'await init()') expect(await x.init()).toBe('wasm');
    expect(x.crossEntropy({ data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] }, 3)).toBe(142);
    expect(decode).toHaveBeenCalledTimes(1);
    expect(x.getBackendInfo().build).toBe(relaxed && RELAXED ? 'relaxed-simd' : 'simd');
  });
});

// Bun and WebKit (JavaScriptCore) run the relaxed build slower (src/backend/wasm/module.ts): by default they
// get the baseline, and { relaxed: true } still gives them the relaxed build. Their globals are stubbed here
// on an engine that has relaxed SIMD, with a fresh module graph (the selection is remembered per graph).
describe.skipIf(inBrowser || !RELAXED)('JavaScriptCore gets the baseline build by default', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });
  const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15';
  const IOS_CHROME = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1';
  const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
  const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36';

  it.each([
    ['Bun', 'simd', () => vi.stubGlobal('Bun', { version: '1.4.5' })],
    ['Safari', 'simd', () => vi.stubGlobal('navigator', { userAgent: SAFARI })],
    ['Chrome on iOS (WebKit)', 'simd', () => vi.stubGlobal('navigator', { userAgent: IOS_CHROME })],
    ['Chrome (V8)', 'relaxed-simd', () => vi.stubGlobal('navigator', { userAgent: CHROME })],
    ['headless Chromium (V8)', 'relaxed-simd', () => vi.stubGlobal('navigator', { userAgent: HEADLESS })],
  ] as const)('%s: the default picks %s, and { relaxed: true } the relaxed build', async (_name, build, stub) => {
    stub();
    vi.resetModules();
    const x: typeof xent = await import('../src/index.ts');
    x.setBackend('auto');
    expect(await x.init()).toBe('wasm');
    expect(x.getBackendInfo().build).toBe(build);
    if (build === 'simd') expect(x.getBackendInfo().buildReason).toMatch(/JavaScriptCore/);
    x.setBackend('auto', { relaxed: true });
    expect(x.getBackendInfo()).toMatchObject({ build: 'relaxed-simd', buildReason: expect.stringMatching(/relaxed: true/) });
    x.setBackend('auto', { relaxed: false });
    expect(x.getBackendInfo().build).toBe('simd');
    expect(x.crossEntropy({ data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] }, 3)).toBe(142);
  });
});

describe.skipIf(!RELAXED)('the relaxed build against the baseline', () => {
  const shapes = [[64, 1000], [8, 32000], [3, 128256], [33, 7]] as const;

  function both<T>(f: () => T): [T, T] {
    setBackend('wasm', { relaxed: false });
    const base = f();
    setBackend('wasm', { relaxed: true });
    expect(getBackendInfo().build).toBe('relaxed-simd');
    return [base, f()];
  }

  it.each(shapes)('%i x %i: loss, gradient, logSoftmax, softmax, logSumExp agree within the tolerances', (N, C) => {
    const rand = rng(N * 7 + C);
    const x = { data: randomLogits(rand, N * C, 4), shape: [N, C] };
    const t = randomIndices(rand, N, C);
    let differ = 0;
    const [a, b] = both(() => crossEntropyWithGrad(x, t, { labelSmoothing: 0.1 }));
    expectClose(b.loss, a.loss, TOL.loss, 'loss');
    expectClose(b.grad, a.grad, TOL.grad, 'grad');
    for (let i = 0; i < a.grad.length; i++) if (a.grad[i] !== b.grad[i]) differ++;
    const [l1, l2] = both(() => crossEntropy(x, t, { reduction: 'none' }) as Float32Array);
    expectClose(l2, l1, TOL.loss, 'loss none');
    const [ls1, ls2] = both(() => logSoftmax(x));
    expectClose(ls2, ls1, TOL.logSoftmax, 'logSoftmax');
    const [s1, s2] = both(() => softmax(x));
    expectClose(s2, s1, TOL.softmax, 'softmax');
    const [z1, z2] = both(() => logSumExp(x) as Float32Array);
    expectClose(z2, z1, TOL.loss, 'logSumExp');
    // not asserted (the hardware may have no FMA): how many gradient entries differ in their bits
    console.info(`${N} x ${C}: ${differ} of ${a.grad.length} gradient entries differ between the builds`);
  });

  it('init() after { relaxed: false } keeps the baseline', async () => {
    setBackend('auto', { relaxed: false });
    expect(await init()).toBe('wasm');
    expect(getBackendInfo().build).toBe('simd');
  });
});

describe('the ABI, declared once (src/backend/wasm/abi.ts)', () => {
  it('every kernel export of both builds takes the parameters its binding passes, and a mismatch is refused', async () => {
    const { BINDINGS, checkBindings } = await import('../src/backend/wasm/abi.ts');
    const { wasmBytes } = await import('../src/backend/wasm/module.ts');
    for (const build of ['simd', ...(RELAXED ? ['relaxed-simd' as const] : [])] as const) {
      const { instance } = await WebAssembly.instantiate(wasmBytes(build), {});
      const ex = instance.exports as unknown as Parameters<typeof checkBindings>[0];
      expect(() => checkBindings(ex)).not.toThrow();
      for (const b of Object.values(BINDINGS)) expect((ex[b.export] as () => void).length, b.export).toBe(b.params.length);
      // an export that lost a parameter (an ABI change on one side only) is caught at load
      const broken = { ...ex, xent_prob_f32: (a: number, b: number) => a + b };
      expect(() => checkBindings(broken)).toThrow(/xent_prob_f32 takes 2 parameters, the loader passes 23/);
    }
  });
});
