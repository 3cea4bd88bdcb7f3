// Zero-copy arrays in WASM memory (allocFloat32): the same results as ordinary arrays, bit for bit, on
// both backends; views that survive memory growth; memory reuse after free.
import { afterEach, describe, expect, it } from 'vitest';
import {
  allocFloat32, crossEntropy, crossEntropyWithGrad, getBackendInfo, logSoftmax, logSumExp, setBackend, softmax,
} from '../src/index.ts';
import { BACKENDS, isWasm, selectBackend, useBackend } from './helpers/backends.ts';
import { randomIndices, randomLogits, randomProbs, rng } from './helpers/random.ts';
import { expectSameBits } from './helpers/close.ts';

describe.each(BACKENDS)('allocFloat32 on %s', (backend) => {
  useBackend(backend);
  const live: { free(): void }[] = [];
  const alloc = (n: number) => {
    const a = allocFloat32(n);
    live.push(a);
    return a;
  };
  afterEach(() => live.splice(0).forEach((a) => a.free()));

  for (const shape of [[7, 33], [600, 1000], [3, 9, 5]]) {
    it(`${JSON.stringify(shape)}: loss and gradient equal the copying path bit for bit`, () => {
      const rand = rng(shape.length * 1000 + shape[0]);
      const n = shape.reduce((a, b) => a * b, 1);
      const positions = n / shape[1];
      const logits = randomLogits(rand, n);
      const target = randomIndices(rand, positions, shape[1], -100, 0.1);
      const opts = { labelSmoothing: 0.1, reduction: 'none' as const };
      const want = crossEntropyWithGrad({ data: logits, shape }, target, opts);

      const x = alloc(n);
      x.data.set(logits);
      expectSameBits(crossEntropy({ data: x.data, shape }, target, opts) as Float32Array, want.loss as Float32Array, 'loss');
      const g = alloc(n);
      const got = crossEntropyWithGrad({ data: x.data, shape }, target, { ...opts, out: g.data });
      expectSameBits(got.loss as Float32Array, want.loss as Float32Array, 'loss with grad');
      expectSameBits(g.data, want.grad, 'grad into WASM memory');
      expect(got.grad.buffer).toBe(g.data.buffer); // the returned view is live even if the memory grew
      expect(got.grad.byteOffset).toBe(g.data.byteOffset);
      // in place: the gradient overwrites the logits in WASM memory
      crossEntropyWithGrad({ data: x.data, shape }, target, { ...opts, out: x.data });
      expectSameBits(x.data, want.grad, 'grad in place');
      // a JS array for out with a WASM input, and the other way round
      x.data.set(logits);
      expectSameBits(crossEntropyWithGrad({ data: x.data, shape }, target, opts).grad, want.grad, 'grad to JS');
      const out = alloc(n);
      crossEntropyWithGrad({ data: logits, shape }, target, { ...opts, out: out.data });
      expectSameBits(out.data, want.grad, 'grad from JS input');
    });
  }

  it('probability targets and softmax-family inputs and outputs in WASM memory', () => {
    const rand = rng(77);
    const shape = [5, 40, 3];
    const logits = randomLogits(rand, 600);
    const probs = randomProbs(rand, 5, 40, 3);
    const x = alloc(600), p = alloc(600);
    x.data.set(logits);
    p.data.set(probs);
    const want = crossEntropyWithGrad({ data: logits, shape }, { data: probs, shape }, { weight: Float32Array.from({ length: 40 }, (_, i) => 1 + i / 40) });
    const got = crossEntropyWithGrad({ data: x.data, shape }, { data: p.data, shape }, { weight: Float32Array.from({ length: 40 }, (_, i) => 1 + i / 40) });
    expect(got.loss).toBe(want.loss);
    expect(got.grad).toEqual(want.grad);
    expect(softmax({ data: x.data, shape }, { dim: 1 })).toEqual(softmax({ data: logits, shape }, { dim: 1 }));
    expect(logSoftmax({ data: x.data, shape })).toEqual(logSoftmax({ data: logits, shape }));
    expect(logSumExp({ data: x.data, shape }, { dim: 1 })).toEqual(logSumExp({ data: logits, shape }, { dim: 1 }));
  });

  it("the softmax family's out option: a JS array, WASM memory, or the input itself (in place)", () => {
    const rand = rng(91);
    for (const [shape, dim] of [[[6, 700], -1], [[3, 20, 7], 1]] as const) {
      const n = shape.reduce((a, b) => a * b, 1);
      const logits = randomLogits(rand, n);
      const positions = n / shape[dim < 0 ? shape.length + dim : dim];
      for (const [fn, len] of [[logSoftmax, n], [softmax, n], [logSumExp, positions]] as const) {
        const want = fn({ data: logits, shape }, { dim });
        const js = new Float32Array(len);
        expect(fn({ data: logits, shape }, { dim, out: js })).toBe(js);
        expectSameBits(js, want, `${fn.name} into a JS array`);
        const x = alloc(n), o = alloc(len);
        x.data.set(logits);
        const got = fn({ data: x.data, shape }, { dim, out: o.data });
        expectSameBits(o.data, want, `${fn.name} into WASM memory`);
        expect(got.byteOffset).toBe(o.data.byteOffset);
        if (len === n) {
          fn({ data: x.data, shape }, { dim, out: x.data });
          expectSameBits(x.data, want, `${fn.name} in place in WASM memory`);
          const copy = logits.slice();
          fn({ data: copy, shape }, { dim, out: copy });
          expectSameBits(copy, want, `${fn.name} in place in a JS array`);
        }
      }
    }
  });

  it('data is re-derived after the memory grows, and repeated calls do not grow it', () => {
    const x = alloc(1000);
    x.data.set(randomLogits(rng(3), 1000));
    const before = x.data.slice();
    const old = x.data;
    const big = alloc(16 * 2 ** 20); // 64 MiB: the memory must grow
    if (isWasm(backend)) expect(old.length).toBe(0); // the old view was detached by the growth
    expect(x.data).toEqual(before);
    expect(big.data.length).toBe(16 * 2 ** 20);
    const t = randomIndices(rng(4), 10, 100);
    crossEntropyWithGrad({ data: x.data, shape: [10, 100] }, t, { out: x.data });
    const bytes = getBackendInfo().wasmMemoryBytes;
    for (let i = 0; i < 5; i++) crossEntropy({ data: x.data, shape: [10, 100] }, t);
    expect(getBackendInfo().wasmMemoryBytes).toBe(bytes);
  });

  it('an output in WASM memory that grows during the call comes back whole, holding the result', () => {
    // an output block larger than the whole memory lands at its end, so the per-call arena after it (the
    // input is a JS array, copied in) must grow during the call, detaching the caller's view
    const C = 4096, N = isWasm(backend) ? Math.ceil(getBackendInfo().wasmMemoryBytes! / (4 * C)) + 1 : 64;
    const x = randomLogits(rng(5), N * C), t = randomIndices(rng(6), N, C);
    const want = crossEntropyWithGrad({ data: x, shape: [N, C] }, t).grad;
    const out = alloc(N * C);
    const bytes = getBackendInfo().wasmMemoryBytes;
    const { grad } = crossEntropyWithGrad({ data: x, shape: [N, C] }, t, { out: out.data });
    if (isWasm(backend)) expect(getBackendInfo().wasmMemoryBytes).toBeGreaterThan(bytes);
    expect(grad.length).toBe(N * C);
    expectSameBits(grad, want, 'the returned gradient');
    expectSameBits(out.data, want, 'the block read again');
  });

  it('free() returns the memory: the next allocation reuses it, and a freed array refuses access', () => {
    const a = allocFloat32(4096);
    a.data.fill(7);
    a.free();
    a.free(); // idempotent
    expect(() => a.data).toThrow(/freed/);
    const bytes = getBackendInfo().wasmMemoryBytes;
    const b = alloc(4096);
    expect(Array.from(b.data.subarray(0, 4))).toEqual([0, 0, 0, 0]); // zero-filled, not the old 7s
    expect(getBackendInfo().wasmMemoryBytes).toBe(bytes);
  });

  it('rejects a bad length', () => {
    expect(() => allocFloat32(1.5)).toThrow(TypeError);
    expect(() => allocFloat32(-1)).toThrow(RangeError);
    selectBackend(backend);
  });
});
