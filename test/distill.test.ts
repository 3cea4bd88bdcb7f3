// distillationLoss and its gradient against PyTorch (test/fixtures/torch-distill.json, written by
// gen_distill.py: log_softmax, F.kl_div, logsumexp and F.cross_entropy in float64, autograd gradients), on
// every backend: forward KL, reverse KL and Liger-Kernel's JSD at temperatures 1, 2 and 0.5, labels with
// ignored rows and the alpha mix with cross-entropy, every reduction and gradOutput, teachers giving classes
// probability 0 or nearly all of it, float16 and bfloat16 logits, and 32000- and 128256-class rows rebuilt
// here from the generator's hash formula. Then the gradient against central differences of a float64
// reference written in this file (itself checked against the PyTorch cases), identities (equal models give
// 0, T^2 scaling, alpha 1 is crossEntropy, swapping the models mirrors beta, reductions and input forms
// agree), the inputs left unwritten, options.out, and the argument checks.
import { describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad, distillationLoss, distillationLossWithGrad } from '../src/index.ts';
import type { Logits } from '../src/index.ts';
import distill from './fixtures/torch-distill.json';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';
import { randomIndices, randomLogits, rng } from './helpers/random.ts';
import { expectRefused } from './helpers/refused.ts';
import { centralGrad64, distill64 } from './reference/distill64.ts';
import { classOp64 } from './reference/ce64.ts';
import { half64 } from './reference/xent64.ts';

type Reduction = 'batchmean' | 'sum' | 'none';
type Labels = { data: BigInt64Array | Int32Array; shape: number[] } | BigInt64Array | Int32Array | number[];
interface Options {
  temperature?: number;
  beta?: number;
  alpha?: number;
  labels?: Labels;
  ignoreIndex?: number;
  reduction?: Reduction;
}

const raw = (distill as { cases: Array<Record<string, any>> }).cases;
const logitsOf = (l: Record<string, any>) => (l.dtype
  ? { data: decodeArray(l.data) as Uint16Array, shape: l.shape as number[], dtype: l.dtype as 'float16' | 'bfloat16' }
  : { data: decodeArray(l.data) as Float32Array, shape: l.shape as number[] }) as Logits & { data: Float32Array | Uint16Array; shape: number[] };
const labelsOf = (c: Record<string, any>) =>
  (c.labels ? { labels: { data: decodeArray(c.labels.data) as BigInt64Array, shape: c.labels.shape as number[] } } : {});
const optionsOf = (c: Record<string, any>): Options => ({ ...(c.options as Options), ...labelsOf(c) });

const cases = raw.filter((c) => !c.hashed).map((c) => ({
  name: c.name as string,
  student: logitsOf(c.student),
  teacher: logitsOf(c.teacher),
  options: optionsOf(c),
  gradOutput: decodeArray(c.gradOutput) as Float32Array,
  out64: Array.from(decodeArray(c.expected.out64), Math.fround),
  grad: Array.from(decodeArray(c.expected.grad)),
}));

/** Element i of a hashed logit tensor: ((i * mult + add) mod 2^32) / 2^32 * scale - scale / 2, exactly as
 *  gen_distill.py computes it (i * mult exceeds 2^53, hence BigInt), rounded to float32 on the store. */
function hashLogits(n: number, [mult, add, scale]: number[]): Float32Array {
  const m = BigInt(mult), a = BigInt(add), out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (Number((BigInt(i) * m + a) % 4294967296n) / 4294967296) * scale - scale / 2;
  return out;
}

/** float32 -> bfloat16 bits, round to nearest even as torch's .to(torch.bfloat16) (finite values, which never
 *  carry out of 32 bits). */
function toBfloat16Bits(x: Float32Array): Uint16Array {
  return Uint16Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length), (b) => (b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
}

const bitSum = (a: Uint32Array | Uint16Array) => a.reduce((s, v) => s + v, 0);

const hashedCases = raw.filter((c) => c.hashed).map((c) => {
  const n = (c.shape as number[]).reduce((a, b) => a * b, 1);
  const s32 = hashLogits(n, c.studentHash), t32 = hashLogits(n, c.teacherHash);
  const teacher = c.teacherDtype === 'bfloat16'
    ? { data: toBfloat16Bits(t32), shape: c.shape as number[], dtype: 'bfloat16' as const }
    : { data: t32, shape: c.shape as number[] };
  return {
    name: c.name as string,
    student: { data: s32, shape: c.shape as number[] },
    teacher,
    bitSums: c.bitSums as number[],
    options: optionsOf(c),
    gradOutput: decodeArray(c.gradOutput) as Float32Array,
    out64: Array.from(decodeArray(c.expected.out64), Math.fround),
    gradIndex: c.expected.gradIndex as number[],
    gradSample: Array.from(decodeArray(c.expected.gradSample)),
  };
});

const asArray = (v: number | Float32Array) => (typeof v === 'number' ? [v] : Array.from(v));

/** The gradient options of a case: gradOutput as the API takes it, left out where it is the default 1. */
function gradOptions(options: Options, gradOutput: Float32Array): Options & { gradOutput?: number | Float32Array } {
  if (options.reduction === 'none') return { ...options, gradOutput };
  return gradOutput[0] === 1 ? options : { ...options, gradOutput: gradOutput[0] };
}

/** The exact values of a case's logits, for the reference. */
const values64 = (l: ReturnType<typeof logitsOf>) => ('dtype' in l && l.dtype ? half64(l.data, l.dtype as 'float16' | 'bfloat16') : l.data);

describe('the float64 reference of this file', () => {
  it('agrees with PyTorch on every stored case, and the hashed logits are the generator\'s', () => {
    for (const c of cases) {
      const labels = c.options.labels && Array.from((c.options.labels as { data: BigInt64Array }).data, Number);
      const got = distill64(values64(c.student), values64(c.teacher), c.student.shape.at(-1)!, { ...c.options, labels });
      expectClose(typeof got === 'number' ? [got] : got, c.out64, { rtol: 1e-7, atol: 1e-7 }, c.name);
    }
    for (const c of hashedCases) {
      expect(bitSum(new Uint32Array(c.student.data.buffer)), `${c.name} student`).toBe(c.bitSums[0]);
      const t = c.teacher.data;
      expect(bitSum(t instanceof Uint16Array ? t : new Uint32Array(t.buffer)), `${c.name} teacher`).toBe(c.bitSums[1]);
    }
  });
});

describe.each(BACKENDS)('distillationLoss on %s', (backend) => {
  useBackend(backend);

  it(`${cases.length} PyTorch cases: loss and gradient, every beta, temperature, reduction, labels, extremes, half precision`, () => {
    expect(cases.length).toBe(223);
    expect(cases.filter((c) => 'dtype' in c.student || 'dtype' in c.teacher).length).toBe(13);
    for (const c of cases) {
      expectClose(asArray(distillationLoss(c.student, c.teacher, c.options)), c.out64, TOL.loss, `${c.name} loss`);
      const r = distillationLossWithGrad(c.student, c.teacher, gradOptions(c.options, c.gradOutput));
      expectClose(asArray(r.loss), c.out64, TOL.loss, `${c.name} loss (with grad)`);
      expectClose(r.grad, c.grad, TOL.grad, `${c.name} grad`);
    }
  });

  it(`${hashedCases.length} vocabulary-sized cases (32000 and 128256 classes, a bfloat16 teacher): loss and sampled gradient`, () => {
    expect(hashedCases.length).toBe(4);
    for (const c of hashedCases) {
      expectClose(asArray(distillationLoss(c.student, c.teacher, c.options)), c.out64, TOL.loss, `${c.name} loss`);
      const r = distillationLossWithGrad(c.student, c.teacher, gradOptions(c.options, c.gradOutput));
      expectClose(asArray(r.loss), c.out64, TOL.loss, `${c.name} loss (with grad)`);
      expectClose(c.gradIndex.map((i) => r.grad[i]), c.gradSample, TOL.grad, `${c.name} grad`);
    }
  });

  // [3, 5] rows, the middle one ignored, a temperature that is no power of 2
  const rand = rng(2024);
  const V = 5, s = randomLogits(rand, 3 * V, 2), t = randomLogits(rand, 3 * V, 3), labels = [1, -100, 4];
  const student = { data: s, shape: [3, V] }, teacher = { data: t, shape: [3, V] };

  it('the gradient is the central difference of the float64 reference, for every beta, alpha and reduction', () => {
    for (const beta of [0, 0.3, 1]) {
      for (const alpha of [0, 0.4]) {
        for (const [reduction, gradOutput] of [['batchmean', 1.7], ['sum', -0.6], ['none', [0.5, 2, -1.25]]] as const) {
          const o = { temperature: 1.5, beta, alpha, labels, reduction };
          const label = `beta ${beta} alpha ${alpha} ${reduction}`;
          const go = typeof gradOutput === 'number' ? gradOutput : Float32Array.from(gradOutput);
          const r = distillationLossWithGrad(student, teacher, { ...o, gradOutput: go });
          const want = distill64(s, t, V, o);
          expectClose(asArray(r.loss), typeof want === 'number' ? [want] : want, TOL.loss, `${label} loss`);
          expectClose(r.grad, centralGrad64(s, t, V, o, typeof gradOutput === 'number' ? gradOutput : [...gradOutput]), TOL.grad, `${label} grad`);
        }
      }
    }
  });

  it('long rows with whole spans of -inf in either model or both, the mass far from the max of the other model and a ragged tail match float64', () => {
    const V = 2 * 1024 + 555, N = 5, s = randomLogits(rand, N * V, 2), t = randomLogits(rand, N * V, 2);
    const fill = (a: Float32Array, r: number, from: number, to: number, v: number) => a.fill(v, r * V + from, r * V + to);
    fill(t, 0, 1024, 2048, -Infinity); // a teacher block of zeros: 0 log 0
    fill(s, 1, 0, 1024, -Infinity); // a student block the teacher gives mass: the loss is inf
    fill(t, 2, 0, 1024, -Infinity);
    fill(s, 2, 0, 1024, -Infinity); // both, the same block
    for (let c = 2048; c < V; c++) t[3 * V + c] += 60; // the teacher's mass in the last block, the student's spread
    fill(s, 4, 1024, 2048, -Infinity);
    fill(t, 4, 0, 1024, -Infinity); // each model's zeros in another block
    const labels = Int32Array.from({ length: N }, (_, r) => [5, 1500, 2100, V - 1, 3][r]);
    const gradOutput = Float32Array.of(0.5, 1, -2, 1.5, 0.75);
    for (const [temperature, alpha] of [[1, 0], [2, 0], [2, 0.4]]) {
      const o = { temperature, alpha, labels: Array.from(labels), reduction: 'none' as const };
      const r = distillationLossWithGrad({ data: s, shape: [N, V] }, { data: t, shape: [N, V] }, { ...o, labels, gradOutput });
      const want = distill64(s, t, V, o) as number[];
      expect(r.loss[1], `T ${temperature} alpha ${alpha}: row 1's loss`).toBe(Infinity);
      expectClose(r.loss, want, TOL.loss, `T ${temperature} alpha ${alpha} loss`);
      // d/ds of (1 - alpha) T^2 KL(P || Q) + alpha CE = (1 - alpha) T (Q - P) + alpha (softmax(s) - onehot)
      const soft = (x: Float32Array, k: number) => classOp64('softmax', Array.from(x, (v) => v / k), N, V, 1);
      const Q = soft(s, temperature), P = soft(t, temperature), S1 = soft(s, 1);
      const grad = Float64Array.from(Q, (q, i) => {
        const row = Math.floor(i / V), ce = S1[i] - (i % V === labels[row] ? 1 : 0);
        return gradOutput[row] * ((1 - alpha) * temperature * (q - P[i]) + alpha * ce);
      });
      expectClose(r.grad, grad, TOL.grad, `T ${temperature} alpha ${alpha} grad`);
    }
  });

  it('equal models give 0 for every beta and temperature, with a zero gradient', () => {
    for (const beta of [0, 0.25, 0.5, 1]) {
      for (const temperature of [1, 3, 0.5]) {
        const r = distillationLossWithGrad(student, { data: s.slice(), shape: [3, V] }, { beta, temperature });
        expectClose(r.loss, 0, { rtol: 0, atol: 1e-6 }, `beta ${beta} T ${temperature} loss`);
        expectClose(r.grad, new Float32Array(s.length), { rtol: 0, atol: 1e-7 }, `beta ${beta} T ${temperature} grad`);
      }
    }
  });

  it('scales as T^2: the loss at T 2 is 4 times that of the logits halved at T 1, the gradient 2 times', () => {
    const half = (x: Float32Array) => ({ data: x.map((v) => v / 2), shape: [3, V] });
    for (const beta of [0, 0.25, 0.5, 1]) {
      const atT = distillationLossWithGrad(student, teacher, { temperature: 2, beta });
      const at1 = distillationLossWithGrad(half(s), half(t), { beta });
      expectClose(atT.loss, 4 * at1.loss, TOL.loss, `beta ${beta} loss`);
      expectClose(atT.grad, at1.grad.map((g) => 2 * g), TOL.grad, `beta ${beta} grad`);
    }
  });

  it('alpha 1 is crossEntropy of the student with the labels, at temperature 1 whatever T is', () => {
    const pairs = [['batchmean', 'mean'], ['sum', 'sum'], ['none', 'none']] as const;
    for (const [reduction, ceReduction] of pairs) {
      const r = distillationLossWithGrad(student, teacher, { alpha: 1, temperature: 3, beta: 0.5, labels, reduction });
      const ce = crossEntropyWithGrad(student, labels, { reduction: ceReduction });
      expectClose(asArray(r.loss), asArray(ce.loss), TOL.loss, `${reduction} loss`);
      expectClose(asArray(distillationLoss(student, teacher, { alpha: 1, labels, reduction })), asArray(crossEntropy(student, labels, { reduction: ceReduction })), TOL.loss, `${reduction} loss without grad`);
      expectClose(r.grad, ce.grad, TOL.grad, `${reduction} grad`);
    }
  });

  it('swapping student and teacher mirrors beta: loss(s, t, beta) = loss(t, s, 1 - beta)', () => {
    for (const beta of [0, 0.25, 0.5]) {
      for (const temperature of [1, 2]) {
        const a = distillationLoss(student, teacher, { beta, temperature });
        const b = distillationLoss(teacher, student, { beta: 1 - beta, temperature });
        expectClose(a, b, TOL.loss, `beta ${beta} T ${temperature}`);
      }
    }
  });

  it('reductions agree: sum of none, batchmean = sum / counted rows; every row ignored gives NaN and a zero gradient', () => {
    const o = { beta: 0.25, temperature: 2, alpha: 0.5, labels };
    const none = distillationLossWithGrad(student, teacher, { ...o, reduction: 'none' });
    expect(none.loss[1]).toBe(0);
    const sum = distillationLossWithGrad(student, teacher, { ...o, reduction: 'sum' });
    const mean = distillationLossWithGrad(student, teacher, o);
    expectClose(sum.loss, none.loss.reduce((a: number, b: number) => a + b, 0), TOL.loss, 'sum');
    expectClose(mean.loss, sum.loss / 2, TOL.loss, 'batchmean');
    expectClose(mean.grad, sum.grad.map((g) => g / 2), TOL.grad, 'batchmean grad');
    expect(sum.grad.subarray(V, 2 * V).every((g) => g === 0)).toBe(true);
    // PyTorch's sum of nothing over a count of 0 is 0 / 0; the masked rows pass no gradient
    const ignored = distillationLossWithGrad(student, teacher, { ...o, labels: [-100, -100, -100] });
    expect(ignored.loss).toBeNaN();
    expect(ignored.grad.every((g) => g === 0)).toBe(true);
    expect(distillationLoss(student, teacher, { ...o, labels: [-100, -100, -100], reduction: 'sum' })).toBe(0);
  });

  it('takes any rank, a bare Float32Array as one row, and labels as number[], Int32Array, BigInt64Array or { data, shape }', () => {
    const flat = distillationLossWithGrad(student, teacher, { labels, alpha: 0.5, reduction: 'none' });
    const rank3 = distillationLossWithGrad({ data: s, shape: [1, 3, V] }, { data: t, shape: [1, 3, V] },
      { labels: { data: Int32Array.from(labels), shape: [1, 3] }, alpha: 0.5, reduction: 'none' });
    expect(rank3.loss).toEqual(flat.loss);
    expect(rank3.grad).toEqual(flat.grad);
    for (const form of [Int32Array.from(labels), BigInt64Array.from(labels, BigInt), { data: BigInt64Array.from(labels, BigInt), shape: [3] }]) {
      expect(distillationLoss(student, teacher, { labels: form, alpha: 0.5, reduction: 'none' })).toEqual(flat.loss);
    }
    const row = s.subarray(0, V), trow = t.subarray(0, V);
    const bare = distillationLoss(row, trow, { reduction: 'none' });
    expect(bare).toEqual(distillationLoss({ data: row, shape: [V] }, { data: trow, shape: [V] }, { reduction: 'none' }));
    expect(bare).toHaveLength(1);
    expect(distillationLoss(row, trow)).toBe(bare[0]);
  });

  it('never writes its inputs; options.out receives the gradient and is returned', () => {
    const bits = Uint16Array.from(t, (v) => (new Uint32Array(Float32Array.of(v).buffer)[0] >>> 16));
    const halfTeacher = { data: bits, shape: [3, V], dtype: 'bfloat16' as const };
    const lab = Int32Array.from(labels), go = Float32Array.of(1, 2, 3);
    const copies = [s.slice(), bits.slice(), lab.slice(), go.slice()];
    const fresh = distillationLossWithGrad(student, halfTeacher, { labels: lab, alpha: 0.5, beta: 0.5, reduction: 'none', gradOutput: go });
    const out = new Float32Array(s.length).fill(NaN);
    const r = distillationLossWithGrad(student, halfTeacher, { labels: lab, alpha: 0.5, beta: 0.5, reduction: 'none', gradOutput: go, out });
    expect(r.grad).toBe(out);
    expect(out).toEqual(fresh.grad);
    expect(r.loss).toEqual(fresh.loss);
    distillationLoss(student, halfTeacher, { labels: lab, beta: 1 });
    [s, bits, lab, go].forEach((a, i) => expect(a, `input ${i}`).toEqual(copies[i]));
  });

  it('checks its arguments', () => {
    const other = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
    expectRefused(() => distillationLoss(student, other([3, 6])), RangeError, /\[3, 5\][^]*\[3, 6\]|\[3, 6\][^]*\[3, 5\]/);
    expectRefused(() => distillationLoss(student, other([5, 3])), RangeError, /\[3, 5\][^]*\[5, 3\]|\[5, 3\][^]*\[3, 5\]/);
    expectRefused(() => distillationLossWithGrad(other([1, 3, 5]), teacher), RangeError, /\[1, 3, 5\][^]*\[3, 5\]|\[3, 5\][^]*\[1, 3, 5\]/);
    for (const beta of [-0.1, 1.5, NaN]) expectRefused(() => distillationLoss(student, teacher, { beta }), RangeError, new RegExp(`beta[^]*${beta}`));
    for (const temperature of [0, -1, NaN]) {
      expectRefused(() => distillationLoss(student, teacher, { temperature }), RangeError, new RegExp(`temperature[^]*${temperature}`));
    }
    for (const call of [() => distillationLoss(student, teacher, { alpha: 0.5 }), () => distillationLossWithGrad(student, teacher, { alpha: 1 })]) {
      let thrown: unknown;
      try {
        call();
      } catch (e) {
        thrown = e;
      }
      expect(thrown instanceof RangeError || thrown instanceof TypeError, String(thrown)).toBe(true);
      expect((thrown as Error).message).toMatch(/labels/);
    }
    // F.kl_div's 'mean' divides by the number of elements, rows times classes: refused rather than guessed
    expectRefused(() => distillationLoss(student, teacher, { reduction: 'mean' as never }), RangeError, /mean/);
    expectRefused(() => distillationLossWithGrad(student, teacher, { reduction: 'mean' as never }), RangeError, /mean/);
  });
});
