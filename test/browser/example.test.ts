// The example page (examples/browser/), served by the local static server from the repository root, loads
// the built package with a plain <script type="module"> and renders the seeds' example and a live
// benchmark; this checks the numbers it shows and keeps a screenshot in build/browser-example.png
// (docs/browser-example.png is a copy of one).
import { describe, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';

/** The example page, opened and left to finish its benchmark. */
function openExample(options: { initScript?: string; screenshot?: string } = {}) {
  return commands.openPage(`${inject('serverUrl')}examples/browser/`, {
    ...options, waitFor: '#bench-status[data-state="done"], #bench-status[data-state="error"]',
  });
}

describe('the example page', () => {
  it('times finite, non-zero medians with a coarse clock (performance.now in 50 ms steps)', async () => {
    const { elements: el, errors } = await openExample({
      initScript: 'const now = performance.now.bind(performance); performance.now = () => Math.floor(now() / 50) * 50;',
    });
    expect(errors).toEqual([]);
    for (const b of ['wasm', 'js']) {
      for (const what of ['ce', 'grad']) {
        const ms = Number(el[`bench-${b}-${what}`].data.value);
        expect(ms, `${b} ${what}`).toBeGreaterThan(0);
        expect(el[`bench-${b}-${what}`].text, `${b} ${what}`).not.toMatch(/Infinity|NaN/);
      }
    }
    expect(el['speedup-ce'].text).toMatch(/^\d+\.\dx$/);
  });

  it('shows wasm, 142 vs Infinity, and a finished wasm-vs-js benchmark on 512 x 32000', async () => {
    const { elements: el, errors } = await openExample({ screenshot: 'build/browser-example.png' });
    expect(errors).toEqual([]);
    expect(el['bench-status'].data.state).toBe('done');
    expect(el['bench-status'].text).toBe('done: medians of 5 runs');

    expect(el.backend.text).toBe('wasm');
    expect(el.reason.text).toBe('this engine runs WebAssembly SIMD');
    expect(el['xent-loss'].text).toBe('142');
    expect(el['xent-check'].text).toBe('exact');
    expect(el['naive-loss'].text).toBe('Infinity');
    expect(el['naive-why'].text).toBe('(softmax(x)[3] = 0 in float32)');

    for (const b of ['wasm', 'js']) {
      for (const what of ['ce', 'grad']) {
        const cell = el[`bench-${b}-${what}`];
        const ms = Number(cell.data.value);
        expect(ms, `${b} ${what}`).toBeGreaterThan(0);
        expect(cell.text).toMatch(new RegExp(`^${ms.toFixed(1).replace('.', '\\.')} ms \\(\\d+\\.\\d\\d G/s\\)$`));
      }
    }
    // the same loss on both backends (mean of 512 rows, float32; about log(32000) + 9/2)
    const wasmLoss = Number(el['bench-wasm-loss'].data.value);
    const jsLoss = Number(el['bench-js-loss'].data.value);
    expect(Math.abs(wasmLoss - jsLoss) / jsLoss).toBeLessThanOrEqual(1e-6);
    expect(wasmLoss).toBeCloseTo(14.8674, 3);
    expect(Number(el['loss-rel'].data.value)).toBeLessThanOrEqual(1e-6);
    // speedups are printed from the medians (not asserted to exceed 1: timing on a shared machine)
    const speedup = Number(el['bench-js-ce'].data.value) / Number(el['bench-wasm-ce'].data.value);
    expect(el['speedup-ce'].text).toBe(`${speedup.toFixed(1)}x`);
  });
});
