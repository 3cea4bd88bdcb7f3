// causalLMLoss(WithGrad) against Hugging Face transformers' ForCausalLMLoss written in torch ops
// (test/fixtures/torch-causal.json, from gen_causal.py: float64, autograd), on every backend: mean, sum,
// none ([B, T - 1]), numItemsInBatch, label smoothing, [T, V] logits, float16 logits, a batch with nothing
// to predict; and how it refuses bad labels.
import { describe, expect, it } from 'vitest';
import { causalLMLoss, causalLMLossWithGrad, crossEntropy } from '../src/index.ts';
import causal from './fixtures/torch-causal.json';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';

const cases = (causal as { cases: Array<Record<string, any>> }).cases.map((c) => ({
  name: c.name as string,
  input: c.input.dtype === 'float16'
    ? { data: decodeArray(c.input.data) as Uint16Array, shape: c.input.shape as number[], dtype: 'float16' as const }
    : { data: decodeArray(c.input.data) as Float32Array, shape: c.input.shape as number[] },
  labels: { data: decodeArray(c.labels.data) as BigInt64Array, shape: c.labels.shape as number[] },
  options: c.options as { reduction?: 'mean' | 'sum' | 'none'; numItemsInBatch?: number; labelSmoothing?: number },
  gradOutput: Array.from(decodeArray(c.gradOutput)),
  out64: Array.from(decodeArray(c.expected.out64), Math.fround),
  grad: Array.from(decodeArray(c.expected.grad)),
}));

const asArray = (v: number | Float32Array) => (typeof v === 'number' ? [v] : Array.from(v));

describe.each(BACKENDS)('causalLMLoss on %s', (backend) => {
  useBackend(backend);

  it(`${cases.length} cases of transformers' ForCausalLMLoss: loss and gradient`, () => {
    expect(cases.length).toBe(20);
    for (const c of cases) {
      expectClose(asArray(causalLMLoss(c.input, c.labels, c.options)), c.out64, TOL.loss, `${c.name} loss`);
      const gradOutput = c.options.reduction === 'none' ? Float32Array.from(c.gradOutput) : c.gradOutput[0];
      const r = causalLMLossWithGrad(c.input, c.labels, { ...c.options, gradOutput });
      expectClose(asArray(r.loss), c.out64, TOL.loss, `${c.name} loss with grad`);
      expectClose(r.grad, c.grad, TOL.grad, `${c.name} grad`);
      // the gradient is 0 at each sequence's last position, which predicts nothing
      const V = c.input.shape[c.input.shape.length - 1], T = c.input.shape[c.input.shape.length - 2];
      for (let i = 0; i < r.grad.length; i += T * V) expect(r.grad.subarray(i + (T - 1) * V, i + T * V).every((g) => g === 0)).toBe(true);
    }
  });

  it('is crossEntropy over the shifted labels, read classes last; labels in every integer form', () => {
    const [B, T, V] = [2, 4, 6];
    const x = { data: Float32Array.from({ length: B * T * V }, (_, i) => Math.sin(i * 1.3) * 2), shape: [B, T, V] };
    const labels = [1, 2, -100, 4, 5, 0, 1, 2];
    const shifted = [2, -100, 4, -100, 0, 1, 2, -100];
    const want = crossEntropy(x, { data: Int32Array.from(shifted), shape: [B, T] }, { classAxis: -1 });
    for (const l of [labels, Int32Array.from(labels), BigInt64Array.from(labels, BigInt), { data: Int32Array.from(labels), dims: [B, T], type: 'int32' }]) {
      expect(causalLMLoss(x, l)).toBe(want);
    }
  });

  it('refuses bad labels and options, naming the position and the value', () => {
    const x = { data: new Float32Array(2 * 3 * 4), shape: [2, 3, 4] };
    expect(() => causalLMLoss(x, [0, 1, 4, 0, 0, 0])).toThrow('labels[2] = 4 is out of range for a vocabulary of 4');
    expect(() => causalLMLoss(x, [0, 1, 1.5, 0, 0, 0])).toThrow(TypeError);
    expect(() => causalLMLoss(x, [0, 1, 2])).toThrow('labels: expected 6 token ids (shape [2, 3]), got 3');
    expect(() => causalLMLoss(x, { data: new Int32Array(6), shape: [3, 2] })).toThrow(RangeError);
    expect(() => causalLMLoss({ data: new Float32Array(24), shape: [24] }, [0])).toThrow(RangeError);
    expect(() => causalLMLoss(x, new Int32Array(6), { numItemsInBatch: 4, reduction: 'sum' })).toThrow(TypeError);
    expect(() => causalLMLoss(x, new Int32Array(6), { numItemsInBatch: -1 })).toThrow(RangeError);
    // sequences of no positions: nothing predicted, empty per-position results (a mean over nothing is NaN)
    const empty = { data: new Float32Array(0), shape: [2, 0, 5] };
    expect(causalLMLoss(empty, [], { reduction: 'none' })).toEqual(new Float32Array(0));
    expect(causalLMLossWithGrad(empty, [], { reduction: 'none', gradOutput: new Float32Array(0) }).loss).toEqual(new Float32Array(0));
    expect(causalLMLoss(empty, [])).toBeNaN();
    // a sequence's first label is predicted by nothing, as in transformers: it is not checked
    expect(causalLMLoss(x, [9, 1, 2, 9, 0, 0])).toBeCloseTo(Math.log(4), 6);
  });
});
