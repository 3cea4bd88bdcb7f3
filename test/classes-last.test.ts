// Classes-last logits ([..., V], language models' layout): classAxis -1 / 'last' on the crossEntropy family,
// and the LM functions, which always read the last axis as the vocabulary. Against the float64 reference of
// the same logits read as [N, V], on every backend; the errors say which layout fits the target.
import { describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad, diagnose, nllLoss, tokenLogProbs } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { TOL, expectClose } from './helpers/close.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';
import { crossEntropyRef64, tokenStats64 } from './reference/xent64.ts';

describe.each(BACKENDS)('classes last on %s', (backend) => {
  useBackend(backend);
  const [B, T, V] = [3, 7, 50];
  const N = B * T;
  const rand = rng(41);
  const data = randomLogits(rand, N * V, 3);
  const t = randomIndices(rand, N, V, -100, 0.2);
  const x = { data, shape: [B, T, V] };

  it.each([-1, 'last'] as const)('crossEntropy(WithGrad) with classAxis %s: [B, T, V] logits, [B, T] targets', (classAxis) => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const want = crossEntropyRef64(data, [N, V], t, true, { reduction, labelSmoothing: 0.1 });
      const opts = { classAxis, reduction, labelSmoothing: 0.1 };
      for (const target of [{ data: t, shape: [B, T] }, t, BigInt64Array.from(t, BigInt), Array.from(t)]) {
        expectClose(crossEntropy(x, target, opts), want.loss, TOL.loss, `${reduction} loss`);
      }
      const { loss, grad } = crossEntropyWithGrad(x, { data: t, shape: [B, T] }, opts);
      expectClose(loss, want.loss, TOL.loss, `${reduction} loss with grad`);
      expectClose(grad, want.grad, TOL.grad, `${reduction} grad`);
    }
  });

  it('probability targets of the logits\' shape, and nllLoss', () => {
    const p = new Float32Array(N * V);
    for (let n = 0; n < N; n++) for (let c = 0; c < V; c++) p[n * V + c] = ((n * 7 + c * 3) % 11) / (11 * V);
    const want = crossEntropyRef64(data, [N, V], p, false, {});
    expectClose(crossEntropy(x, { data: p, shape: [B, T, V] }, { classAxis: -1 }), want.loss, TOL.loss, 'prob');
    const logp = Float32Array.from(data, (v) => v - 5);
    const nll = crossEntropyRef64(logp, [N, V], t, true, {}, 1, true);
    expectClose(nllLoss({ data: logp, shape: [B, T, V] }, t, { classAxis: 'last' }), nll.loss, TOL.loss, 'nllLoss');
  });

  it('the LM functions read the last axis as the vocabulary at any rank', () => {
    const want = tokenStats64(data, [N, V], t, {}).logProbs;
    expectClose(tokenLogProbs(x, { data: t, shape: [B, T] }), want, TOL.loss, '[B, T, V]');
    expectClose(tokenLogProbs({ data, shape: [N, V] }, t), want, TOL.loss, '[N, V]');
    expectClose(tokenLogProbs({ data: data.subarray(0, T * V), shape: [T, V] }, t.subarray(0, T)), want.slice(0, T), TOL.loss, '[T, V]');
  });

  it('a target that fits the other layout is refused with the layout that would take it', () => {
    // the LM layout passed without classAxis
    expect(() => crossEntropy(x, { data: t, shape: [B, T] })).toThrow(
      'target: class indices must have shape [3, 50], got [3, 7]. Input [3, 7, 50] with classes on axis 1 (PyTorch\'s layout, the default) needs targets [3, 50]; with classes last it needs [3, 7], which is what you passed ([3, 7]): pass classAxis: -1',
    );
    expect(() => crossEntropy(x, t)).toThrow(/expected 150 class indices \(shape \[3, 50\]\), got 21\. .*pass classAxis: -1/);
    // PyTorch's layout passed with classAxis -1
    expect(() => crossEntropy(x, { data: new Int32Array(B * V), shape: [B, V] }, { classAxis: -1 })).toThrow(
      "target: logits [3, 7, 50] with classes last need class indices of shape [3, 7] (or probabilities of shape [3, 7, 50]), got [3, 50]; that is the shape classes on axis 1 need (PyTorch's layout, crossEntropy's default)",
    );
    expect(() => tokenLogProbs(x, { data: new Int32Array(B * V), shape: [B, V] })).toThrow(RangeError);
    expect(() => crossEntropy(x, t, { classAxis: 2 as never })).toThrow(RangeError);
    expect(() => crossEntropy(x, t, { classAxis: 'first' as never })).toThrow(TypeError);
  });

  it('diagnose reads classAxis too', () => {
    const probs = new Float32Array(N * V).fill(1 / V); // softmax output passed as logits
    const codes = diagnose({ data: probs, shape: [B, T, V] }, t, { classAxis: -1 }).map((f) => f.code);
    expect(codes).toContain('probabilities-as-logits');
  });
});
