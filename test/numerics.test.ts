// Numerical behaviour: the seeds' examples, non-finite values, empty and fully ignored batches, the
// accuracy of large means, chunking and in-place gradients. Runs under Node and in Chromium; the vector
// exp/log ulp sweeps (which read build/testing.wasm from disk) are in vmath.test.ts, Node only.
import { afterEach, describe, expect, it } from 'vitest';
import {
  crossEntropy, crossEntropyWithGrad, getBackendInfo, logSoftmax, setWasmMemoryLimit, softmax,
} from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';
import { crossEntropy64 } from './reference/ce64.ts';

const seedLogits = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };

describe.each(BACKENDS)('numerics on %s', (backend) => {
  useBackend(backend);
  afterEach(() => setWasmMemoryLimit(256 * 2 ** 20));

  it("the seeds' example: exactly 142, where the naive -log(softmax) is inf", () => {
    expect(crossEntropy(seedLogits, 3)).toBe(142);
    expect(crossEntropy({ data: seedLogits.data, shape: [1, 5] }, [3])).toBe(142);
    expect(logSoftmax(seedLogits)[3]).toBe(-142);
    // the naive route: softmax underflows to exactly 0 in f32 and -log(0) = inf
    expect(softmax(seedLogits)[3]).toBe(0);
    expect(-Math.log(softmax(seedLogits)[3])).toBe(Infinity);
    const { grad } = crossEntropyWithGrad(seedLogits, 3);
    expect(grad[3]).toBe(-1); // softmax[3] - 1 with softmax[3] = exp(-142) ~ 0
    expect(grad[1]).toBeCloseTo(1, 6);
  });

  it("the seeds' small example is 1.9453 (the seed's 2.0871 is wrong)", () => {
    const loss = crossEntropy({ data: Float32Array.of(1.2, 4.7, 3.1, 0.5, 2.9), shape: [5] }, 2) as number;
    expect(loss).toBeCloseTo(1.9453, 4);
    expectClose(loss, crossEntropy64([1.2, 4.7, 3.1, 0.5, 2.9].map(Math.fround), [5], [2], true) as number, TOL.loss);
  });

  it('NaN logits make their own position NaN and leave the others alone', () => {
    const data = Float32Array.of(1, 2, 3, 1, NaN, 3, 1, 2, 3);
    const none = crossEntropy({ data, shape: [3, 3] }, [0, 1, 2], { reduction: 'none' }) as Float32Array;
    expect(Number.isNaN(none[1])).toBe(true);
    expect(Number.isFinite(none[0]) && Number.isFinite(none[2])).toBe(true);
    expect(crossEntropy({ data, shape: [3, 3] }, [0, 1, 2])).toBeNaN();
    const { grad } = crossEntropyWithGrad({ data, shape: [3, 3] }, [0, 1, 2], { reduction: 'none' });
    expect(Array.from(grad.subarray(3, 6)).every(Number.isNaN)).toBe(true);
    expect(Array.from(grad.subarray(0, 3)).every(Number.isFinite)).toBe(true);
  });

  it('-inf logits: harmless off target, inf loss on target (with a finite gradient)', () => {
    const data = Float32Array.of(-Infinity, 1, 2);
    expectClose(crossEntropy({ data, shape: [1, 3] }, [2]) as number, crossEntropy64([-Infinity, 1, 2], [1, 3], [2], true) as number, TOL.loss);
    expect(crossEntropy({ data, shape: [1, 3] }, [0])).toBe(Infinity);
    const { grad } = crossEntropyWithGrad({ data, shape: [1, 3] }, [0]);
    expect(grad[0]).toBe(-1);
    expect(Array.from(grad).every(Number.isFinite)).toBe(true);
    // label smoothing puts weight on every class, so a -inf logit makes the loss inf (as in PyTorch)
    expect(crossEntropy({ data, shape: [1, 3] }, [2], { labelSmoothing: 0.1 })).toBe(Infinity);
  });

  it('all targets ignored: mean is NaN (as PyTorch), sum 0, none zeros, gradient zero', () => {
    const x = { data: Float32Array.of(1, 2, 3, 4, 5, 6), shape: [2, 3] };
    expect(crossEntropy(x, [-100, -100])).toBeNaN();
    expect(crossEntropy(x, [-100, -100], { reduction: 'sum' })).toBe(0);
    expect(Array.from(crossEntropy(x, [-100, -100], { reduction: 'none' }) as Float32Array)).toEqual([0, 0]);
    const r = crossEntropyWithGrad(x, [-100, -100], { labelSmoothing: 0.2 });
    expect(r.loss).toBeNaN();
    expect(Array.from(r.grad)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('an empty batch: mean NaN, sum 0, none empty', () => {
    for (const shape of [[0, 4], [0, 4, 3]]) {
      const x = { data: new Float32Array(0), shape };
      expect(crossEntropy(x, [])).toBeNaN();
      expect(crossEntropy(x, [], { reduction: 'sum' })).toBe(0);
      expect((crossEntropy(x, [], { reduction: 'none' }) as Float32Array).length).toBe(0);
      expect(crossEntropy(x, { data: new Float32Array(0), shape })).toBeNaN();
      expect(crossEntropyWithGrad(x, []).grad.length).toBe(0);
    }
  });

  it("reduction 'none' on an unbatched input gives one value", () => {
    const none = crossEntropy(seedLogits, 3, { reduction: 'none' }) as Float32Array;
    expect(none).toBeInstanceOf(Float32Array);
    expect(Array.from(none)).toEqual([142]);
  });

  it('every target form gives the same loss', () => {
    const rand = rng(7);
    const x = { data: randomLogits(rand, 6 * 4), shape: [6, 4] };
    const t = [3, 0, 2, 1, 1, 0];
    const want = crossEntropy(x, t);
    expect(crossEntropy(x, Int32Array.from(t))).toBe(want);
    expect(crossEntropy(x, BigInt64Array.from(t.map(BigInt)))).toBe(want);
    expect(crossEntropy(x, Uint8Array.from(t))).toBe(want);
    expect(crossEntropy(x, { data: Int32Array.from(t), shape: [6] })).toBe(want);
    expect(crossEntropy(x.data, t, { classes: 4 })).toBe(want);
    // one-hot probability targets give the same value as indices (without weights)
    const onehot = new Float32Array(24);
    t.forEach((c, n) => (onehot[n * 4 + c] = 1));
    expectClose(crossEntropy(x, { data: onehot, shape: [6, 4] }) as number, want as number, TOL.loss);
  });

  it('a mean over 2M rows keeps float32 accuracy (float64 accumulation)', () => {
    const N = 2 ** 21, C = 8;
    const rand = rng(11);
    const data = randomLogits(rand, N * C, 4);
    const target = randomIndices(rand, N, C);
    const weight = Float32Array.of(0.5, 1, 1.5, 2, 0.25, 1, 1, 3);
    // float64 reference, row by row
    let num = 0, den = 0;
    for (let n = 0; n < N; n++) {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, data[n * C + c]);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(data[n * C + c] - m);
      const t = target[n];
      num += weight[t] * (m + Math.log(s) - data[n * C + t]);
      den += weight[t];
    }
    const got = crossEntropy({ data, shape: [N, C] }, target, { weight }) as number;
    const rel = Math.abs(got - num / den) / (num / den);
    // one f32 rounding of the result is up to 6e-8 relative (measured: 3.6e-8); per-row errors average out
    expect(rel).toBeLessThan(2.5e-7);
  });

  it('chunked runs (tiny memory limit) give bit-identical results', () => {
    const rand = rng(3);
    for (const shape of [[300, 1000], [6, 50, 400]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = { data: randomLogits(rand, n), shape };
      const positions = shape[0] * (shape[2] ?? 1);
      const target = randomIndices(rand, positions, shape[1], -100, 0.2);
      const opts = { reduction: 'none' as const, labelSmoothing: 0.1 };
      const whole = crossEntropyWithGrad(x, target, opts);
      setWasmMemoryLimit(2 ** 16 * 4); // 256 KiB: several chunks
      const chunked = crossEntropyWithGrad(x, target, opts);
      expect(chunked.loss).toEqual(whole.loss);
      expect(chunked.grad).toEqual(whole.grad);
      expect(crossEntropy(x, target)).toBe(crossEntropy(x, target));
      setWasmMemoryLimit(256 * 2 ** 20);
    }
  });

  it('repeated calls do not grow the WASM memory', () => {
    const x = { data: randomLogits(rng(5), 256 * 1000), shape: [256, 1000] };
    const t = randomIndices(rng(6), 256, 1000);
    crossEntropyWithGrad(x, t);
    const after1 = getBackendInfo().wasmMemoryBytes;
    for (let i = 0; i < 5; i++) crossEntropyWithGrad(x, t);
    expect(getBackendInfo().wasmMemoryBytes).toBe(after1);
  });

  it('the in-place gradient overwrites the logits with the same values and allocates nothing', () => {
    const rand = rng(9);
    for (const shape of [[5, 33], [2, 7, 9]]) {
      const data = randomLogits(rand, shape.reduce((a, b) => a * b, 1));
      const target = randomIndices(rand, shape[0] * (shape[2] ?? 1), shape[1]);
      const copy = data.slice();
      const want = crossEntropyWithGrad({ data: copy, shape }, target, { labelSmoothing: 0.05 });
      const got = crossEntropyWithGrad({ data, shape }, target, { labelSmoothing: 0.05, out: data });
      expect(got.grad).toBe(data);
      expect(got.grad).toEqual(want.grad);
      expect(got.loss).toBe(want.loss);
    }
  });
});
