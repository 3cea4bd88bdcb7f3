// xent on the inputs PyTorch tests its own ops with: the OpInfo sample inputs of op_db (torch 1.13) for
// cross_entropy, nll_loss, log_softmax, softmax, logsumexp, softmin, binary_cross_entropy_with_logits and kl_div,
// every variant (test/fixtures/torch-opinfo.json, written by gen_opinfo.py). On every backend, xent's forward is
// checked against torch's in float64 on the float32 inputs, and xent's gradient (the loss's WithGrad, or the
// backward op applied to xent's own forward) against autograd's d(sum(out * gradOutput))/d(input) in float64.
// The samples xent cannot express are pinned here, with their reasons, as the fixture lists them.
import { describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsWithGrad, crossEntropy, crossEntropyWithGrad, klDiv, klDivWithGrad,
  logSoftmax, logSoftmaxBackward, logSumExp, logSumExpBackward, nllLoss, nllLossWithGrad, softmax, softmaxBackward, softmin,
} from '../src/index.ts';
import fx from './fixtures/torch-opinfo.json';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL, type Tolerance } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';

type Enc = { dtype: string; b64: string };
type RawTensor = { shape: number[]; data: Enc };
interface RawCase {
  op: string;
  id: string;
  desc: string;
  input: RawTensor;
  target?: RawTensor;
  options: Record<string, unknown>;
  gradOutput: RawTensor;
  expected: { out: Enc; grad: Enc };
}
interface Skipped {
  op: string;
  id: string;
  desc: string;
  reason: string;
}
const file = fx as unknown as { samples: Record<string, number>; cases: RawCase[]; skipped: Skipped[] };

/** Per op: OpInfo samples, and how many of them are cases (the rest are skipped). */
const COUNTS: Record<string, [samples: number, cases: number]> = {
  cross_entropy: [21, 21],
  nll_loss: [60, 60],
  log_softmax: [6, 6],
  'log_softmax.dtype': [6, 0],
  softmax: [6, 6],
  'softmax.with_dtype': [6, 0],
  logsumexp: [15, 12],
  softmin: [6, 6],
  'softmin.with_dtype': [6, 0],
  bce_with_logits: [26, 26],
  kl_div: [16, 16],
};

const DTYPE = 'dtype=torch.float64: xent computes in float32 and has no dtype option';
const TWO_AXES = "dim=(0, 1): a reduction over 2 axes; xent's dim is a single axis";
const SKIPPED: Record<string, string> = {
  ...Object.fromEntries(
    ['log_softmax.dtype', 'softmax.with_dtype', 'softmin.with_dtype'].flatMap((op) => [0, 1, 2, 3, 4, 5].map((i) => [`${op}#${i}`, DTYPE])),
  ),
  // the three logsumexp magnitudes (make_tensor's default range, [1e3, 2e3], [1e6, 2e6])
  'logsumexp#4': TWO_AXES,
  'logsumexp#9': TWO_AXES,
  'logsumexp#14': TWO_AXES,
};

const tensorOf = (t: RawTensor) => ({ data: decodeArray(t.data), shape: t.shape });
// float64 expectations as a float32 computation should give them
const values = (e: Enc) => Array.from(decodeArray(e) as Float64Array, Math.fround);
const asArray = (v: number | Float32Array) => (typeof v === 'number' ? [v] : v);

/** The fixture's options are xent's: an encoded array is a Float32Array, a { shape, data } a tensor. */
function optionsOf(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => {
      if (typeof v !== 'object' || v === null) return [k, v];
      return [k, 'b64' in v ? decodeArray(v as Enc) : tensorOf(v as RawTensor)];
    }),
  );
}

type Loss = (input: unknown, target: unknown, options: object) => number | Float32Array;
type LossWithGrad = (input: unknown, target: unknown, options: object) => { loss: number | Float32Array; grad: Float32Array };
const LOSSES = {
  cross_entropy: [crossEntropy, crossEntropyWithGrad],
  nll_loss: [nllLoss, nllLossWithGrad],
  bce_with_logits: [binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsWithGrad],
  kl_div: [klDiv, klDivWithGrad],
} as unknown as Record<string, [Loss, LossWithGrad]>;

type T32 = { data: Float32Array; shape: number[] };
/** The forward, its tolerance, and the gradient from the upstream g, the input x and xent's output y = forward(x). */
const SOFTMAX_FAMILY: Record<string, { forward: (x: T32, o: { dim: number }) => Float32Array; tol: Tolerance; backward: (g: T32, x: T32, y: T32, dim: number) => Float32Array }> = {
  log_softmax: { forward: logSoftmax, tol: TOL.logSoftmax, backward: (g, _x, y, dim) => logSoftmaxBackward(g, y, { dim }) },
  softmax: { forward: softmax, tol: TOL.softmax, backward: (g, _x, y, dim) => softmaxBackward(g, y, { dim }) },
  // softmin(x) = softmax(-x): the chain rule through x -> -x negates softmax's backward
  softmin: { forward: softmin, tol: TOL.softmax, backward: (g, _x, y, dim) => softmaxBackward(g, y, { dim }).map((v) => -v) },
  // keepdim (torch's output and gradOutput with the axis kept as 1) changes no data: gradOutput is passed as shaped
  logsumexp: { forward: logSumExp, tol: TOL.loss, backward: (g, x, _y, dim) => logSumExpBackward(g, x, { dim }) },
};

function check(c: RawCase): void {
  const label = `${c.id} (${c.desc})`;
  const input = tensorOf(c.input) as T32;
  const g = tensorOf(c.gradOutput) as T32;
  const out = values(c.expected.out);
  const grad = values(c.expected.grad);
  const options = optionsOf(c.options);
  if (c.op in LOSSES) {
    const [loss, lossWithGrad] = LOSSES[c.op];
    const target = tensorOf(c.target!);
    expectClose(asArray(loss(input, target, options)), out, TOL.loss, `${label} loss`);
    const gradOutput = (options.reduction ?? 'mean') === 'none' ? g.data : g.data[0];
    const r = lossWithGrad(input, target, { ...options, gradOutput });
    expectClose(asArray(r.loss), out, TOL.loss, `${label} loss (with grad)`);
    expectClose(r.grad, grad, TOL.grad, `${label} grad`);
  } else {
    const { forward, tol, backward } = SOFTMAX_FAMILY[c.op];
    const dim = options.dim as number;
    const y = forward(input, { dim });
    expectClose(y, out, tol, label);
    expectClose(backward(g, input, { data: y, shape: input.shape }, dim), grad, TOL.grad, `${label} grad`);
  }
}

describe('PyTorch OpInfo samples', () => {
  it('each sample is a case or skipped, as many per op as pinned', () => {
    const summary = Object.entries(COUNTS).map(([op, [samples, cases]]) => {
      expect(file.samples[op], `${op} samples`).toBe(samples);
      expect(file.cases.filter((c) => c.op === op).length, `${op} cases`).toBe(cases);
      expect(file.skipped.filter((s) => s.op === op).length, `${op} skipped`).toBe(samples - cases);
      return `${op}: ${samples} samples, ${cases} expressed, ${samples - cases} skipped`;
    });
    expect(Object.keys(file.samples).sort()).toEqual(Object.keys(COUNTS).sort());
    console.info(`OpInfo samples\n  ${summary.join('\n  ')}`);
  });

  it('the skipped samples and their reasons are the pinned ones', () => {
    expect(Object.fromEntries(file.skipped.map((s) => [s.id, s.reason]))).toEqual(SKIPPED);
    expect(file.skipped.length, 'skipped ids are unique').toBe(Object.keys(SKIPPED).length);
  });
});

describe.each(BACKENDS)('PyTorch OpInfo samples on %s', (backend) => {
  useBackend(backend);

  it.each(Object.keys(COUNTS).filter((op) => COUNTS[op][1] > 0))('%s: forward and gradient of every expressed sample', (op) => {
    const cases = file.cases.filter((c) => c.op === op);
    expect(cases.length).toBe(COUNTS[op][1]);
    for (const c of cases) check(c);
  });
});
