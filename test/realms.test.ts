// Typed arrays from another realm (node:vm here; an iframe or jsdom elsewhere) are genuine typed arrays:
// accepted by their brand, with the results of this realm's arrays, bit for bit (issue 11, item 14).
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad, logSoftmax, binaryCrossEntropyWithLogits } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectSameBits } from './helpers/close.ts';

describe.each(BACKENDS)('arrays from another realm on %s', (backend) => {
  useBackend(backend);

  it('are accepted as inputs, targets, weights and outputs, with identical results', () => {
    const data = Float32Array.from({ length: 18 }, (_, i) => Math.sin(i) * 3);
    const target = Int32Array.of(0, 1, 2, 0, 1, 2);
    const weight = Float32Array.of(1, 2, 0.5);
    const other = runInNewContext('({ data: new Float32Array(d), target: new Int32Array(t), big: new BigInt64Array(t.length), weight: new Float32Array(w), out: new Float32Array(18) })',
      { d: [...data], t: [...target], w: [...weight] }) as { data: Float32Array; target: Int32Array; big: BigInt64Array; weight: Float32Array; out: Float32Array };
    expect(other.data instanceof Float32Array).toBe(false); // really another realm's
    other.big.set(runInNewContext('new BigInt64Array([0n, 1n, 2n, 0n, 1n, 2n])') as BigInt64Array);
    const want = crossEntropyWithGrad({ data, shape: [6, 3] }, target, { weight });
    const got = crossEntropyWithGrad({ data: other.data, shape: [6, 3] }, other.target, { weight: other.weight, out: other.out });
    expect(got.loss).toBe(want.loss);
    expect(got.grad).toBe(other.out);
    expectSameBits(new Float32Array(other.out), want.grad, 'grad');
    expect(crossEntropy({ data: other.data, shape: [6, 3] }, other.big)).toBe(crossEntropy({ data, shape: [6, 3] }, target));
    expectSameBits(logSoftmax({ data: other.data, shape: [6, 3] }), logSoftmax({ data, shape: [6, 3] }), 'logSoftmax');
    expect(binaryCrossEntropyWithLogits(other.data, other.data)).toBe(binaryCrossEntropyWithLogits(data, data));
  });

  it('a look-alike from another realm is refused with a message that does not contradict itself', () => {
    const proxy = runInNewContext('new Proxy(new Float32Array(18), {})');
    expect(() => crossEntropy({ data: proxy, shape: [6, 3] }, [0, 1, 2, 0, 1, 2])).toThrow(
      new TypeError('input.data: expected a typed array, got an object posing as Float32Array (not a genuine typed array: a Proxy?)'));
  });
});
