// binaryCrossEntropyWithLogits and its gradient against PyTorch's binary_cross_entropy_with_logits
// (test/fixtures/torch-llm.json, "op": "bce", float64 with autograd), on both backends.
import { describe, expect, it } from 'vitest';
import { binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsWithGrad } from '../src/index.ts';
import llm from './fixtures/torch-llm.json';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';

const cases = (llm as { cases: Array<Record<string, any>> }).cases.filter((c) => c.op === 'bce').map((c) => ({
  name: c.name as string,
  input: { data: decodeArray(c.input.data) as Float32Array, shape: c.input.shape as number[] },
  target: { data: decodeArray(c.target.data) as Float32Array, shape: c.target.shape as number[] },
  options: {
    weight: c.options.weight ? { data: decodeArray(c.options.weight.data) as Float32Array, shape: c.options.weight.shape as number[] } : undefined,
    posWeight: c.options.posWeight ? (decodeArray(c.options.posWeight) as Float32Array) : undefined,
    reduction: c.options.reduction as 'mean' | 'sum' | 'none',
  },
  gradOutput: Array.from(decodeArray(c.gradOutput)),
  out64: Array.from(decodeArray(c.expected.out64), Math.fround),
  grad64: Array.from(decodeArray(c.expected.grad64), Math.fround),
}));

const asArray = (v: number | Float32Array) => (typeof v === 'number' ? [v] : Array.from(v));

describe.each(BACKENDS)('binaryCrossEntropyWithLogits on %s', (backend) => {
  useBackend(backend);

  it(`${cases.length} PyTorch cases: loss and gradient, weights broadcast, pos_weight`, () => {
    expect(cases.length).toBeGreaterThan(50);
    for (const c of cases) {
      expectClose(asArray(binaryCrossEntropyWithLogits(c.input, c.target, c.options)), c.out64, TOL.loss, `${c.name} loss`);
      const gradOutput = c.options.reduction === 'none' ? Float32Array.from(c.gradOutput) : c.gradOutput[0];
      const r = binaryCrossEntropyWithLogitsWithGrad(c.input, c.target, { ...c.options, gradOutput });
      expectClose(asArray(r.loss), c.out64, TOL.loss, `${c.name} loss (with grad)`);
      expectClose(r.grad, c.grad64, TOL.grad, `${c.name} grad`);
    }
  });

  it('is stable where the naive formula is not, and checks its arguments', () => {
    // -log(sigmoid(-100)) overflows naively; the stable form gives 100 exactly
    expect(binaryCrossEntropyWithLogits(Float32Array.of(100), Float32Array.of(0))).toBe(100);
    expect(binaryCrossEntropyWithLogits(Float32Array.of(-100), Float32Array.of(1))).toBe(100);
    const x = { data: new Float32Array(6), shape: [2, 3] };
    expect(() => binaryCrossEntropyWithLogits(x, { data: new Float32Array(6), shape: [3, 2] })).toThrow(
      new RangeError("target: expected the input's shape [2, 3], got [3, 2]"));
    expect(() => binaryCrossEntropyWithLogits(x, new Float32Array(6), { posWeight: new Float32Array(2) })).toThrow(
      new RangeError('options.posWeight: expected 3 values (the last axis), got 2'));
    expect(() => binaryCrossEntropyWithLogits(x, new Float32Array(6), { weight: { data: new Float32Array(2), shape: [2] } })).toThrow(RangeError);
    expect(() => binaryCrossEntropyWithLogits(x, new Float32Array(6), { reduction: 'avg' as never })).toThrow(TypeError);
    const inPlace = Float32Array.of(0.5, -1, 2, 0, 3, -2);
    const want = binaryCrossEntropyWithLogitsWithGrad({ data: inPlace.slice(), shape: [2, 3] }, new Float32Array(6).fill(0.3)).grad;
    binaryCrossEntropyWithLogitsWithGrad({ data: inPlace, shape: [2, 3] }, new Float32Array(6).fill(0.3), { out: inPlace });
    expect(inPlace).toEqual(want);
  });
});

describe.each(BACKENDS)('binaryCrossEntropyWithLogits options as number[] on %s', (backend) => {
  useBackend(backend);

  it('weight and posWeight as number[] give the bits of their Float32Array forms; a non-number is named', () => {
    const shape = [3, 4], x = { data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 3), shape };
    const y = { data: Float32Array.from({ length: 12 }, (_, i) => (i % 4) / 3), shape };
    const w = [0.5, 1, 2, 0.25], pw = [1, 3, 0.5, 2];
    const want = binaryCrossEntropyWithLogitsWithGrad(x, y, { weight: Float32Array.from(w), posWeight: Float32Array.from(pw), reduction: 'none' });
    const got = binaryCrossEntropyWithLogitsWithGrad(x, y, { weight: w, posWeight: pw, reduction: 'none' });
    expect(Array.from(got.loss as Float32Array)).toEqual(Array.from(want.loss as Float32Array));
    expect(Array.from(got.grad)).toEqual(Array.from(want.grad));
    expect(() => binaryCrossEntropyWithLogits(x, y, { posWeight: [1, '2', 3, 4] as never })).toThrow(
      new TypeError('options.posWeight[1]: expected a number, got string "2"'));
    expect(() => binaryCrossEntropyWithLogits(x, y, { weight: [1, 2, 3] })).toThrow(RangeError);
  });
});
