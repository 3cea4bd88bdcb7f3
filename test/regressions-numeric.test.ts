// Regressions of issue 11 (numerics): each test here failed before its fix. They assert values against a
// float64 reference, a PyTorch value or an exact property (bit-identical results under re-chunking or at
// another row position), on both backends where the behaviour applies.
import { afterEach, describe, expect, it } from 'vitest';
import {
  binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsWithGrad, crossEntropy, crossEntropyWithGrad,
  getBackendInfo, logSoftmax, logSumExp, setWasmMemoryLimit, softmax, tokenStats,
} from '../src/index.ts';
import { BACKENDS, isWasm, useBackend } from './helpers/backends.ts';
import { expectClose, expectSameBits, TOL } from './helpers/close.ts';
import { randomIndices, randomLogits, randomProbs, rng } from './helpers/random.ts';
import { crossEntropy64 } from './reference/ce64.ts';
import { bce64 } from './reference/xent64.ts';
import { kernels } from '../src/backend/select.ts';
import { xentCall } from '../src/ops/xent.ts';
import { CE_KEYS, resolveProblem } from '../src/problem.ts';
import { checkOptions } from '../src/args.ts';

const MiB = 2 ** 20;
const DEFAULT_LIMIT = 256 * MiB;

/** Uniform floats in [lo, hi), rounded to f32. */
function uniform(rand: () => number, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/** sum of binary_cross_entropy_with_logits in float64, pos_weight pw[i % L] and weight w[i] (or w[i % L]). */
function bceSum64(x: Float32Array, y: Float32Array, L: number, w?: Float32Array, pw?: Float32Array): number {
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i], lw = pw ? (pw[i % L] - 1) * y[i] + 1 : 1;
    const wi = w ? w[w.length === x.length ? i : i % L] : 1;
    total += wi * ((1 - y[i]) * v + lw * (Math.log1p(Math.exp(-Math.abs(v))) + Math.max(-v, 0)));
  }
  return total;
}

/** Gradient of index-target cross-entropy in float64 (no smoothing): scale w[t] (softmax(x / T) - onehot) / T,
 *  scale 1 / sum of w[t] for 'mean', 1 for 'sum'. Only the targets' weights are read. */
function ceGrad64(x: ArrayLike<number>, N: number, C: number, t: ArrayLike<number>, w: ArrayLike<number> | null, reduction: 'mean' | 'sum', T = 1): number[] {
  const wt = (n: number) => (w ? w[t[n]] : 1);
  let den = 0;
  for (let n = 0; n < N; n++) den += wt(n);
  const scale = reduction === 'mean' ? 1 / den : 1;
  const g: number[] = [];
  for (let n = 0; n < N; n++) {
    const z = Array.from({ length: C }, (_, c) => x[n * C + c] / T);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const se = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < C; c++) g.push((scale * wt(n) * (e[c] / se - (c === t[n] ? 1 : 0))) / T);
  }
  return g;
}

/** Entropy -sum p log p of softmax(x / T) in float64 (terms with p = 0 contribute 0). */
function entropy64(x: ArrayLike<number>, T = 1): number {
  const z = Array.from(x, (v) => v / T);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const se = e.reduce((a, b) => a + b, 0);
  let h = 0;
  for (const v of e) if (v > 0) h -= (v / se) * Math.log(v / se);
  return h;
}

// ------------------------------------------------------------------------------------------------------
// 6. binaryCrossEntropyWithLogits on flat inputs: chunked over elements, summed in fixed blocks

describe.each(BACKENDS)('6. BCE is chunked and summed over elements on %s', (backend) => {
  useBackend(backend);
  afterEach(() => setWasmMemoryLimit(DEFAULT_LIMIT));

  // first in the file: the memory never shrinks, so this must run before anything grows it
  it('a flat input (with per-element weights or pos_weight) stays under the memory limit', () => {
    const n = isWasm(backend) ? 2 ** 23 : 2 ** 20, half = n / 2, rand = rng(61); // the float64 js backend: less
    const x = uniform(rand, n, -4, 4), y = uniform(rand, n, 0, 1), w = uniform(rand, n, 0, 2), pw = uniform(rand, n, 0.5, 3);
    const before = getBackendInfo().wasmMemoryBytes;
    setWasmMemoryLimit(MiB);
    const plain = binaryCrossEntropyWithLogits(x, y, { reduction: 'sum' }) as number;
    const weighted = binaryCrossEntropyWithLogits(x, y, { reduction: 'sum', weight: w, posWeight: pw }) as number;
    // 2 rows of n / 2: the weight (one per last-axis position) is larger than the limit
    const shape = [2, half];
    const rowW = w.subarray(0, half), rowPw = pw.subarray(0, half);
    const shaped = binaryCrossEntropyWithLogits({ data: x, shape }, { data: y, shape }, { reduction: 'sum', weight: rowW, posWeight: rowPw }) as number;
    // before the fix: 64 MiB and more (a flat input was one row, copied whole)
    if (isWasm(backend)) expect(getBackendInfo().wasmMemoryBytes).toBe(before);
    setWasmMemoryLimit(DEFAULT_LIMIT);
    const big = {
      plain: binaryCrossEntropyWithLogits(x, y, { reduction: 'sum' }) as number,
      weighted: binaryCrossEntropyWithLogits(x, y, { reduction: 'sum', weight: w, posWeight: pw }) as number,
    };
    expect(plain).toBe(big.plain);
    expect(weighted).toBe(big.weighted);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(rel(plain, bceSum64(x, y, n))).toBeLessThan(3e-7); // before: 6.5e-4, after: 2.5e-8
    expect(rel(weighted, bceSum64(x, y, n, w, pw))).toBeLessThan(3e-7);
    expect(rel(shaped, bceSum64(x, y, half, rowW, rowPw))).toBeLessThan(3e-7);
  });

  it('a flat 2^24 sum is as accurate as the same data shaped [4096, 4096], and bit-identical to it', () => {
    const n = isWasm(backend) ? 2 ** 24 : 2 ** 20, rand = rng(62);
    const x = uniform(rand, n, -4, 4), y = uniform(rand, n, 0, 1);
    const want = bceSum64(x, y, n);
    const flat = binaryCrossEntropyWithLogits(x, y, { reduction: 'sum' }) as number;
    // before: 6.0e-4 flat, 1.1e-7 shaped [4096, 4096] (f32 lanes over a whole row); after: 1.0e-8 both
    expect(Math.abs(flat - want) / want).toBeLessThan(3e-7);
    for (const shape of [[Math.sqrt(n), Math.sqrt(n)], [n / 3 | 0, 3]]) {
      const m = shape[0] * shape[1];
      const sum = binaryCrossEntropyWithLogits({ data: x.subarray(0, m), shape }, { data: y.subarray(0, m), shape }, { reduction: 'sum' });
      const flatSum = m === n ? flat : binaryCrossEntropyWithLogits(x.subarray(0, m), y.subarray(0, m), { reduction: 'sum' });
      expect(sum, `${shape}`).toBe(flatSum);
    }
  });
});

// ------------------------------------------------------------------------------------------------------
// 7. Rows of more than 2^20 classes: the error of a row's sum does not grow with C

describe.each(BACKENDS)('7. accuracy beyond 2^20 classes on %s', (backend) => {
  useBackend(backend);

  it('logSumExp, softmax and crossEntropy of one 2^24-class row', () => {
    const C = isWasm(backend) ? 2 ** 24 : 2 ** 22, rand = rng(71); // the float64 js backend: less
    // uniform[-8, 8) shifted by -22: logsumexp is near 0, so its f32 rounding does not hide the sum's error
    const x = uniform(rand, C, -30, -14);
    let m = -Infinity;
    for (let i = 0; i < C; i++) m = Math.max(m, x[i]);
    let se = 0;
    for (let i = 0; i < C; i++) se += Math.exp(x[i] - m);
    const lse64 = m + Math.log(se);
    // |lse - lse64| is the relative error of the sum of exponentials. Before: 3.9e-6 (2^20: 2.0e-7, 2^22:
    // 1.3e-6); after: 1.2e-7 (2^20: 2.0e-7, 2^22: 3.2e-7, the fast exp's own error)
    expect(Math.abs(logSumExp(x)[0] - lse64)).toBeLessThan(6e-7);
    const p = softmax(x);
    let sum = 0;
    for (let i = 0; i < C; i++) sum += p[i];
    expect(Math.abs(sum - 1)).toBeLessThan(6e-7); // before: 3.5e-6, after: 1.7e-7
    const t = 12345;
    const loss = crossEntropy({ data: x, shape: [1, C] }, [t]) as number;
    expect(Math.abs(loss - (lse64 - x[t])) / (lse64 - x[t])).toBeLessThan(1e-7); // before: 1.6e-7, after: 5e-9
  });
});

// ------------------------------------------------------------------------------------------------------
// 8. tokenStats: the entropy of a row with masked (-inf) logits

const F16_NEG_INF = 0xfc00, BF16_NEG_INF = 0xff80;
const f16 = (v: number) => ({ 0: 0x0000, 1: 0x3c00, 2: 0x4000, 3: 0x4200 })[v as 0 | 1 | 2 | 3];
const bf16 = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0] >>> 16;

describe.each(BACKENDS)('8. tokenStats entropy with -inf logits on %s', (backend) => {
  useBackend(backend);

  it('[[-inf, 1, 2, 3], [0, 0, -inf, -inf]]: 0.8324 and 0.6931, as Categorical(logits).entropy()', () => {
    const rows = [-Infinity, 1, 2, 3, 0, 0, -Infinity, -Infinity];
    const want = [entropy64([1, 2, 3]), Math.log(2)]; // 0.83240, 0.69315 (PyTorch: 0.8324, 0.6931)
    expect(want[0]).toBeCloseTo(0.8324, 4);
    const inputs = [
      { data: Float32Array.from(rows), shape: [2, 4] },
      { data: Uint16Array.from(rows, (v) => (v === -Infinity ? F16_NEG_INF : f16(v))), shape: [2, 4], dtype: 'float16' as const },
      { data: Uint16Array.from(rows, (v) => (v === -Infinity ? BF16_NEG_INF : bf16(v))), shape: [2, 4], dtype: 'bfloat16' as const },
    ];
    for (const input of inputs) {
      const st = tokenStats(input, [1, 0]); // before: NaN, NaN
      expectClose(st.entropy, want, TOL.loss, `entropy ${'dtype' in input ? input.dtype : 'float32'}`);
      expectClose(st.logSumExp, [Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), Math.log(2)], TOL.loss, 'logsumexp');
    }
  });

  it('masked logits in long rows, whole -inf blocks, a temperature', () => {
    const rand = rng(81);
    for (const C of [20, 3000]) {
      const x = randomLogits(rand, 2 * C, 2);
      for (let c = 0; c < C; c++) if (c < C / 2 || c % 3 === 0) x[c] = -Infinity; // row 0 of 3000: a whole -inf block
      for (let c = 0; c < C; c += 2) x[C + c] = -Infinity;
      for (const T of [1, 0.6]) {
        const st = tokenStats({ data: x, shape: [2, C] }, [C - 1, 1], { temperature: T });
        const want = [entropy64(x.subarray(0, C), T), entropy64(x.subarray(C), T)];
        expectClose(st.entropy, want, TOL.loss, `C=${C} T=${T}`);
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------------
// 9. An unused class's NaN or Infinity weight does not reach the gradient

describe.each(BACKENDS)('9. weights of unused classes on %s', (backend) => {
  useBackend(backend);

  it('[[1,2,3],[4,5,6]], targets [0, 2], weight [1, NaN, 1]: loss 1.4076, finite gradient', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    for (const bad of [NaN, Infinity]) {
      const weight = [1, bad, 1];
      for (const reduction of ['mean', 'sum'] as const) {
        const r = crossEntropyWithGrad({ data: x, shape: [2, 3] }, [0, 2], { weight, reduction });
        // any finite value for the unused weight gives the reference (it reads only the targets' weights)
        expectClose(r.loss as number, crossEntropy64(x, [2, 3], [0, 2], true, { weight: [1, 0, 1], reduction }) as number, TOL.loss, `loss ${reduction}`);
        // 'sum': [-0.910, 0.245, 0.665, 0.090, 0.245, -0.335]; 'mean' halves it. Before: all NaN
        expectClose(r.grad, ceGrad64(x, 2, 3, [0, 2], [1, 0, 1], reduction), TOL.grad, `grad ${reduction} w=${bad}`);
        if (reduction === 'mean') expect(r.loss).toBeCloseTo(1.4076, 4);
        else expectClose(r.grad, [-0.910, 0.245, 0.665, 0.090, 0.245, -0.335], { rtol: 0, atol: 6e-4 }, 'PyTorch, rounded');
      }
      // labelSmoothing > 0 puts every weight into the loss, as PyTorch does
      const s = crossEntropyWithGrad({ data: x, shape: [2, 3] }, [0, 2], { weight, labelSmoothing: 0.1 });
      expect(s.loss).toBe(Number.isNaN(bad) ? NaN : Infinity);
      expect(Array.from(s.grad).some((v) => !Number.isFinite(v))).toBe(true);
    }
  });

  it('small-C lanes, long rows, K-dim, reduction none', () => {
    const rand = rng(91);
    for (const [N, C, S] of [[9, 5, 1], [6, 40, 1], [3, 7, 5]]) {
      const shape = S === 1 ? [N, C] : [N, C, S];
      const x = randomLogits(rand, N * C * S);
      const t = Int32Array.from({ length: N * S }, (_, i) => (i * 2) % (C - 1)); // class C - 1 unused
      const w = Float32Array.from({ length: C }, (_, c) => (c === C - 1 ? NaN : 0.5 + c / C));
      const clean = w.map((v) => (Number.isNaN(v) ? 12345 : v)); // any finite value: it must not matter
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const got = crossEntropyWithGrad({ data: x, shape }, t, { weight: w, reduction });
        const want = crossEntropyWithGrad({ data: x, shape }, t, { weight: clean, reduction });
        expect(Array.from(got.grad).every(Number.isFinite), `${shape} ${reduction}`).toBe(true);
        expectSameBits(got.grad, want.grad, `${shape} ${reduction} grad`);
        if (reduction === 'none') expectSameBits(got.loss as Float32Array, want.loss as Float32Array, `${shape} loss`);
        else expect(got.loss).toBe(want.loss);
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------------
// 10. Extreme temperatures

describe.each(BACKENDS)('10. extreme temperatures on %s', (backend) => {
  useBackend(backend);

  it('1e300, 1e30 and 1e-30 (small logits): the float64 loss and gradient, C % 4 != 0 and == 0, lanes and rows', () => {
    const rand = rng(101);
    for (const T of [1e300, 1e30, 1e-30, 2 ** -126]) {
      for (const C of [3, 4, 7, 8, 13, 16, 21, 24, 1031]) {
        const N = 6;
        // logits of the temperature's scale, so that x / T is of order 1
        const scale = T < 1 ? T : 1;
        const x = Float32Array.from(randomLogits(rand, N * C, 2), (v) => v * scale);
        const t = randomIndices(rand, N, C);
        const z = Array.from(x, (v) => v / T);
        const r = crossEntropyWithGrad({ data: x, shape: [N, C] }, t, { temperature: T, reduction: 'sum' });
        // before: NaN on wasm for T = 1e300 and C % 4 != 0
        expectClose(r.loss as number, crossEntropy64(z, [N, C], t, true, { reduction: 'sum' }) as number, TOL.loss, `T=${T} C=${C} loss`);
        const g = ceGrad64(x, N, C, t, null, 'sum', T);
        if (T < 1) expectClose(Array.from(r.grad, (v) => v * T), g.map((v) => v * T), TOL.grad, `T=${T} C=${C} grad`);
        else expectClose(r.grad, g, TOL.grad, `T=${T} C=${C} grad`);
      }
    }
  });

  it('a -inf logit stays -inf under temperature 1e300 (1 / T is 0 in f32), with and without softcap', () => {
    for (const C of [7, 8, 21]) {
      const x = { data: Float32Array.from({ length: C }, (_, i) => (i === 0 ? -Infinity : i / 2)), shape: [1, C] };
      // before: NaN on wasm (-inf * 0)
      expectClose(crossEntropy(x, [1], { temperature: 1e300 }) as number, Math.log(C - 1), TOL.loss, `C=${C}`);
      expectClose(crossEntropy(x, [1], { temperature: 1e300, softcap: 5 }) as number, Math.log(C - 1 + Math.exp(-5)), TOL.loss, `C=${C} softcap`);
    }
  });

  it('a temperature below 2^-126 is refused: its reciprocal overflows float32', () => {
    const x = { data: Float32Array.of(1, 2, 3), shape: [1, 3] };
    // before: NaN on wasm, Infinity on js
    for (const T of [1e-40, 2 ** -127, 1e-300]) {
      expect(() => crossEntropy(x, [0], { temperature: T })).toThrow(RangeError);
      expect(() => crossEntropy(x, [0], { temperature: T })).toThrow(/^options\.temperature: .*reciprocal overflows float32/);
      expect(() => tokenStats(x, [0], { temperature: T })).toThrow(/^options\.temperature: /);
    }
    expect(Number.isFinite(crossEntropy(x, [0], { temperature: 2 ** -126 }))).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------------
// 11 (a-c). A row's results do not depend on its position: every row of C <= 16 takes the lanes,
// softcap's last vector runs the vector code, the lanes temper (x - max) as the row kernel does

type Case = { label: string; C: number; S?: number; opts: Record<string, unknown>; prob?: boolean };

const CASES: Case[] = [
  { label: 'plain', C: 16, opts: {} },
  { label: 'temperature', C: 10, opts: { temperature: 0.7 } },
  { label: 'softcap', C: 7, opts: { softcap: 4, temperature: 1.3 } },
  { label: 'zLoss', C: 13, opts: { zLoss: 1e-3 } },
  { label: 'smoothing', C: 5, opts: { labelSmoothing: 0.1 } },
  { label: 'weight', C: 3, opts: { weight: 'random' } },
  { label: 'prob', C: 11, opts: { labelSmoothing: 0.05 }, prob: true },
  { label: 'K-dim', C: 6, S: 7, opts: { temperature: 1.5, zLoss: 1e-4 } },
  { label: 'rows', C: 37, opts: { softcap: 10, zLoss: 1e-4 } },
  { label: 'long rows', C: 1500, opts: { labelSmoothing: 0.1, temperature: 0.9 } },
  { label: 'long prob rows', C: 1100, opts: {}, prob: true },
];

function makeCase(rand: () => number, c: Case, N: number) {
  const S = c.S ?? 1;
  const shape = S === 1 ? [N, c.C] : [N, c.C, S];
  const data = randomLogits(rand, N * c.C * S);
  const opts: Record<string, unknown> = { ...c.opts };
  if (opts.weight === 'random') opts.weight = Float32Array.from({ length: c.C }, () => 0.25 + rand());
  const target = c.prob ? { data: randomProbs(rand, N, c.C, S), shape } : randomIndices(rand, N * S, c.C, -100, 0.1);
  return { input: { data, shape }, target, opts };
}

/** Every output of the cross-entropy family for one case (f32 arrays, to compare bit by bit). */
function outputs(k: ReturnType<typeof makeCase>) {
  const { input, target, opts } = k;
  const out: Record<string, Float32Array> = {};
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    const l = crossEntropy(input, target, { ...opts, reduction });
    out[`loss ${reduction}`] = typeof l === 'number' ? Float32Array.of(l) : l;
  }
  for (const reduction of ['mean', 'none'] as const) {
    const r = crossEntropyWithGrad(input, target, { ...opts, reduction });
    out[`grad ${reduction}`] = r.grad;
    out[`grad loss ${reduction}`] = typeof r.loss === 'number' ? Float32Array.of(r.loss) : r.loss;
    if (r.zLoss !== undefined) out[`zLoss ${reduction}`] = Float32Array.of(r.zLoss);
  }
  out.logSoftmax = logSoftmax(input, { dim: 1 });
  out.softmax = softmax(input, { dim: 1 });
  out.logSumExp = logSumExp(input, { dim: 1 });
  return out;
}

describe.each(BACKENDS)("11. a row's results do not depend on its position on %s", (backend) => {
  useBackend(backend);

  it('temperature in the small-C lanes: the same loss alone and in a batch of 4', () => {
    const rand = rng(114);
    const row = randomLogits(rand, 10);
    const batch = new Float32Array(40);
    batch.set(randomLogits(rand, 40));
    batch.set(row, 20);
    const opts = { temperature: 0.37, reduction: 'none' as const };
    const alone = crossEntropy({ data: row, shape: [1, 10] }, [3], opts) as Float32Array;
    const inBatch = crossEntropy({ data: batch, shape: [4, 10] }, [0, 1, 3, 2], opts) as Float32Array;
    expect(inBatch[2]).toBe(alone[0]); // before: 2.2116067 in the batch, 2.2117343 alone (wasm)
    const want = crossEntropy64(Array.from(row, (v) => v / 0.37), [1, 10], [3], true, { reduction: 'none' }) as number[];
    expectClose(alone, want, TOL.loss, 'vs float64');
  });

  it('loss, gradient and the softmax family at every position of batches of 1 to 9 rows', () => {
    const rand = rng(115);
    const Cs = [1, 2, 3, 5, 10, 16, 17, 40, 1500];
    for (const c of [...CASES.filter((k) => !k.S), ...Cs.map((C) => ({ label: `C=${C}`, C, opts: { temperature: 0.8, softcap: 3 } }))]) {
      const C = c.C;
      const row = randomLogits(rand, C);
      const rowTarget = c.prob ? randomProbs(rand, 1, C, 1) : Int32Array.of(Math.floor(rand() * C));
      const opts: Record<string, unknown> = { ...c.opts, reduction: 'none' };
      if (opts.weight === 'random') opts.weight = Float32Array.from({ length: C }, () => 0.25 + rand());
      const run = (x: Float32Array, t: Int32Array | Float32Array, N: number) => {
        const input = { data: x, shape: [N, C] };
        const target = c.prob ? { data: t as Float32Array, shape: [N, C] } : t;
        const r = crossEntropyWithGrad(input, target, opts);
        return { loss: r.loss as Float32Array, grad: r.grad, lsm: logSoftmax(input), sm: softmax(input), lse: logSumExp(input) };
      };
      const alone = run(row, rowTarget, 1);
      for (let N = 1; N <= 9; N++) {
        for (let p = 0; p < N; p++) {
          const x = randomLogits(rand, N * C);
          x.set(row, p * C);
          let t: Int32Array | Float32Array;
          if (c.prob) {
            t = randomProbs(rand, N, C, 1);
            t.set(rowTarget, p * C);
          } else {
            t = randomIndices(rand, N, C);
            t[p] = rowTarget[0];
          }
          const got = run(x, t, N);
          const at = `${c.label} N=${N} p=${p}`;
          expectSameBits(got.loss.subarray(p, p + 1), alone.loss, `${at} loss`);
          expectSameBits(got.grad.subarray(p * C, (p + 1) * C), alone.grad, `${at} grad`);
          expectSameBits(got.lsm.subarray(p * C, (p + 1) * C), alone.lsm, `${at} logSoftmax`);
          expectSameBits(got.sm.subarray(p * C, (p + 1) * C), alone.sm, `${at} softmax`);
          expectSameBits(got.lse.subarray(p, p + 1), alone.lse, `${at} logSumExp`);
        }
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------------
// 11 (d). Results do not depend on chunking: the running f64 totals go into each kernel call

/** The backend's float64 sums, before the f32 reduction hides their last bits: the loss, the z-loss part. */
function f64Totals(k: ReturnType<typeof makeCase>): number[] {
  const call = xentCall(resolveProblem(k.input, k.target, checkOptions({ ...k.opts, reduction: 'sum' }, CE_KEYS)), {});
  const { total, zTotal } = kernels().run(call);
  return [total, zTotal];
}

function bceTotal(x: Float32Array, y: Float32Array, shape: number[], w: Float32Array, pw: Float32Array): number {
  const L = shape[shape.length - 1];
  return kernels().run({
    kernel: 'bce', rows: x.length, scalars: { L, wMode: 1, gscale: 1 },
    arrays: { x: { role: 'in', data: x, per: 1 }, y: { role: 'in', data: y, per: 1 }, weight: { role: 'cycle', data: w, period: L }, posWeight: { role: 'cycle', data: pw, period: L } },
  }).total;
}

function bceOutputs(x: Float32Array, y: Float32Array, shape: number[], w: Float32Array, pw: Float32Array) {
  const out: Record<string, Float32Array> = {};
  const xs = { data: x, shape }, ys = { data: y, shape };
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    for (const [name, o] of [['plain', {}], ['weighted', { weight: w, posWeight: pw }]] as const) {
      const l = binaryCrossEntropyWithLogits(xs, ys, { ...o, reduction });
      out[`bce ${name} ${reduction}`] = typeof l === 'number' ? Float32Array.of(l) : l;
      out[`bce grad ${name} ${reduction}`] = binaryCrossEntropyWithLogitsWithGrad(xs, ys, { ...o, reduction }).grad;
    }
  }
  return out;
}

describe('11. results do not depend on chunking (wasm)', () => {
  useBackend('wasm');
  afterEach(() => setWasmMemoryLimit(DEFAULT_LIMIT));

  it('C = 16, N = 3014: the same losses at 256 MiB and at 69632 bytes', () => {
    const rand = rng(111);
    const x = { data: randomLogits(rand, 3014 * 16), shape: [3014, 16] };
    const t = randomIndices(rand, 3014, 16);
    const whole = crossEntropy(x, t, { reduction: 'none' }) as Float32Array;
    setWasmMemoryLimit(69632);
    expectSameBits(crossEntropy(x, t, { reduction: 'none' }) as Float32Array, whole, 'losses'); // before: 10 differ
  });

  it('every output is bit-identical under random memory limits', () => {
    const rand = rng(112);
    for (const c of CASES) {
      const perRow = c.C * (c.S ?? 1);
      const N = 1 + Math.floor(rand() * Math.max(8, 300000 / perRow));
      const k = makeCase(rand, c, N);
      const whole = outputs(k), totals = f64Totals(k);
      for (let i = 0; i < 3; i++) {
        const limit = 65536 + Math.floor(rand() * (i === 0 ? 2 ** 16 : 2 ** 19));
        setWasmMemoryLimit(limit);
        const got = outputs(k);
        for (const key of Object.keys(whole)) expectSameBits(got[key], whole[key], `${c.label} N=${N} limit=${limit} ${key}`);
        // before: each chunk's sum (of groups of 4 rows) was added to the total
        expect(f64Totals(k), `${c.label} N=${N} limit=${limit} f64 totals`).toEqual(totals);
      }
      setWasmMemoryLimit(DEFAULT_LIMIT);
    }
  });

  it('BCE outputs are bit-identical under random memory limits', () => {
    const rand = rng(113);
    for (const shape of [[200003], [1000, 301], [77, 3, 1025], [40000, 3]]) {
      const n = shape.reduce((a, b) => a * b, 1), L = shape[shape.length - 1];
      const x = uniform(rand, n, -5, 5), y = uniform(rand, n, 0, 1);
      const w = uniform(rand, L, 0, 2), pw = uniform(rand, L, 0.5, 3);
      const whole = bceOutputs(x, y, shape, w, pw), total = bceTotal(x, y, shape, w, pw);
      for (let i = 0; i < 3; i++) {
        const limit = 65536 + Math.floor(rand() * (i === 0 ? 2 ** 16 : 2 ** 19));
        setWasmMemoryLimit(limit);
        const got = bceOutputs(x, y, shape, w, pw);
        for (const key of Object.keys(whole)) expectSameBits(got[key], whole[key], `${shape} limit=${limit} ${key}`);
        expect(bceTotal(x, y, shape, w, pw), `${shape} limit=${limit} f64 total`).toBe(total);
      }
      setWasmMemoryLimit(DEFAULT_LIMIT);
    }
  });
});

// ------------------------------------------------------------------------------------------------------
// 12. BCE with logits far below 0: PyTorch's (1 - y) x + lw (log1p(e^-|x|) + max(-x, 0)) cancels in float32

describe.each(BACKENDS)('12. BCE at large negative logits on %s', (backend) => {
  useBackend(backend);

  it('x = -30 .. -100, soft targets, pos_weight and weight: each loss and gradient within TOL of float64', () => {
    const x = Float32Array.from([-30, -30, -47.3, -64.1, -99.9, -12.5, -88.8, -30, 30, 47.3, -1e-3, 0]);
    const y = Float32Array.from([0.3, 0.7, 0.001, 0.003, 0.0021, 0.01, 0.0007, 0.999, 0.3, 0.1, 0.5, 0.2]);
    const L = 4, shape = [3, L];
    const w = Float32Array.from([1, 0.5, 1.7, 0.3]), pw = Float32Array.from([1, 2.5, 0.7, 1.9]);
    for (const opts of [{}, { posWeight: pw }, { weight: w, posWeight: pw }]) {
      const ref = bce64(x, y, shape, { ...opts, ...(opts.weight ? { weight: { data: w, shape: [L] } } : {}), reduction: 'none' });
      const { loss, grad } = binaryCrossEntropyWithLogitsWithGrad({ data: x, shape }, { data: y, shape }, { ...opts, reduction: 'none' });
      // before (wasm): loss[4] (x = -99.9, y = 0.0021) 0.20978546 for 0.20978999, abs error 4.5e-6; after 0
      expectClose(loss as Float32Array, ref.loss as number[], TOL.loss, `${Object.keys(opts)} loss`);
      expectClose(grad, ref.grad, TOL.grad, `${Object.keys(opts)} grad`);
    }
  });

  it('-inf gives NaN (as PyTorch), +inf and NaN as before', () => {
    const x = Float32Array.from([-Infinity, -Infinity, Infinity, NaN]), y = Float32Array.from([0, 0.5, 0.5, 0.5]);
    const loss = binaryCrossEntropyWithLogits(x, y, { reduction: 'none' }) as Float32Array;
    expect(Array.from(loss)).toEqual([NaN, NaN, Infinity, NaN]);
  });
});

// ------------------------------------------------------------------------------------------------------
// 13. A dominant logit: the row max's exp(0) = 1 sat in one f32 lane, and every small term added to that
// lane rounded at ulp(1); se - 1 (and so L = log(se), a confident row's loss) kept only that lane's error

describe.each(BACKENDS)('13. a dominant logit does not swallow the small terms on %s', (backend) => {
  useBackend(backend);

  it('one logit 0, the others about -(ln C + 10): logsumexp, loss and target gradient within 1e-5 relative of float64', () => {
    for (const C of [1025, 4096, 32000]) {
      const rand = rng(C), N = 2, x = new Float32Array(N * C);
      for (let i = 0; i < x.length; i++) x[i] = -(Math.log(C) + 10) + 0.5 * (rand() - 0.5);
      const t = Int32Array.from([3, C - 2]);
      for (let n = 0; n < N; n++) x[n * C + t[n]] = 0;
      let se = [0, 0];
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) se[n] += Math.exp(x[n * C + c]);
      const want = se.map((s) => Math.log(s)); // logsumexp = the loss (target at the max 0)
      const lse = logSumExp({ data: x, shape: [N, C] }) as Float32Array;
      const loss = crossEntropy({ data: x, shape: [N, C] }, t, { reduction: 'none' }) as Float32Array;
      const { grad } = crossEntropyWithGrad({ data: x, shape: [N, C] }, t, { reduction: 'sum' });
      for (let n = 0; n < N; n++) {
        const rel = (g: number, w: number) => Math.abs(g - w) / Math.abs(w);
        // before (wasm; C = 1025, 4096, 32000): 25%, 6.1%, 1.0% relative (C = 1025: 3.43e-5 for 4.58e-5);
        // after: 2.7e-7, 1.2e-7, 3.1e-7. The loss the same
        expect(rel(lse[n], want[n]), `C=${C} lse`).toBeLessThan(1e-5);
        expect(rel(loss[n], want[n]), `C=${C} loss`).toBeLessThan(1e-5);
        // grad[t] = 1 / se - 1: before 25%, 6.1%, 1.0% relative; after 1.8e-7, 6.2e-8, 1.8e-7
        expect(rel(grad[n * C + t[n]], 1 / se[n] - 1), `C=${C} grad`).toBeLessThan(1e-5);
      }
    }
  });
});
