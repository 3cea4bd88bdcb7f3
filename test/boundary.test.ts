// Arguments at the boundary (issue 11, items 3-5 and 12-16): each is read once, before any work; no user
// code runs during a call; an output may not share memory with an input except exactly (in place);
// views of freed or foreign WASM memory, detached views, holes and absurd sizes are refused with the
// argument named. Each test here failed before the boundary was rewritten.
import { afterEach, describe, expect, it } from 'vitest';
import {
  allocFloat32, binaryCrossEntropyWithLogitsWithGrad, crossEntropy, crossEntropyWithGrad, getBackendInfo, logSoftmax,
  logSumExp, setWasmMemoryLimit, softmax,
} from '../src/index.ts';
import { BACKENDS, isWasm, useBackend } from './helpers/backends.ts';
import { expectRefused, t6, x6 } from './helpers/refused.ts';
import { expectClose, expectSameBits, TOL } from './helpers/close.ts';
import { randomIndices, randomLogits, randomProbs, rng } from './helpers/random.ts';
import { crossEntropy64 } from './reference/ce64.ts';

const want6 = crossEntropy64(x6.data, x6.shape, t6, true) as number;

describe.each(BACKENDS)('the boundary on %s', (backend) => {
  useBackend(backend);
  afterEach(() => setWasmMemoryLimit(256 * 2 ** 20));

  it('item 3: a Float32Array subclass whose methods call xent does not change the outer result', () => {
    const rand = rng(3);
    const N = 600, C = 37;
    const data = randomLogits(rand, N * C);
    const target = randomIndices(rand, N, C);
    const weight = Float32Array.from({ length: C }, (_, c) => 0.5 + (c % 5) / 4);
    const want = crossEntropyWithGrad({ data, shape: [N, C] }, target, { weight });
    let inner = 0;
    const reenter = () => { inner++; crossEntropyWithGrad({ data: Float32Array.of(9, -9, 3, 2), shape: [1, 4] }, [1], { weight: [100, 0.01, 7, 7] }); };
    class Sneaky extends Float32Array {
      override set(...args: Parameters<Float32Array['set']>): void { reenter(); super.set(...args); }
      override subarray(begin?: number, end?: number): Float32Array { reenter(); return super.subarray(begin, end); }
      override fill(...args: Parameters<Float32Array['fill']>): this { reenter(); return super.fill(...args); }
    }
    setWasmMemoryLimit(65536); // many chunks: state written once per call would be overwritten between them
    const out = new Sneaky(N * C);
    const got = crossEntropyWithGrad({ data: Sneaky.from(data), shape: [N, C] }, target, { weight: Sneaky.from(weight), out });
    expect(got.loss).toBe(want.loss);
    expectSameBits(out, want.grad, 'grad');
    expect(got.grad).toBe(out);
    expect(inner).toBe(0); // xent never called a method of the caller's arrays
  });

  it('item 4: every argument is read exactly once (getters returning other arrays each time)', () => {
    const good = Int32Array.from(t6);
    const want = crossEntropy64(x6.data, [6, 3], t6, true, { weight: [1, 2, 3] }) as number;
    for (const check of ['off', 'warn'] as const) {
      const reads = { input: 0, target: 0, weight: 0, shape: 0 };
      const input = {
        get data() { return reads.input++ ? new Float32Array(3) : x6.data; },
        get shape() { return reads.shape++ ? [1, 3] : [6, 3]; },
      };
      const target = { get data() { return reads.target++ ? Int32Array.of(0, 1) : good; }, shape: [6] };
      const options = { check, get weight() { return reads.weight++ ? Float32Array.of(9, 9) : Float32Array.of(1, 2, 3); } };
      const { loss } = crossEntropyWithGrad(input, target, options);
      expectClose(loss as number, want, TOL.loss, `loss, check ${check}`);
      expect(reads).toEqual({ input: 1, target: 1, weight: 1, shape: 1 });
    }
  });

  describe('item 5: outputs that overlap inputs', () => {
    it('a partial overlap of out with the logits is a RangeError; exact aliasing (in place) still works', () => {
      const buf = Float32Array.from({ length: 19 }, (_, i) => Math.cos(i) * 2);
      const copy = buf.slice();
      expectRefused(() => crossEntropyWithGrad({ data: buf.subarray(0, 18), shape: [6, 3] }, t6, { out: buf.subarray(1) }),
        RangeError, /options.out overlaps input.data .*except exactly/);
      expectSameBits(buf, copy, 'the caller\'s array after the refusal');
      expectRefused(() => logSoftmax({ data: buf.subarray(0, 18), shape: [6, 3] }, { out: buf.subarray(1) }), RangeError, 'options.out overlaps input.data');
      expectRefused(() => softmax({ data: buf.subarray(1), shape: [6, 3] }, { out: buf.subarray(0, 18) }), RangeError, 'options.out overlaps input.data');
      expectRefused(() => logSumExp({ data: buf.subarray(0, 18), shape: [6, 3] }, { out: buf.subarray(0, 6) }), RangeError, 'options.out overlaps input.data');
      expectSameBits(buf, copy, 'the caller\'s array after the refusals');
      // exactly in place: documented, and equal to the copying call
      const x = buf.slice(0, 18);
      const want = crossEntropyWithGrad({ data: x.slice(), shape: [6, 3] }, t6);
      const got = crossEntropyWithGrad({ data: x, shape: [6, 3] }, t6, { out: x });
      expect(got.grad).toBe(x);
      expectSameBits(x, want.grad, 'in place');
      const y = buf.slice(0, 18);
      expectSameBits(logSoftmax({ data: y, shape: [6, 3] }, { out: y }), logSoftmax({ data: buf.slice(0, 18), shape: [6, 3] }), 'logSoftmax in place');
    });

    it('out may not overlap a probability target, the weight or gradOutput', () => {
      const rand = rng(5);
      const probs = randomProbs(rand, 6, 3, 1);
      const buf = new Float32Array(40);
      buf.set(probs, 1);
      expectRefused(() => crossEntropyWithGrad(x6, { data: buf.subarray(1, 19), shape: [6, 3] }, { out: buf.subarray(0, 18) }), RangeError, 'options.out overlaps target.data');
      const w = new Float32Array(21).fill(1);
      expectRefused(() => crossEntropyWithGrad(x6, t6, { weight: w.subarray(0, 3), out: w.subarray(2, 20) }), RangeError, 'options.out overlaps options.weight');
      const g = new Float32Array(24).fill(1);
      expectRefused(() => crossEntropyWithGrad(x6, t6, { reduction: 'none', gradOutput: g.subarray(0, 6), out: g.subarray(4, 22) }), RangeError, 'options.out overlaps options.gradOutput');
      // the BCE gradient: out over the target
      const b = new Float32Array(12);
      expectRefused(() => binaryCrossEntropyWithLogitsWithGrad({ data: Float32Array.of(1, 2, 3, 4, 5, 6), shape: [6] }, { data: b.subarray(0, 6), shape: [6] }, { out: b.subarray(3, 9) }),
        RangeError, 'options.out overlaps target.data');
    });

    it('out and a probability target side by side in one allocFloat32 block: right, bit for bit', () => {
      const rand = rng(6);
      const probs = randomProbs(rand, 6, 3, 1);
      const want = crossEntropyWithGrad(x6, { data: probs, shape: [6, 3] });
      const block = allocFloat32(36);
      try {
        block.data.set(probs, 18);
        const got = crossEntropyWithGrad(x6, { data: block.data.subarray(18), shape: [6, 3] }, { out: block.data.subarray(0, 18) });
        expect(got.loss).toBe(want.loss);
        expectSameBits(block.data.subarray(0, 18), want.grad, 'grad');
        expectSameBits(block.data.subarray(18), probs, 'the target is left as it was');
        expectRefused(() => crossEntropyWithGrad(x6, { data: block.data.subarray(18), shape: [6, 3] }, { out: block.data.subarray(10, 28) }), RangeError, 'options.out overlaps target.data');
      } finally {
        block.free();
      }
    });
  });

  it('item 12: nothing loops over an axis the data does not have; absurd dims are a RangeError', () => {
    expect(crossEntropy({ data: new Float32Array(0), shape: [0, 2 ** 31 - 1] }, [], { reduction: 'sum' })).toBe(0);
    expect(crossEntropyWithGrad({ data: new Float32Array(0), shape: [0, 2 ** 31 - 1] }, [], { reduction: 'sum' }).loss).toBe(0);
    expectRefused(() => crossEntropy({ data: new Float32Array(0), shape: [0, 2 ** 53 - 1] }, [], { reduction: 'sum' }),
      RangeError, `input.shape[1]: ${2 ** 53 - 1} is larger than 2147483647`);
    expectRefused(() => logSumExp({ data: new Float32Array(0), shape: [2 ** 40, 0] }), RangeError, 'input.shape[0]');
  });

  it('item 13: a null target.data is named; holes in a weight array are refused', () => {
    expectRefused(() => crossEntropy(x6, { data: null, shape: [6] } as never), TypeError, 'target.data: expected Float32Array (probabilities) or an integer typed array');
    // eslint-disable-next-line no-sparse-arrays
    expectRefused(() => crossEntropy(x6, t6, { weight: [1, , 1] }), TypeError, 'options.weight[1]: expected a number, got undefined (a hole');
    expectRefused(() => crossEntropy(x6, t6, { weight: [1, '2', 1] as never }), TypeError, 'options.weight[1]: expected a number, got string "2"');
    // eslint-disable-next-line no-sparse-arrays
    expectRefused(() => crossEntropy(x6, [0, , 2, 0, 1, 2] as never), TypeError, 'target[1] = undefined is not an integer class index');
  });

  it('item 14: a Proxy around a typed array is refused, naming the argument', () => {
    const proxy = new Proxy(new Float32Array(18), {});
    expectRefused(() => crossEntropy({ data: proxy, shape: [6, 3] }, t6), TypeError,
      'input.data: expected a typed array, got an object posing as Float32Array (not a genuine typed array: a Proxy?)');
    expectRefused(() => crossEntropy(x6, new Proxy(Int32Array.from(t6), {}) as never), TypeError, 'target: expected a typed array, got an object posing as Int32Array');
    expectRefused(() => crossEntropyWithGrad(x6, t6, { out: new Proxy(new Float32Array(18), {}) as never }), TypeError, 'options.out: expected a typed array');
  });

  it('item 15: TypeError for the wrong kind, RangeError for a bad value', () => {
    expect(() => setWasmMemoryLimit('1e6' as never)).toThrow(TypeError);
    expect(() => setWasmMemoryLimit(null as never)).toThrow(TypeError);
    expect(() => setWasmMemoryLimit(10n ** 9n as never)).toThrow(TypeError);
    expect(() => setWasmMemoryLimit(NaN)).toThrow(RangeError);
    expect(() => setWasmMemoryLimit(1000)).toThrow(RangeError);
    expectRefused(() => crossEntropy({ data: new Float32Array(0), shape: [-1, 3] }, []), RangeError, 'input.shape[0]: expected a non-negative integer, got -1');
    expectRefused(() => crossEntropy({ data: new Float32Array(0), shape: [NaN, 3] }, []), RangeError, 'input.shape[0]: expected a finite integer, got NaN');
    expectRefused(() => crossEntropy({ data: new Float32Array(0), shape: [1.5, 3] }, []), TypeError, 'input.shape[0]: expected an integer, got number 1.5');
    expectRefused(() => crossEntropy(x6, t6, { labelSmoothing: NaN }), RangeError, 'options.labelSmoothing: expected a number in [0, 1], got NaN');
    expectRefused(() => crossEntropy(x6, t6, { temperature: NaN }), RangeError, 'options.temperature: expected a finite number > 0, got NaN');
    expectRefused(() => crossEntropy(x6, t6, { ignoreIndex: NaN }), RangeError, 'options.ignoreIndex: expected a finite integer, got NaN');
    const a = allocFloat32(4);
    a.free();
    expect(() => a.data).toThrow(new TypeError('allocFloat32: this array was freed'));
  });

  it('item 15: a view detached by memory growth is named as detached', () => {
    const a = allocFloat32(18);
    try {
      a.data.set(x6.data);
      const stale = a.data;
      const grow = allocFloat32(isWasm(backend) ? 64 * 2 ** 20 : 1); // grows the WASM memory: stale detaches
      try {
        if (isWasm(backend) && stale.length === 0) {
          expectRefused(() => crossEntropy({ data: stale, shape: [6, 3] }, t6), TypeError, 'input.data: its ArrayBuffer is detached');
        }
        expectClose(crossEntropy({ data: a.data, shape: [6, 3] }, t6) as number, want6, TOL.loss, 'the fresh view');
      } finally {
        grow.free();
      }
    } finally {
      a.free();
    }
  });

  it('item 16: a stale view after free() and a hand-built view past every block are refused', () => {
    const a = allocFloat32(18);
    const stale = a.data;
    stale.set(x6.data);
    a.free();
    const b = allocFloat32(18); // reuses a's memory on wasm
    try {
      b.data.set(Float32Array.from({ length: 18 }, (_, i) => i % 3));
      expectRefused(() => crossEntropy({ data: stale, shape: [6, 3] }, t6), TypeError, 'input.data: this allocFloat32 array was freed');
      expectRefused(() => crossEntropyWithGrad(x6, t6, { out: stale }), TypeError, 'options.out: this allocFloat32 array was freed');
      if (isWasm(backend)) {
        const buffer = b.data.buffer;
        const end = new Float32Array(buffer, buffer.byteLength - 12, 3); // the last 12 bytes: the kernels read 16
        expectRefused(() => crossEntropy({ data: end, shape: [3] }, 0), RangeError, /input.data: a view of xent's WASM memory .* outside every live allocFloat32 array/);
        // a subarray of a live block is fine
        const want = crossEntropy64(b.data.subarray(3, 9), [2, 3], [1, 2], true) as number;
        expectClose(crossEntropy({ data: b.data.subarray(3, 9), shape: [2, 3] }, [1, 2]) as number, want, TOL.loss, 'subarray of a block');
      }
    } finally {
      b.free();
    }
  });
});
