// logSoftmaxBackward, softmaxBackward, logSumExpBackward, softmin, 0-d inputs of the softmax family and
// nllLossWithGrad against PyTorch (test/fixtures/torch-backward.json, written by gen_backward.py: float64 on
// the float32 inputs, torch._*_backward_data and autograd), on every backend, with every spelling of dim; the
// backward ops also against central differences of float64 references written here, independent of src/.
// logSumExpBackward also with options.result (the forward's result, as autograd saves it).
// Also: options.out is used and returned, the inputs are never written, a gradOutput of the wrong shape is a
// RangeError and a non-tensor a TypeError, and softmin is bit for bit softmax of the negated input.
import { describe, expect, it } from 'vitest';
import {
  logSoftmax, logSoftmaxBackward, logSumExp, logSumExpBackward, nllLossWithGrad, softmax, softmaxBackward, softmin,
} from '../src/index.ts';
import fx from './fixtures/torch-backward.json';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, expectSameBits, TOL } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';
import { randn, randomLogits, rng } from './helpers/random.ts';
import { expectRefused } from './helpers/refused.ts';

type Enc = { dtype: string; b64: string };
type Tensor = { data: Float32Array; shape: number[] };
type Reduction = 'mean' | 'sum' | 'none';

const raw = (fx as { cases: Array<Record<string, any>> }).cases;
const tensorOf = (t: { shape: number[]; data: Enc }): Tensor => ({ data: decodeArray(t.data) as Float32Array, shape: t.shape });
// float64 expectations (losses, 0-d logsumexp) as a float32 computation should give them
const values = (e: Enc) => Array.from(decodeArray(e) as Float32Array | Float64Array, Math.fround);
/** The fixture's dims: null is the option left out (the last axis). */
const dimOption = (dim: number | null) => (dim === null ? {} : { dim });
/** A 1-D tensor also as a bare Float32Array, on every other call. */
const spelled = (t: Tensor, k: number) => (t.shape.length === 1 && k % 2 === 1 ? t.data : t);

const BACKWARD = { log_softmax_backward: logSoftmaxBackward, softmax_backward: softmaxBackward, logsumexp_backward: logSumExpBackward };
const backwardCases = raw.filter((c) => c.op in BACKWARD).map((c) => ({
  name: c.name as string,
  fn: BACKWARD[c.op as keyof typeof BACKWARD],
  dims: c.dims as Array<number | null>,
  gradOutput: tensorOf(c.gradOutput),
  // the forward's output (log_softmax, softmax) or its input (logsumexp)
  second: tensorOf(c.output ?? c.input),
  want: values(c.expected),
  // logsumexp: the float32 forward's result, and g exp(x - result) at it (options.result)
  result: c.result ? tensorOf(c.result) : null,
  wantGiven: c.expectedGiven ? values(c.expectedGiven) : null,
}));

const FORWARD = { softmax, log_softmax: logSoftmax, logsumexp: logSumExp, softmin };
const FORWARD_TOL = { softmax: TOL.softmax, log_softmax: TOL.logSoftmax, logsumexp: TOL.loss, softmin: TOL.softmax };
const forwardCases = raw.filter((c) => c.op in FORWARD).map((c) => ({
  name: c.name as string,
  fn: FORWARD[c.op as keyof typeof FORWARD],
  tol: FORWARD_TOL[c.op as keyof typeof FORWARD],
  dims: c.dims as Array<number | null>,
  input: tensorOf(c.input),
  want: values(c.expected),
}));

const nllCases = raw.filter((c) => c.op === 'nll_loss').map((c, i) => {
  const t = decodeArray(c.target.data) as BigInt64Array;
  const shape = c.target.shape as number[];
  // each target spelling in turn: number[] (a bare number when unbatched), Int32Array, BigInt64Array, a tensor
  const forms = [
    () => (shape.length === 0 ? Number(t[0]) : Array.from(t, Number)),
    () => Int32Array.from(t, Number),
    () => t,
    () => ({ data: Int32Array.from(t, Number), shape }),
  ];
  return {
    name: c.name as string,
    input: tensorOf(c.input),
    target: forms[i % forms.length](),
    options: {
      reduction: c.options.reduction as Reduction,
      ...(c.options.weight ? { weight: decodeArray(c.options.weight) as Float32Array } : {}),
      ...(c.options.ignoreIndex !== null ? { ignoreIndex: c.options.ignoreIndex as number } : {}),
      gradOutput: typeof c.gradOutput === 'number' ? c.gradOutput : (decodeArray(c.gradOutput) as Float32Array),
    },
    loss: values(c.expected.loss),
    grad: values(c.expected.grad),
  };
});

// ---------------------------------------------------------------------------------------------
// float64 references, along any axis of a row-major shape read as (N, C, S) around it

function around(shape: readonly number[], dim: number) {
  const s = shape.length ? shape : [1]; // a 0-d tensor is one row of one
  const d = ((dim % s.length) + s.length) % s.length;
  const prod = (a: readonly number[]) => a.reduce((p, v) => p * v, 1);
  return {
    N: prod(s.slice(0, d)), C: s[d], S: prod(s.slice(d + 1)),
    reduced: shape.filter((_, i) => i !== d), kept: shape.map((v, i) => (i === d ? 1 : v)),
  };
}

function logSumExp64(x: ArrayLike<number>, shape: readonly number[], dim: number): Float64Array {
  const { N, C, S } = around(shape, dim);
  const r = new Float64Array(N * S);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, x[(n * C + c) * S + s]);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(x[(n * C + c) * S + s] - m);
      r[n * S + s] = m + Math.log(sum);
    }
  }
  return r;
}

function logSoftmax64(x: ArrayLike<number>, shape: readonly number[], dim: number): Float64Array {
  const { C, S } = around(shape, dim);
  const lse = logSumExp64(x, shape, dim);
  return Float64Array.from(x, (v, i) => v - lse[Math.floor(i / (C * S)) * S + (i % S)]);
}

const softmax64 = (x: ArrayLike<number>, shape: readonly number[], dim: number) => logSoftmax64(x, shape, dim).map(Math.exp);

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** d objective / dx by central differences in float64. */
function centralDifferences(x: Float32Array, objective: (xs: Float64Array) => number): Float64Array {
  const xs = Float64Array.from(x);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const h = 1e-5 * Math.max(1, Math.abs(xs[i]));
    const v = xs[i];
    xs[i] = v + h;
    const up = objective(xs);
    xs[i] = v - h;
    const down = objective(xs);
    xs[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

// the float32 results against float64 differences: loose, but far below any wrong formula's error
const FD_TOL = { rtol: 1e-3, atol: 1e-5 };
const FD_CASES: Array<[shape: number[], dim: number]> = [[[6], -1], [[3, 5], -1], [[3, 5], 0], [[2, 4, 3], 1], [[2, 4, 3], -3], [[], 0]];

/** Both shapes, and the argument, named in a refusal (in any order). */
const naming = (...parts: string[]) => new RegExp(parts.map((p) => `(?=[\\s\\S]*${p.replace(/[[\]]/g, '\\$&')})`).join(''));

describe.each(BACKENDS)('backward ops, softmin and nllLossWithGrad on %s', (backend) => {
  useBackend(backend);

  it(`${backwardCases.length} PyTorch cases of logSoftmaxBackward, softmaxBackward, logSumExpBackward, each dim spelling`, () => {
    expect(backwardCases.length).toBe(26);
    for (const c of backwardCases) {
      c.dims.forEach((dim, k) => {
        const got = c.fn(spelled(c.gradOutput, k), spelled(c.second, k), dimOption(dim));
        expect(got).toBeInstanceOf(Float32Array);
        expectClose(got, c.want, TOL.grad, `${c.name} (dim ${dim})`);
      });
    }
  });

  it('logSumExpBackward with options.result, the float32 forward\'s result as PyTorch saves it: g * exp(x - result)', () => {
    const given = backwardCases.filter((c) => c.result);
    expect(given.length).toBe(10);
    for (const c of given) {
      c.dims.forEach((dim, k) => {
        const got = logSumExpBackward(spelled(c.gradOutput, k), spelled(c.second, k), { ...dimOption(dim), result: spelled(c.result!, k) });
        expectClose(got, c.wantGiven!, TOL.grad, `${c.name} (dim ${dim}), result given`);
      });
    }
  });

  it(`${forwardCases.length} PyTorch cases of softmin, and of 0-d softmax, logSoftmax, logSumExp, softmin`, () => {
    expect(forwardCases.length).toBe(27);
    for (const c of forwardCases) {
      c.dims.forEach((dim, k) => expectClose(c.fn(spelled(c.input, k), dimOption(dim)), c.want, c.tol, `${c.name} (dim ${dim})`));
    }
  });

  it(`${nllCases.length} PyTorch cases of nllLossWithGrad: loss and gradient, weights, ignoreIndex, every reduction`, () => {
    expect(nllCases.length).toBe(74);
    for (const c of nllCases) {
      const { loss, grad } = nllLossWithGrad(c.input, c.target, c.options);
      expect(typeof loss === 'number').toBe(c.options.reduction !== 'none');
      expectClose(loss, c.loss, TOL.loss, `${c.name} loss`);
      expectClose(grad, c.grad, TOL.grad, `${c.name} grad`);
    }
  });

  describe('against central differences of float64 references', () => {
    for (const [shape, dim] of FD_CASES) {
      it(`${JSON.stringify(shape)} dim ${dim}`, () => {
        const rand = rng(shape.length * 31 + dim + 7);
        const { N, S, reduced, kept } = around(shape, dim);
        const x = randomLogits(rand, shape.reduce((p, v) => p * v, 1), 2);
        const g = Float32Array.from(x, () => randn(rand));
        const gReduced = Float32Array.from({ length: N * S }, () => randn(rand));
        const input = { data: x, shape };
        const grad = { data: g, shape };

        const lsm = logSoftmaxBackward(grad, { data: logSoftmax(input, { dim }), shape }, { dim });
        expectClose(lsm, centralDifferences(x, (xs) => dot(g, logSoftmax64(xs, shape, dim))), FD_TOL, 'logSoftmaxBackward');
        const sm = softmaxBackward(grad, { data: softmax(input, { dim }), shape }, { dim });
        expectClose(sm, centralDifferences(x, (xs) => dot(g, softmax64(xs, shape, dim))), FD_TOL, 'softmaxBackward');
        const lse = logSumExpBackward({ data: gReduced, shape: reduced }, input, { dim });
        expectClose(lse, centralDifferences(x, (xs) => dot(gReduced, logSumExp64(xs, shape, dim))), FD_TOL, 'logSumExpBackward');
        // keepdim's gradOutput shape is accepted too, with the same result
        expectSameBits(logSumExpBackward({ data: gReduced, shape: kept }, input, { dim }), lse, 'logSumExpBackward, kept dim');
        // and the forward's result, in either shape
        const result = logSumExp(input, { dim });
        const given = logSumExpBackward({ data: gReduced, shape: reduced }, input, { dim, result: { data: result, shape: reduced } });
        expectClose(given, centralDifferences(x, (xs) => dot(gReduced, logSumExp64(xs, shape, dim))), FD_TOL, 'logSumExpBackward, result given');
        expectSameBits(logSumExpBackward({ data: gReduced, shape: kept }, input, { dim, result: { data: result, shape: kept } }), given, 'result given, kept dim');
      });
    }
  });

  it('writes into options.out and returns it, and never writes its inputs', () => {
    const rand = rng(11);
    const shape = [3, 5];
    const x = randomLogits(rand, 15, 2);
    const g = Float32Array.from(x, () => randn(rand));
    const g3 = Float32Array.from({ length: 3 }, () => randn(rand));
    const logp = logSoftmax({ data: x, shape });
    const p = softmax({ data: x, shape });
    const lse3 = logSumExp({ data: x, shape });
    const target = Int32Array.of(4, -100, 0);
    const weight = Float32Array.of(0.5, 1, 1.5, 2, 0.25);
    const calls: Array<[name: string, inputs: Float32Array[], call: (out?: Float32Array) => Float32Array]> = [
      ['logSoftmaxBackward', [g, logp], (out) => logSoftmaxBackward({ data: g, shape }, { data: logp, shape }, { out })],
      ['logSoftmaxBackward dim 0', [g, logp], (out) => logSoftmaxBackward({ data: g, shape }, { data: logp, shape }, { dim: 0, out })],
      ['softmaxBackward', [g, p], (out) => softmaxBackward({ data: g, shape }, { data: p, shape }, { out })],
      ['logSumExpBackward', [g3, x], (out) => logSumExpBackward({ data: g3, shape: [3] }, { data: x, shape }, { out })],
      ['logSumExpBackward, result given', [g3, x, lse3], (out) => logSumExpBackward({ data: g3, shape: [3] }, { data: x, shape }, { out, result: lse3 })],
      ['softmin', [x], (out) => softmin({ data: x, shape }, { out })],
      ['nllLossWithGrad', [logp, weight, g3], (out) =>
        nllLossWithGrad({ data: logp, shape }, target, { weight, reduction: 'none', gradOutput: g3, out }).grad],
    ];
    for (const [name, inputs, call] of calls) {
      const before = inputs.map((a) => a.slice());
      const plain = call();
      const out = new Float32Array(plain.length).fill(NaN);
      expect(call(out), name).toBe(out);
      expectSameBits(out, plain, `${name} out`);
      inputs.forEach((a, i) => expectSameBits(a, before[i], `${name} input ${i}`));
    }
    expect(Array.from(target)).toEqual([4, -100, 0]);
  });

  it('refuses a gradOutput of the wrong shape (RangeError naming both shapes) and non-tensors (TypeError)', () => {
    const t45 = { data: new Float32Array(20), shape: [4, 5] };
    const t54 = { data: new Float32Array(20), shape: [5, 4] };
    expectRefused(() => logSoftmaxBackward(t54, t45), RangeError, naming('gradOutput', '[5, 4]', '[4, 5]'));
    expectRefused(() => softmaxBackward(new Float32Array(6), new Float32Array(7)), RangeError, naming('gradOutput', '[6]', '[7]'));
    expectRefused(() => softmaxBackward({ data: new Float32Array(12), shape: [2, 6] }, { data: new Float32Array(12), shape: [3, 4] }),
      RangeError, naming('gradOutput', '[2, 6]', '[3, 4]'));
    // logsumexp's gradOutput is shaped like its result, [4] here (or keepdim's [4, 1]), not [5] nor [1, 4]
    expectRefused(() => logSumExpBackward(new Float32Array(5), t45), RangeError, /^(?=[\s\S]*gradOutput)(?=[\s\S]*\[5\])(?=[\s\S]*\[4(, 5)?\])/);
    expectRefused(() => logSumExpBackward({ data: new Float32Array(4), shape: [1, 4] }, t45), RangeError, naming('gradOutput', '[1, 4]'));
    expectRefused(() => logSumExpBackward(new Float32Array(4), t45, { dim: 0 }), RangeError, naming('gradOutput', '[4]'));
    // options.result is shaped like gradOutput may be; it is a tensor; out may not be it
    expectRefused(() => logSumExpBackward(new Float32Array(4), t45, { result: new Float32Array(5) }), RangeError, naming('options.result', '[5]', '[4]'));
    expectRefused(() => logSumExpBackward(new Float32Array(4), t45, { result: [1, 2, 3, 4] as never }), TypeError, /options\.result/);
    const r4 = new Float32Array(4);
    expectRefused(() => logSumExpBackward(new Float32Array(4), { data: new Float32Array(4), shape: [4, 1] }, { result: r4, out: r4 }), RangeError, /options\.result/);
    expectRefused(() => logSoftmaxBackward(t45, t45, { result: r4 } as never), TypeError, /result/);

    expectRefused(() => logSoftmaxBackward([1, 2, 3] as never, new Float32Array(3)), TypeError, /gradOutput/);
    expectRefused(() => logSoftmaxBackward({ data: new Float64Array(3), shape: [3] } as never, new Float32Array(3)), TypeError, /gradOutput/);
    expectRefused(() => softmaxBackward(new Float32Array(3), 'probs' as never), TypeError, /\boutput/);
    expectRefused(() => logSumExpBackward(new Float32Array(1), null as never), TypeError, /\binput/);
    expectRefused(() => softmin(42 as never), TypeError, /\binput/);
  });

  it('softmin is bit for bit softmax of the negated input, infinities and large magnitudes included', () => {
    const rand = rng(5);
    for (const [shape, dim] of [[[7], -1], [[4, 9], -1], [[4, 9], 0], [[3, 6, 2], 1], [[2, 1000], -1], [[], 0]] as const) {
      const x = randomLogits(rand, shape.reduce((p: number, v: number) => p * v, 1), 3);
      if (x.length > 20) x.set([Infinity, -Infinity, 3e38, -3e38, 1e4, -Infinity], 3);
      const neg = x.map((v) => -v);
      expectSameBits(softmin({ data: x, shape: [...shape] }, { dim }), softmax({ data: neg, shape: [...shape] }, { dim }), `${JSON.stringify(shape)} dim ${dim}`);
    }
  });
});
