// onnxruntime / transformers.js tensors ({ data, dims, type }) are read as { data, shape, dtype }: each
// function gives the same bits as with the plain form, float16 ids and int64 targets included, and the
// tensor's getters are read once.
import { describe, expect, it } from 'vitest';
import * as xent from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectSameBits } from './helpers/close.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';
import { toHalfBits } from './reference/xent64.ts';

/** An onnxruntime-like Tensor: `data` a getter on the prototype (it is in onnxruntime-web), counted. */
class OrtLikeTensor {
  reads = 0;
  constructor(private readonly values: ArrayBufferView, readonly dims: readonly number[], readonly type: string) {}
  get data() {
    this.reads++;
    return this.values;
  }
}

const f32 = (v: number | Float32Array) => (typeof v === 'number' ? Float32Array.of(v) : v);

describe.each(BACKENDS)('tensor-likes on %s', (backend) => {
  useBackend(backend);
  const rand = rng(2024);
  const B = 2, T = 5, V = 11;
  const x = randomLogits(rand, B * T * V), ids = randomIndices(rand, B * T, V);
  const ids64 = BigInt64Array.from(ids, (v) => BigInt(v));

  it('crossEntropy, crossEntropyWithGrad, tokenLogProbs, tokenStats, perplexity take { data, dims, type }', () => {
    const plain = { data: x, shape: [B * T, V] }, ort = new OrtLikeTensor(x, [B * T, V], 'float32');
    const target = new OrtLikeTensor(ids64, [B * T], 'int64');
    expectSameBits(f32(xent.crossEntropy(ort as never, target as never) as number), f32(xent.crossEntropy(plain, ids) as number));
    expect([ort.reads, target.reads]).toEqual([1, 1]);
    const g = xent.crossEntropyWithGrad(ort as never, target as never, { reduction: 'none' });
    const want = xent.crossEntropyWithGrad(plain, ids, { reduction: 'none' });
    expectSameBits(g.loss as Float32Array, want.loss as Float32Array);
    expectSameBits(g.grad, want.grad);
    expectSameBits(xent.tokenLogProbs(ort as never, target as never), xent.tokenLogProbs(plain, ids));
    expectSameBits(xent.tokenStats(ort as never, target as never).entropy, xent.tokenStats(plain, ids).entropy);
    expect(xent.perplexity(ort as never, target as never)).toBe(xent.perplexity(plain, ids));
  });

  it("float16 logits as onnxruntime returns them: Uint16Array bits with type 'float16'", () => {
    const bits = toHalfBits(x);
    const ort = { data: bits, dims: [B * T, V], type: 'float16' };
    const plain = { data: bits, shape: [B * T, V], dtype: 'float16' as const };
    expectSameBits(f32(xent.crossEntropy(ort, ids) as number), f32(xent.crossEntropy(plain, ids) as number));
    // the same bits read as float32 would be another loss: the type was honoured
    expect(xent.crossEntropy(ort, ids)).not.toBe(xent.crossEntropy({ data: x, shape: [B * T, V] }, ids));
  });

  it('the softmax family, BCE and klDiv take them too; a bad dims is named', () => {
    const ort = { data: x, dims: [B, T, V], type: 'float32' }, plain = { data: x, shape: [B, T, V] };
    expectSameBits(xent.logSoftmax(ort), xent.logSoftmax(plain));
    expectSameBits(xent.logSumExp(ort, { dim: 1 }), xent.logSumExp(plain, { dim: 1 }));
    const y = new Float32Array(x.length).map((_, i) => (i % 3) / 2);
    const yt = { data: y, dims: [B, T, V], type: 'float32' };
    expectSameBits(f32(xent.binaryCrossEntropyWithLogits(ort, yt) as number), f32(xent.binaryCrossEntropyWithLogits(plain, { data: y, shape: [B, T, V] }) as number));
    const lp = xent.logSoftmax(plain), p = xent.softmax(plain);
    expectSameBits(f32(xent.klDiv({ data: lp, dims: [B, T, V] }, { data: p, dims: [B, T, V] }) as number), f32(xent.klDiv({ data: lp, shape: [B, T, V] }, { data: p, shape: [B, T, V] }) as number));
    expect(() => xent.logSoftmax({ data: x, dims: [B, T, V + 1] })).toThrow(new RangeError(`input.data has ${x.length} elements but input.shape [2, 5, 12] needs 120`));
    expect(() => xent.logSoftmax({ data: x, dims: 'abc' } as never)).toThrow(TypeError);
  });
});
