// diagnose() and the `check` option: every finding code (positive and negative cases), the seed
// scenarios from the user's documents, the thresholds at their edges, and check 'off' | 'warn' | 'throw'.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  crossEntropy, crossEntropyWithGrad, diagnose, logSoftmax, nllLoss, setDiagnosticsHandler, softmax, XentCheckError,
} from '../src/index.ts';
import type { Finding, FindingCode, Tensor } from '../src/index.ts';
import { runCheck } from '../src/diagnose/check.ts';
import { randomLogits, rng } from './helpers/random.ts';

// runCheck wrapped in a spy, so that "check: 'off' calls nothing" can be asserted
vi.mock('../src/diagnose/check.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../src/diagnose/check.ts')>();
  return { ...orig, runCheck: vi.fn(orig.runCheck) };
});

const t2 = (rows: number[][]): Tensor => ({ data: Float32Array.from(rows.flat()), shape: [rows.length, rows[0].length] });
const codes = (fs: Finding[]) => fs.map((f) => f.code);
const find = (fs: Finding[], code: FindingCode) => fs.find((f) => f.code === code);
const f32 = (v: number) => Math.fround(v);

/** Logits of a half-trained model: N(0, 2) noise with the target 3 above; no finding applies. */
function healthy(N: number, C: number, seed = 1): { input: Tensor; target: Int32Array } {
  const data = randomLogits(rng(seed), N * C, 2);
  const target = Int32Array.from({ length: N }, (_, n) => (n * 7 + 3) % C);
  for (let n = 0; n < N; n++) data[n * C + target[n]] += 3;
  return { input: { data, shape: [N, C] }, target };
}

describe('the seed scenarios', () => {
  it('seeds 001/004: softmax applied before the loss -> probabilities-as-logits (error)', () => {
    const probs = t2([[0.1, 0.7, 0.2], [0.3, 0.4, 0.3]]);
    const fs = diagnose(probs, [1, 0]);
    expect(codes(fs)).toEqual(['probabilities-as-logits']);
    expect(fs[0]).toMatchObject({ severity: 'error', count: 2, positions: [0, 1] });
    expect(fs[0].message).toMatch(/softmax already applied/);
    expect(fs[0].message).toMatch(/raw logits/);
    expect(fs[0].message).toContain('log(C) = 1.09861');
    // the value itself is PyTorch's (F.cross_entropy on these probabilities: 0.9505091905593872)
    expect(crossEntropy(probs, [1, 0])).toBeCloseTo(0.9505091905593872, 6);
    // the same for a realistic batch: softmax of a model's logits, and not for the logits themselves
    const { input, target } = healthy(64, 10);
    expect(codes(diagnose({ data: softmax(input), shape: [64, 10] }, target))).toEqual(['probabilities-as-logits']);
    expect(diagnose(input, target)).toEqual([]);
  });

  it('seeds 001/004: one-hot float targets -> one-hot-target', () => {
    const logits = t2([[1, 3, -1], [-0.5, 0.8, 0.3]]);
    const onehot = t2([[0, 1, 0], [1, 0, 0]]);
    const fs = diagnose(logits, onehot);
    expect(codes(fs)).toEqual(['one-hot-target']);
    expect(fs[0]).toMatchObject({ severity: 'info', count: 2, positions: [0, 1] });
    expect(fs[0].message).toMatch(/class indices/);
    // PyTorch: 1.0368523597717285 both ways without weight; with weight [0.5, 2, 1] and 'mean' the
    // probability form gives 0.6256248950958252 and the index form 0.5004999041557312
    expect(crossEntropy(logits, onehot)).toBeCloseTo(1.0368523597717285, 6);
    expect(crossEntropy(logits, [1, 0])).toBeCloseTo(1.0368523597717285, 6);
    const weight = [0.5, 2, 1];
    expect(crossEntropy(logits, onehot, { weight })).toBeCloseTo(0.6256248950958252, 6);
    expect(crossEntropy(logits, [1, 0], { weight })).toBeCloseTo(0.5004999041557312, 6);
    const weighted = diagnose(logits, onehot, { weight });
    expect(weighted[0]).toMatchObject({ code: 'one-hot-target', severity: 'warning' });
    expect(weighted[0].message).toMatch(/average differently/);
    expect(diagnose(logits, onehot, { weight, reduction: 'sum' })[0].severity).toBe('info');
  });

  it('seeds 001/004: one-hot rows where class indices go (flat Float32Array, nested array, integer tensor) -> one-hot-target (error)', () => {
    const logits = t2([[1, 3, -1], [-0.5, 0.8, 0.3]]);
    const flat = Float32Array.of(0, 1, 0, 1, 0, 0);
    expect(() => crossEntropy(logits, flat as never)).toThrow(TypeError);
    for (const target of [flat, [[0, 1, 0], [1, 0, 0]], { data: Int32Array.of(0, 1, 0, 1, 0, 0), shape: [2, 3] }, [0, 1, 0, 1, 0, 0]]) {
      const fs = diagnose(logits, target as never);
      expect(codes(fs)).toEqual(['one-hot-target']);
      expect(fs[0]).toMatchObject({ severity: 'error', count: 2 });
      expect(fs[0].message).toContain('Int32Array.of(1, 0)');
    }
  });

  it('seed 002: the huge logit spread [10, 92, 30, -50, 40] with target 3 -> underflowing-target, and the loss is 142', () => {
    const huge = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };
    const fs = diagnose(huge, 3);
    expect(codes(fs)).toEqual(['underflowing-target']);
    expect(fs[0]).toMatchObject({ severity: 'warning', count: 1, positions: [0], values: [142] });
    expect(fs[0].message).toMatch(/finite and exact/);
    expect(fs[0].message).toContain('142');
    expect(crossEntropy(huge, 3)).toBe(142);
    // the safe-zone case of the same seed: nothing to report; its loss is 1.9453 (PyTorch), not 2.0871
    const small = { data: Float32Array.of(1.2, 4.7, 3.1, 0.5, 2.9), shape: [5] };
    expect(diagnose(small, 2)).toEqual([]);
    expect(crossEntropy(small, 2)).toBeCloseTo(1.9452821016311646, 6);
  });

  it('seed 000: the confident [100, 1, 0] rows are fine: only saturated-rows (info), finite losses 0 and 0.3133', () => {
    const x = t2([[100, 1, 0], [-100, 1, 0]]);
    const fs = diagnose(x, [0, 1]);
    expect(codes(fs)).toEqual(['saturated-rows']);
    expect(fs[0]).toMatchObject({ severity: 'info', count: 1, positions: [0] });
    expect(fs[0].message).toMatch(/nothing is NaN/);
    const loss = crossEntropy(x, [0, 1], { reduction: 'none' }) as Float32Array;
    expect(Math.abs(loss[0])).toBe(0);
    expect(loss[1]).toBeCloseTo(0.31326165795326233, 6);
  });
});

describe('each finding code', () => {
  it('probabilities-as-logits: only when every row is in [0, 1] and sums to 1 within 1e-3', () => {
    const flagged = (rows: number[][]) => codes(diagnose(t2(rows), rows.map(() => 0))).includes('probabilities-as-logits');
    expect(flagged([[0.2, 0.3, 0.5 + 9e-4]])).toBe(true);
    expect(flagged([[0.2, 0.3, 0.5 + 2e-3]])).toBe(false);
    expect(flagged([[0.2, 0.3, 0.5], [0.5, 0.5, 0.1]])).toBe(false); // one row sums to 1.1
    expect(flagged([[1.2, -0.1, -0.1]])).toBe(false); // sums to 1 but leaves [0, 1]
    expect(codes(diagnose({ data: Float32Array.of(1, 1), shape: [2, 1] }, [0, 0]))).toEqual(['single-class']);
  });

  it('log-probabilities-as-logits (info): log_softmax applied before the loss, harmless', () => {
    const { input, target } = healthy(16, 5);
    const logp = { data: logSoftmax(input), shape: input.shape };
    const fs = diagnose(logp, target);
    expect(codes(fs)).toEqual(['log-probabilities-as-logits']);
    expect(fs[0]).toMatchObject({ severity: 'info', count: 16 });
    expect(fs[0].message).toMatch(/nllLoss/);
    expect(crossEntropy(logp, target)).toBeCloseTo(crossEntropy(input, target) as number, 5);
    // all <= 0 but not normalised: plain logits
    expect(diagnose(t2([[-1, -2, -3]]), [0])).toEqual([]);
  });

  it('logits-as-log-probabilities and probabilities-as-logits for nllLoss (logProbs: true)', () => {
    const { input, target } = healthy(8, 4);
    const fs = diagnose(input, target, { logProbs: true });
    expect(codes(fs)).toEqual(['logits-as-log-probabilities']);
    expect(fs[0]).toMatchObject({ severity: 'error', count: 8 });
    expect(diagnose({ data: logSoftmax(input), shape: [8, 4] }, target, { logProbs: true })).toEqual([]);
    const probs = diagnose({ data: softmax(input), shape: [8, 4] }, target, { logProbs: true });
    expect(codes(probs)).toEqual(['probabilities-as-logits']);
    expect(probs[0].message).toMatch(/nllLoss/);
  });

  it('constant-logits (warning): the loss is exactly log(C)', () => {
    const zeros = { data: new Float32Array(4 * 10), shape: [4, 10] };
    const fs = diagnose(zeros, [0, 1, 2, 3]);
    expect(codes(fs)).toEqual(['constant-logits']);
    expect(fs[0]).toMatchObject({ severity: 'warning', count: 4 });
    expect(fs[0].message).toContain(`log(C) = ${Number(Math.log(10).toPrecision(6))}`);
    expect(crossEntropy(zeros, [0, 1, 2, 3])).toBe(f32(Math.log(10)));
    const almost = new Float32Array(40);
    almost[39] = 0.5;
    expect(diagnose({ data: almost, shape: [4, 10] }, [0, 1, 2, 3])).toEqual([]);
  });

  it('non-finite-logits: NaN and +inf are errors with flat positions and values; -inf off the target is a mask (info)', () => {
    const x = t2([[0, NaN, 1], [2, 0, Infinity], [1, 2, 3]]);
    const fs = diagnose(x, [0, 0, 0]);
    expect(codes(fs)).toEqual(['non-finite-logits']);
    expect(fs[0]).toMatchObject({ severity: 'error', count: 2, positions: [1, 5] });
    expect(fs[0].values).toEqual([NaN, Infinity]);
    expect(crossEntropy(x, [0, 0, 0])).toBeNaN();

    const masked = t2([[-Infinity, 1, 2], [0, -Infinity, 1]]);
    const info = diagnose(masked, [1, 2]);
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ code: 'non-finite-logits', severity: 'info', count: 2, positions: [0, 4] });
    expect(Number.isFinite(crossEntropy(masked, [1, 2]))).toBe(true);
    // -inf reaching the loss: on the target, with label smoothing, with probability targets
    expect(find(diagnose(masked, [0, 2]), 'non-finite-logits')?.severity).toBe('error');
    expect(crossEntropy(masked, [0, 2])).toBe(Infinity);
    expect(find(diagnose(masked, [1, 2], { labelSmoothing: 0.1 }), 'non-finite-logits')?.severity).toBe('error');
    expect(find(diagnose(masked, t2([[0, 0.5, 0.5], [0.5, 0, 0.5]])), 'non-finite-logits')?.severity).toBe('error');
    expect(diagnose(t2([[0, 1, 2]]), [1])).toEqual([]);
  });

  it('extreme-logits (warning): |logit| or row spread beyond 1e4; mask fills are not counted', () => {
    const fs = diagnose(t2([[3e4, 1, 0], [1, 2, 3], [9000, -9000, 0]]), [0, 1, 2]);
    const ex = find(fs, 'extreme-logits')!;
    expect(ex).toMatchObject({ severity: 'warning', count: 2, positions: [0, 2] });
    expect(ex.message).toContain('30000');
    expect(ex.message).toMatch(/z-loss/);
    expect(codes(diagnose(t2([[9999, 0, 1]]), [0]))).not.toContain('extreme-logits');
    for (const fill of [-1e9, -3.4028234663852886e38, -65504, -Infinity]) {
      expect(codes(diagnose(t2([[fill, 1, 2], [3, fill, fill]]), [1, 0]))).not.toContain('extreme-logits');
    }
    expect(codes(diagnose(t2([[-1e9, -2e4, 2]]), [2]))).toContain('extreme-logits'); // a real outlier next to the mask
  });

  it('underflowing-target (warning): the target log-probability below -87.34 = ln(FLT_MIN)', () => {
    const at = (gap: number) => diagnose({ data: Float32Array.of(5, 5 - gap), shape: [1, 2] }, [1]);
    expect(codes(at(88))).toEqual(['underflowing-target']);
    expect(at(88)[0].values![0]).toBeCloseTo(88, 6);
    expect(at(87)).toEqual([]);
    // the logsumexp, not just the max, decides: 4 classes at 0 lift it by ln 4 = 1.386
    const lifted = { data: Float32Array.of(1, 1, 1, 1, -85.5), shape: [1, 5] };
    expect(codes(diagnose(lifted, [4]))).toEqual(['underflowing-target']);
    // probability targets: any class with mass that far below
    const probs = { data: Float32Array.of(0.5, 0.5, 0, 0), shape: [1, 4] };
    expect(codes(diagnose({ data: Float32Array.of(0, -100, 5, 3), shape: [1, 4] }, probs))).toEqual(['underflowing-target']);
    expect(diagnose({ data: Float32Array.of(0, 1, -100, 3), shape: [1, 4] }, probs)).toEqual([]);
  });

  it('saturated-rows (info): the other classes total below 2^-24', () => {
    const sat = (row: number[]) => codes(diagnose(t2([row]), [0])).includes('saturated-rows');
    expect(sat([20, 1, 0])).toBe(true); // 19 > 16.64 + ln 2
    expect(sat([16, 0, 0])).toBe(false); // 16 < 16.64
    expect(sat([17, 0, 0])).toBe(false); // in between: 2 e^-17 = 8.3e-8 > 2^-24
    expect(sat([17, 0, -10])).toBe(true); // e^-17 + e^-27 = 4.1e-8 < 2^-24
    expect(sat([1, 100, 0])).toBe(false); // confidently wrong is not saturated
    expect(sat([100, 100, 0])).toBe(false); // a tie
    const loss = crossEntropy(t2([[20, 1, 0]]), [0]) as number;
    expect(loss).toBeLessThan(2 ** -24);
  });

  it('one-hot-target: not for soft or index targets', () => {
    const logits = t2([[1, 3, -1], [-0.5, 0.8, 0.3]]);
    expect(diagnose(logits, t2([[0.1, 0.8, 0.1], [1, 0, 0]]))).toEqual([]);
    expect(diagnose(logits, [1, 0])).toEqual([]);
  });

  it('target-out-of-range (error) with positions, values and hints; crossEntropy throws, diagnose does not', () => {
    const x = { data: new Float32Array(8 * 3).map((_, i) => Math.sin(i)), shape: [8, 3] };
    const target = [0, 3, 1, -1, 2, 7, 3, 3];
    expect(() => crossEntropy(x, target)).toThrow(RangeError);
    const fs = diagnose(x, target);
    expect(codes(fs)).toEqual(['target-out-of-range']);
    expect(fs[0]).toMatchObject({ severity: 'error', count: 5, positions: [1, 3, 5, 6, 7], values: [3, -1, 7, 3, 3] });
    expect(fs[0].message).toContain('target[1] = 3, target[3] = -1');
    expect(fs[0].message).toMatch(/ignoreIndex: -1/);
    expect(fs[0].message).toMatch(/at least 8 classes/);
    // 1-based labels
    const oneBased = diagnose(x, [1, 2, 3, 3, 1, 2, 2, 1]);
    expect(oneBased[0].message).toMatch(/1-based/);
    // ignoreIndex is honoured, including a BigInt64Array from PyTorch's int64
    expect(diagnose(x, BigInt64Array.from([0n, -100n, 1n, 2n, 2n, 1n, 0n, -100n]))).toEqual([]);
    expect(codes(diagnose(x, [0, -1, 1, 2, 2, 1, 0, -1], { ignoreIndex: -1 }))).toEqual([]);
  });

  it('target-not-integer (error): non-integer values, NaN, strings', () => {
    const x = t2([[1, 2, 3], [3, 2, 1]]);
    expect(() => crossEntropy(x, [0.5, 1])).toThrow(TypeError);
    const fs = diagnose(x, [0.5, 1]);
    expect(codes(fs)).toEqual(['target-not-integer']);
    expect(fs[0]).toMatchObject({ severity: 'error', count: 1, positions: [0], values: [0.5] });
    expect(fs[0].message).toMatch(/binary cross-entropy/);
    expect(find(diagnose(x, ['1', '0'] as never), 'target-not-integer')!.message).toMatch(/CSV/);
    expect(find(diagnose(x, [NaN, 1]), 'target-not-integer')!.count).toBe(1);
  });

  it('target-type (error): class indices as floats, float64 probabilities', () => {
    const x = t2([[1, 2, 3], [3, 2, 1]]);
    for (const target of [Float32Array.of(1, 0), { data: Float32Array.of(1, 0), shape: [2] }, Float64Array.of(1, 0)]) {
      const fs = diagnose(x, target as never);
      expect(codes(fs)).toEqual(['target-type']);
      expect(fs[0].message).toMatch(/Int32Array.from/);
    }
    // the indices are still checked
    expect(codes(diagnose(x, Float32Array.of(1, 5) as never))).toEqual(['target-type', 'target-out-of-range']);
    const p64 = diagnose(x, { data: Float64Array.of(0, 1, 0, 0.5, 0.5, 0), shape: [2, 3] } as never);
    expect(codes(p64)).toEqual(['target-type']);
    expect(p64[0].message).toMatch(/Float32Array.from/);
    expect(diagnose(x, Int32Array.of(1, 0))).toEqual([]);
  });

  it('target-shape (error): wrong lengths, a [batch, time, classes] layout, an extra axis', () => {
    const x = t2([[1, 2, 3], [3, 2, 1]]);
    expect(codes(diagnose(x, [0, 1, 2]))).toEqual(['target-shape']);
    expect(codes(diagnose(x, 1))).toEqual(['target-shape']);
    const squeeze = diagnose(x, { data: Int32Array.of(1, 0), shape: [2, 1] });
    expect(codes(squeeze)).toEqual(['target-shape']);
    expect(squeeze[0].message).toMatch(/squeeze/);
    const btc = { data: new Float32Array(2 * 4 * 6), shape: [2, 4, 6] }; // [batch 2, time 4, classes 6]
    const fs = diagnose(btc, { data: new Int32Array(8), shape: [2, 4] });
    expect(codes(fs)).toContain('target-shape');
    expect(fs[0].message).toMatch(/transpose\(1, 2\)/);
    expect(codes(diagnose(x, [[0, 1, 0], [1, 0]] as never))).toEqual(['target-shape']); // ragged
  });

  it('probability-target-not-normalized: warning for sums off 1, error for negative entries', () => {
    const x = t2([[1, 2, 3], [3, 2, 1]]);
    const fs = diagnose(x, t2([[0.5, 0.3, 0.1], [0.2, 0.3, 0.5]]));
    expect(codes(fs)).toEqual(['probability-target-not-normalized']);
    expect(fs[0]).toMatchObject({ severity: 'warning', count: 1, positions: [0] });
    expect(fs[0].message).toContain('0.9');
    const neg = diagnose(x, t2([[1.2, -0.2, 0], [0, 0, 1]]));
    expect(neg[0]).toMatchObject({ code: 'probability-target-not-normalized', severity: 'error' });
    const multi = diagnose(x, t2([[1, 1, 0], [0, 0, 1]]));
    expect(multi[0].message).toMatch(/multi-hot/);
    expect(diagnose(x, t2([[0.5, 0.3, 0.2 + 5e-4], [0.2, 0.3, 0.5]]))).toEqual([]);
  });

  it('all-targets-ignored: NaN for mean (error), 0 for sum (warning)', () => {
    const x = t2([[1, 2, 3], [3, 2, 1]]);
    const fs = diagnose(x, [-100, -100]);
    expect(codes(fs)).toEqual(['all-targets-ignored']);
    expect(fs[0]).toMatchObject({ severity: 'error', count: 2 });
    expect(crossEntropy(x, [-100, -100])).toBeNaN();
    expect(diagnose(x, [-100, -100], { reduction: 'sum' })[0].severity).toBe('warning');
    expect(crossEntropy(x, [-100, -100], { reduction: 'sum' })).toBe(0);
    expect(diagnose(x, [-100, 1])).toEqual([]);
  });

  it('empty-batch: NaN for mean (error)', () => {
    const empty = { data: new Float32Array(0), shape: [0, 3] };
    expect(diagnose(empty, [])).toMatchObject([{ code: 'empty-batch', severity: 'error', count: 0 }]);
    expect(diagnose(empty, [], { reduction: 'sum' })).toMatchObject([{ code: 'empty-batch', severity: 'info' }]);
  });

  it('single-class (error): the loss is always 0', () => {
    const x = { data: Float32Array.of(5, -3, 0.5), shape: [3, 1] };
    expect(diagnose(x, [0, 0, 0])).toMatchObject([{ code: 'single-class', severity: 'error' }]);
    expect(crossEntropy(x, [0, 0, 0])).toBe(0);
  });

  it('non-positive-weight: negative or NaN (error), zero (info), all zero or a zero total (error)', () => {
    const x = t2([[1, 2, 3], [3, 2, 1]]);
    const bad = diagnose(x, [0, 1], { weight: [1, -1, NaN] });
    expect(bad).toMatchObject([{ code: 'non-positive-weight', severity: 'error', count: 2, positions: [1, 2] }]);
    expect(bad[0].message).toMatch(/negative weight/);
    expect(diagnose(x, [0, 1], { weight: [0, 1, 1] })).toMatchObject([{ code: 'non-positive-weight', severity: 'info', positions: [0] }]);
    expect(diagnose(x, [0, 1], { weight: [0, 0, 0] })[0].severity).toBe('error');
    const zeroTotal = diagnose(x, [0, 0], { weight: [0, 1, 1] });
    expect(zeroTotal[0].severity).toBe('error');
    expect(zeroTotal[0].message).toMatch(/NaN/);
    expect(crossEntropy(x, [0, 0], { weight: [0, 1, 1] })).toBeNaN();
    expect(diagnose(x, [0, 1], { weight: Float32Array.of(1, 2, 0.5) })).toEqual([]);
  });
});

describe('diagnose: arguments, layout and limits', () => {
  it('finds nothing in healthy inputs of every layout', () => {
    const { input, target } = healthy(32, 7);
    expect(diagnose(input, target)).toEqual([]);
    expect(diagnose(input.data, target, { classes: 7 })).toEqual([]);
    expect(diagnose(input, target, { weight: new Float32Array(7).fill(0.5), labelSmoothing: 0.1, reduction: 'none' })).toEqual([]);
    const k = { data: randomLogits(rng(9), 2 * 5 * 3, 1), shape: [2, 5, 3] };
    expect(diagnose(k, { data: Int32Array.of(0, 4, 2, 1, 1, 3), shape: [2, 3] })).toEqual([]);
    // crossEntropyWithGrad's options are accepted (and ignored)
    expect(diagnose(input, target, { gradOutput: 2, out: new Float32Array(32 * 7), check: 'warn' })).toEqual([]);
  });

  it('positions are n*S + s for K-dimensional inputs', () => {
    // [N = 2, C = 2, d = 3]: class 1 sits 100 below class 0 at n = 1, s = 2 only
    const data = new Float32Array(12);
    data[1 * 6 + 1 * 3 + 2] = -100;
    const fs = diagnose({ data, shape: [2, 2, 3] }, { data: Int32Array.of(0, 0, 0, 0, 0, 1), shape: [2, 3] });
    expect(fs).toMatchObject([{ code: 'underflowing-target', positions: [5] }]);
    expect(fs[0].message).toMatch(/position/);
  });

  it('lists at most 5 positions and counts them all; orders errors, warnings, info', () => {
    const x = { data: new Float32Array(20 * 3).map((_, i) => i % 5), shape: [20, 3] };
    const fs = diagnose(x, new Array(20).fill(9));
    expect(fs[0]).toMatchObject({ code: 'target-out-of-range', count: 20, positions: [0, 1, 2, 3, 4] });
    expect(fs[0].message).toContain('(20 in all)');
    const mixed = diagnose({ data: Float32Array.of(0, -Infinity, 3e4, 0, 0, 0), shape: [2, 3] }, [0, 7]);
    expect(codes(mixed)).toEqual(['target-out-of-range', 'extreme-logits', 'underflowing-target', 'non-finite-logits']);
    expect(mixed.map((f) => f.severity)).toEqual(['error', 'warning', 'warning', 'info']);
  });

  it('throws what crossEntropy throws for the input and options, a TypeError for an unreadable target', () => {
    const x = t2([[1, 2, 3]]);
    expect(() => diagnose(Float64Array.of(1, 2, 3) as never, [0])).toThrow(TypeError);
    expect(() => diagnose(x, [0], { ignore_index: 1 } as never)).toThrow(/unknown option/);
    expect(() => diagnose(x, [0], { weight: [1, 2] })).toThrow(RangeError);
    expect(() => diagnose(x, [0], { labelSmoothing: 2 })).toThrow(RangeError);
    expect(() => diagnose(x, [0], { check: 'loud' as never })).toThrow(TypeError);
    expect(() => diagnose(x, 'cat' as never)).toThrow(TypeError);
    expect(() => diagnose(x, { data: ['a'], shape: [1] } as never)).toThrow(TypeError);
  });

  it('never throws for data problems: random garbage targets', () => {
    const x = t2([[1, 2, 3], [0, 0, 0]]);
    const junk: unknown[] = [
      [], [1], [1, 2, 3, 4], [-5, 1e9], [Infinity, -Infinity], [null, undefined], [true, false], [[1], [2]],
      new Uint8Array(6), Int8Array.of(-1, 3), BigUint64Array.of(2n ** 63n, 0n), Float32Array.of(NaN, 1),
      { data: new Float32Array(6).fill(NaN), shape: [2, 3] }, { data: new Int16Array(3), shape: [3] },
      { data: new Float32Array(5), shape: [6] }, 2 ** 40, -1n,
    ];
    for (const target of junk) {
      const fs = diagnose(x, target as never);
      expect(fs.some((f) => f.severity === 'error'), String(target)).toBe(true);
    }
  });
});

describe("the check option", () => {
  const probs = t2([[0.1, 0.7, 0.2], [0.3, 0.4, 0.3]]);
  let seen: Finding[];
  beforeEach(() => {
    seen = [];
    setDiagnosticsHandler((f) => seen.push(f));
    vi.mocked(runCheck).mockClear();
  });
  afterEach(() => {
    setDiagnosticsHandler(null);
    vi.restoreAllMocks();
  });

  it("'off' (and the default) runs nothing", () => {
    const { input, target } = healthy(8, 4);
    const want = crossEntropy(input, target);
    expect(crossEntropy(input, target, { check: 'off' })).toBe(want);
    crossEntropy(probs, [1, 0]);
    crossEntropy(probs, [1, 0], { check: 'off' });
    crossEntropyWithGrad(probs, [1, 0], { check: 'off' });
    nllLoss(probs, [1, 0], { check: 'off' });
    expect(runCheck).not.toHaveBeenCalled();
    expect(seen).toEqual([]);
  });

  it("'warn' reports warnings and errors to the handler, each code once until the handler is reset, and returns the same loss", () => {
    const want = crossEntropy(probs, [1, 0]);
    expect(crossEntropy(probs, [1, 0], { check: 'warn' })).toBe(want);
    expect(runCheck).toHaveBeenCalledTimes(1);
    expect(seen.map((f) => f.code)).toEqual(['probabilities-as-logits']);
    crossEntropy(probs, [1, 0], { check: 'warn' });
    crossEntropyWithGrad(probs, [1, 0], { check: 'warn' });
    expect(seen).toHaveLength(1); // once per code
    crossEntropy(t2([[0, 0, 0]]), [0], { check: 'warn' }); // a new code: constant-logits
    expect(seen.map((f) => f.code)).toEqual(['probabilities-as-logits', 'constant-logits']);
    crossEntropy(t2([[100, 1, 0]]), [0], { check: 'warn' }); // info (saturated-rows) is not reported
    expect(seen).toHaveLength(2);
    setDiagnosticsHandler((f) => seen.push(f)); // resets the memory
    crossEntropy(probs, [1, 0], { check: 'warn' });
    expect(seen).toHaveLength(3);
  });

  it("'warn' goes to console.warn by default", () => {
    setDiagnosticsHandler(null);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    crossEntropy(probs, [1, 0], { check: 'warn' });
    crossEntropy(probs, [1, 0], { check: 'warn' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^xent error \[probabilities-as-logits\]: every row/);
  });

  it("'warn' reports first, then crossEntropy throws its own error for what it refuses", () => {
    expect(() => crossEntropy(probs, [1, 5], { check: 'warn' })).toThrow(RangeError);
    expect(seen.map((f) => f.code)).toEqual(['target-out-of-range', 'probabilities-as-logits']);
    expect(() => crossEntropy(probs, Float32Array.of(0, 1, 0, 1, 0, 0) as never, { check: 'warn' })).toThrow(TypeError);
    expect(seen.map((f) => f.code)).toContain('one-hot-target');
  });

  it("'throw' throws an XentCheckError (a RangeError) carrying the findings, before any work", () => {
    const out = new Float32Array(6).fill(7);
    let err: unknown;
    try {
      crossEntropyWithGrad(probs, [1, 0], { check: 'throw', out });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XentCheckError);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as XentCheckError).name).toBe('XentCheckError');
    expect((err as XentCheckError).message).toMatch(/\[probabilities-as-logits\]/);
    expect(codes((err as XentCheckError).findings)).toEqual(['probabilities-as-logits']);
    expect(out.every((v) => v === 7)).toBe(true); // nothing computed
    expect(seen).toEqual([]); // errors travel in the exception, not to the handler
    // out-of-range indices: the check's error comes first, with the explanation
    expect(() => crossEntropy(t2([[1, 2, 3]]), [3], { check: 'throw' })).toThrow(/target-out-of-range/);
  });

  it("'throw' passes warnings to the handler and computes when there is no error", () => {
    const huge = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };
    expect(crossEntropy(huge, 3, { check: 'throw' })).toBe(142);
    expect(seen.map((f) => f.code)).toEqual(['underflowing-target']);
    const { input, target } = healthy(8, 4);
    expect(crossEntropyWithGrad(input, target, { check: 'throw' }).loss).toBe(crossEntropy(input, target));
  });

  it('nllLoss checks log-probabilities', () => {
    const { input, target } = healthy(8, 4);
    expect(() => nllLoss(input, target, { check: 'throw' })).toThrow(/logits-as-log-probabilities/);
    const logp = { data: logSoftmax(input), shape: [8, 4] };
    expect(nllLoss(logp, target, { check: 'throw' })).toBeCloseTo(crossEntropy(input, target) as number, 5);
  });

  it('rejects a bad check value and a bad handler', () => {
    expect(() => crossEntropy(probs, [1, 0], { check: 'loud' as never })).toThrow(/options.check: expected 'off', 'warn' or 'throw'/);
    expect(() => crossEntropy(probs, [1, 0], { check: true as never })).toThrow(TypeError);
    expect(() => setDiagnosticsHandler('log' as never)).toThrow(TypeError);
  });
});
