// Fuzz suite (issue 11): fast-check properties over random shapes (1-D, 2-D, K-dim, N = 0, C = 1..300 and
// now and then a large C), options, dtypes (float32, float16/bfloat16 bit patterns), aliasing and memory
// limits. Every result is checked against the float64 references (test/reference/) and against the other
// backend; every refusal for its error class, a message naming the argument, an unchanged WASM memory,
// unchanged caller arrays and a right next call; and the invariances the kernels promise hold bit for bit:
// the same results whatever the memory limit (chunking) and wherever a row sits in the batch.
//
// Budget: a fixed seed and few runs, so that `npm test` is deterministic and this file stays well under
// 20 s on a busy 2-core machine. `npm run fuzz` multiplies every property's runs by XENT_FUZZ_SCALE (20
// there; any number works: `XENT_FUZZ_SCALE=50 npx vitest run test/fuzz.test.ts`), and XENT_FUZZ_SEED picks
// another seed. A failure prints fast-check's shrunk counterexample: a small spec record from which the
// arrays are rebuilt deterministically (helpers/random.ts), with the seed and path that replay it.
//
// Each `it` checks one thing, so that a failure names its defect class; the refusal and aliasing checks
// are one `it` per argument for the same reason.
import fc from 'fast-check';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  allocFloat32, binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsWithGrad, crossEntropy,
  crossEntropyWithGrad, getBackendInfo, logSoftmax, logSumExp, nllLoss, perplexity, setBackend,
  setWasmMemoryLimit, softmax, tokenLogProbs, tokenStats,
} from '../src/index.ts';
import type { WasmFloat32Array } from '../src/index.ts';
import { BACKENDS, selectBackend, useBackend, WASM_BACKENDS, type Backend } from './helpers/backends.ts';
import { expectClose, expectSameBits, TOL, type Tolerance } from './helpers/close.ts';
import { randn, randomIndices, randomLogits, randomProbs, rng } from './helpers/random.ts';
import { classOp64, layoutOf } from './reference/ce64.ts';
import { bce64, crossEntropyRef64, half64, rowLogSumExp64, tokenStats64 } from './reference/xent64.ts';

// ---------------------------------------------------------------------------------------------
// Budget and bookkeeping

const SCALE = Math.max(1, Number(process.env.XENT_FUZZ_SCALE ?? 1));
const SEED = Number(process.env.XENT_FUZZ_SEED ?? 20261211);
/** fast-check's parameters: `n` runs at the CI budget, times XENT_FUZZ_SCALE. */
function runs(n: number, examples?: unknown[][]): fc.Parameters<any> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)), includeErrorInReport: true, ...(examples ? { examples } : {}) };
}
const TIMEOUT = 120_000 * SCALE;
const MiB = 2 ** 20;
const DEFAULT_LIMIT = 256 * MiB;

/** allocFloat32 blocks of the current property run; freed after each run and each test. */
const live: WasmFloat32Array[] = [];
function alloc(n: number): WasmFloat32Array {
  const a = allocFloat32(n);
  live.push(a);
  return a;
}
function freeAll(): void {
  live.splice(0).forEach((a) => a.free());
}
function restore(): void {
  freeAll();
  setWasmMemoryLimit(DEFAULT_LIMIT);
  setBackend('auto');
}
afterEach(restore);

/** A property body that always puts the memory limit, the backend and the allocations back. */
function clean<A extends unknown[]>(body: (...a: A) => void): (...a: A) => void {
  return (...a: A) => {
    try {
      body(...a);
    } finally {
      restore();
    }
  };
}

/** fn on each backend. */
function onBackends<T>(fn: (b: Backend) => T, backends: readonly Backend[] = BACKENDS): Record<Backend, T> {
  const out = {} as Record<Backend, T>;
  for (const b of backends) {
    selectBackend(b);
    out[b] = fn(b);
  }
  setBackend('auto');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Calls: one public function and its arguments, its outputs as named float32 arrays

type Op =
  | 'crossEntropy' | 'crossEntropyWithGrad' | 'nllLoss' | 'logSoftmax' | 'softmax' | 'logSumExp'
  | 'bce' | 'bceWithGrad' | 'tokenLogProbs' | 'tokenStats' | 'perplexity';

interface Call {
  op: Op;
  input: any;
  target?: any;
  options: Record<string, any>;
  /** The spec family, for the refusal table. */
  family?: Spec['family'];
}

type Outputs = Record<string, Float32Array>;
type Wanted = Record<string, ArrayLike<number>> & { [GRAD_FLOOR]?: number };

/** The size of the float32 rounding in a cross-entropy gradient, which is formed as the difference of terms
 *  of size |scale| / T (times the class coefficients, at most max(1, w)): where those terms nearly cancel
 *  (a one-class row, a saturated softcap whose 1 - tanh^2 comes from a rounded tanh, as in PyTorch's own
 *  tanh backward) the result is off by a few float32 steps of the terms, not of the result. */
const GRAD_FLOOR = Symbol('gradient rounding floor');

const FNS: Record<Op, (...a: any[]) => any> = {
  crossEntropy, crossEntropyWithGrad, nllLoss, logSoftmax, softmax, logSumExp, tokenLogProbs, tokenStats, perplexity,
  bce: binaryCrossEntropyWithLogits, bceWithGrad: binaryCrossEntropyWithLogitsWithGrad,
};

const HAS_TARGET = (op: Op) => !['logSoftmax', 'softmax', 'logSumExp'].includes(op);

/** A copy of a float32 result (a number, or an array read through the engine, never through its methods). */
const f32 = (v: number | Float32Array): Float32Array => (typeof v === 'number' ? Float32Array.of(v) : new Float32Array(v));

/** Calls the function and names its outputs. */
function invoke(c: Call): Outputs {
  const fn = FNS[c.op];
  const r = HAS_TARGET(c.op) ? fn(c.input, c.target, c.options) : fn(c.input, c.options);
  switch (c.op) {
    case 'crossEntropyWithGrad':
      return { loss: f32(r.loss), grad: f32(r.grad), ...(r.zLoss !== undefined ? { zLoss: f32(r.zLoss) } : {}) };
    case 'bceWithGrad':
      return { loss: f32(r.loss), grad: f32(r.grad) };
    case 'tokenStats':
      return { logProbs: f32(r.logProbs), logSumExp: f32(r.logSumExp), entropy: f32(r.entropy) };
    case 'tokenLogProbs':
      return { logProbs: f32(r) };
    case 'perplexity': // compared in log space: exp turns an absolute error of the mean into a relative one
      return { logPerplexity: f32(Math.log(r)) };
    case 'logSoftmax': case 'softmax': case 'logSumExp':
      return { [c.op]: f32(r) };
    default:
      return { loss: f32(r) };
  }
}

function maxAbsFinite(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** The tolerance of an output against float64: TOL's row for its kind; the gradient's atol relative to its
 *  largest entry when that exceeds 1 (`relative`: always relative, floored at two f32 subnormal steps). */
function tolFor(name: string, want: ArrayLike<number>, loose = 1, relative = false): Tolerance {
  const t = name === 'grad' ? TOL.grad : name === 'softmax' ? TOL.softmax : name === 'logSoftmax' ? TOL.logSoftmax : TOL.loss;
  let atol = t.atol;
  if (name === 'grad') atol = relative ? Math.max(t.atol * maxAbsFinite(want), 3e-45) : t.atol * Math.max(1, maxAbsFinite(want));
  return { rtol: t.rtol * loose, atol: atol * loose };
}

/** Every output within tolerance of the float64 answer rounded to float32 (so 6e38 must be inf). */
function expectNear(got: Outputs, want: Wanted, label: string, opts: { loose?: number; relative?: boolean } = {}): void {
  expect(Object.keys(got).sort(), `${label}: outputs`).toEqual(Object.keys(want).sort());
  for (const [name, w] of Object.entries(want)) {
    const w32 = Array.from(w, Math.fround);
    const tol = tolFor(name, w32, opts.loose, opts.relative);
    if (name === 'grad') tol.atol = Math.max(tol.atol, want[GRAD_FLOOR] ?? 0);
    expectClose(got[name], w32, tol, `${label} ${name}`);
  }
}

function expectSameOutputs(got: Outputs, want: Outputs, label: string): void {
  expect(Object.keys(got).sort(), `${label}: outputs`).toEqual(Object.keys(want).sort());
  for (const name of Object.keys(want)) expectSameBits(got[name], want[name], `${label} ${name}`);
}

/** On both backends: against float64, and the backends against each other. */
function checkBoth(c: Call, want: Wanted, limit: number, label = '', relative = false): Record<Backend, Outputs> {
  const got = onBackends((b) => {
    setWasmMemoryLimit(limit);
    try {
      return invoke(c);
    } finally {
      setWasmMemoryLimit(DEFAULT_LIMIT);
    }
  });
  for (const b of BACKENDS) expectNear(got[b], want, `${label}${b}`, { relative });
  for (const b of WASM_BACKENDS) expectNear(got[b]!, { ...got.js, [GRAD_FLOOR]: want[GRAD_FLOOR] }, `${label}${b} vs js`, { loose: 2, relative });
  return got;
}

// ---------------------------------------------------------------------------------------------
// Specs (what fast-check generates and prints) and the calls built from them

type Dtype = 'float32' | 'float16' | 'bfloat16';
type TargetForm = 'int32' | 'bigint64' | 'array' | 'tensor' | 'prob';
type OutMode = 'none' | 'fresh' | 'alias';
type Reduction = 'mean' | 'sum' | 'none';

const seedArb = fc.integer({ min: 1, max: 2 ** 31 - 1 });
/** Memory limits between 64 KiB and 4 MiB, mostly below the 512 KiB chunk so that they change the chunking. */
const limitArb = fc.oneof(fc.integer({ min: 65536, max: MiB }), fc.integer({ min: 65536, max: 4 * MiB }));
const reductionArb = fc.constantFrom<Reduction>('mean', 'sum', 'none');
const dtypeArb = fc.constantFrom<Dtype>('float32', 'float32', 'float16', 'bfloat16');
const outArb = fc.constantFrom<OutMode>('none', 'fresh', 'alias');
const scaleArb = fc.constantFrom(1, 5, 30);

/** C: mostly 1..300, now and then large (the row-block paths). */
const classesArb = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 301, max: 40000 }) });
/** Cross-entropy input shapes: [C], [N, C] (N = 0 included), [N, C, d1..dK]; at most ~40k logits. */
const ceShapeArb = fc.oneof(
  classesArb.map((C) => [C]),
  fc.tuple(fc.integer({ min: 0, max: 8 }), classesArb).map(([N, C]) => [Math.min(N, Math.ceil(40000 / C)), C]),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }))
    .map(([N, C, d]) => [N, C, ...d]),
);

interface CeSpec {
  op: 'crossEntropy' | 'crossEntropyWithGrad' | 'nllLoss';
  seed: number;
  shape: number[];
  dtype: Dtype;
  target: TargetForm;
  weighted: boolean;
  ignored: number;
  ignoreIndex: number;
  eps: number;
  reduction: Reduction;
  temperature?: number;
  zLoss: number;
  softcap?: number;
  scale: number;
  gradOutput: number | 'array';
  out: OutMode;
  wasmMem: boolean;
  limit: number;
}

function ceArb(shape = ceShapeArb, ops: CeSpec['op'][] = ['crossEntropy', 'crossEntropyWithGrad', 'nllLoss']): fc.Arbitrary<CeSpec> {
  return fc.record({
    op: fc.constantFrom(...ops),
    seed: seedArb,
    shape,
    dtype: dtypeArb,
    target: fc.constantFrom<TargetForm>('int32', 'bigint64', 'array', 'tensor', 'prob', 'prob'),
    weighted: fc.boolean(),
    ignored: fc.constantFrom(0, 0.3, 1),
    ignoreIndex: fc.constantFrom(-100, -1, 0), // 0: an in-range class used as ignoreIndex
    eps: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
    reduction: reductionArb,
    temperature: fc.option(fc.double({ min: 0.05, max: 20, noNaN: true }), { nil: undefined }),
    zLoss: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.01, noNaN: true })),
    softcap: fc.option(fc.double({ min: 0.5, max: 50, noNaN: true }), { nil: undefined }),
    scale: scaleArb,
    gradOutput: fc.constantFrom<number | 'array'>(1, 2.5, -0.75, 'array'),
    out: outArb,
    wasmMem: fc.boolean(),
    limit: limitArb,
  });
}

/** Random 16-bit float patterns: float16 in about +-[2^-14, 32), bfloat16 the top half of randn * scale. */
function halfBits(rand: () => number, n: number, dtype: 'float16' | 'bfloat16', scale: number): Uint16Array {
  const bits = new Uint16Array(n);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < n; i++) {
    if (dtype === 'float16') bits[i] = (rand() < 0.5 ? 0x8000 : 0) | ((1 + Math.floor(rand() * 19)) << 10) | Math.floor(rand() * 1024);
    else {
      f[0] = randn(rand) * scale;
      bits[i] = u[0] >>> 16;
    }
  }
  return bits;
}

/** The input shape without the class axis. */
const positionShape = (shape: readonly number[]) => (shape.length > 1 ? [shape[0], ...shape.slice(2)] : []);

interface CeParts {
  shape: number[];
  N: number; C: number; S: number;
  /** The logits as passed (f32 values or 16-bit patterns) and their values. */
  data: Float32Array | Uint16Array;
  values: ArrayLike<number>;
  dtype: Dtype;
  index: Int32Array;
  probs: Float32Array;
  isIndex: boolean;
  ignoreIndex: number;
  /** Options as passed, without gradOutput and out. */
  opts: Record<string, any>;
  gradOutput: number | Float32Array;
}

function ceParts(k: CeSpec): CeParts {
  const rand = rng(k.seed);
  const shape = k.shape;
  const { N, C, S } = layoutOf(shape);
  const n = N * C * S, P = N * S;
  const data = k.dtype === 'float32' ? randomLogits(rand, n, k.scale) : halfBits(rand, n, k.dtype, k.scale);
  const values = k.dtype === 'float32' ? data : half64(data, k.dtype);
  const ignoreIndex = k.ignoreIndex === 0 ? Math.min(1, C - 1) : k.ignoreIndex;
  const index = randomIndices(rand, P, C, ignoreIndex, k.ignored);
  const probs = randomProbs(rand, N, C, S);
  const opts: Record<string, any> = { reduction: k.reduction, ignoreIndex };
  if (k.weighted) opts.weight = Float32Array.from({ length: C }, () => rand() * 2);
  if (k.eps > 0) opts.labelSmoothing = k.eps;
  if (k.op !== 'nllLoss') {
    if (k.temperature !== undefined) opts.temperature = k.temperature;
    if (k.zLoss > 0) opts.zLoss = k.zLoss;
    if (k.softcap !== undefined) opts.softcap = k.softcap;
  }
  const gradOutput = k.reduction === 'none' && k.gradOutput === 'array'
    ? Float32Array.from({ length: P }, () => randn(rand))
    : typeof k.gradOutput === 'number' ? k.gradOutput : 1;
  return { shape, N, C, S, data, values, dtype: k.dtype, index, probs, isIndex: k.target !== 'prob', ignoreIndex, opts, gradOutput };
}

function inputOf(data: Float32Array | Uint16Array, shape: number[], dtype: Dtype): any {
  return dtype === 'float32' ? { data, shape } : { data, shape, dtype };
}

function targetOf(form: TargetForm, index: Int32Array, probs: Float32Array, shape: number[]): any {
  switch (form) {
    case 'int32': return index;
    case 'bigint64': return BigInt64Array.from(index, (v) => BigInt(v));
    case 'array': return Array.from(index);
    case 'tensor': return { data: index, shape: positionShape(shape) };
    case 'prob': return { data: probs, shape };
  }
}

function ceCall(k: CeSpec, p: CeParts): Call {
  const options = { ...p.opts };
  if (k.op === 'crossEntropyWithGrad') options.gradOutput = p.gradOutput;
  return { op: k.op, input: inputOf(p.data, p.shape, p.dtype), target: targetOf(k.target, p.index, p.probs, p.shape), options };
}

function ceWant(k: CeSpec, p: CeParts): Wanted {
  const o = p.opts;
  const ref = crossEntropyRef64(
    p.values, p.shape, p.isIndex ? p.index : p.probs, p.isIndex,
    { weight: o.weight, ignoreIndex: p.ignoreIndex, reduction: o.reduction, labelSmoothing: o.labelSmoothing, temperature: o.temperature, zLoss: o.zLoss, softcap: o.softcap },
    p.gradOutput, k.op === 'nllLoss',
  );
  const loss = typeof ref.loss === 'number' ? [ref.loss] : ref.loss;
  if (k.op !== 'crossEntropyWithGrad') return { loss };
  return {
    loss, grad: ref.grad, ...(o.zLoss > 0 && o.reduction !== 'none' ? { zLoss: [ref.zLoss] } : {}),
    [GRAD_FLOOR]: 8 * 2 ** -24 * gradTermSize(p),
  };
}

/** |scale| / T * max(1, w) over the positions: the size of the terms a gradient element is the sum of. */
function gradTermSize(p: CeParts): number {
  const o = p.opts, P = p.N * p.S;
  const w = (c: number) => (o.weight ? o.weight[c] : 1);
  let denominator = P;
  if (o.reduction === 'mean' && p.isIndex) {
    denominator = 0;
    for (let i = 0; i < P; i++) if (p.index[i] !== p.ignoreIndex) denominator += w(p.index[i]);
  }
  const g = typeof p.gradOutput === 'number' ? Math.abs(p.gradOutput) : p.gradOutput.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let wmax = 1;
  for (let c = 0; c < p.C; c++) wmax = Math.max(wmax, Math.abs(w(c)));
  const scale = o.reduction === 'mean' ? g / denominator : g;
  return Number.isFinite(scale) ? (scale * wmax) / (o.temperature ?? 1) : 0;
}

/** The same call with the input in WASM memory and/or an `out` (fresh, or the input itself): it must give
 *  the same bits as the plain call. Null when the spec asks for neither. */
function ceVariant(k: CeSpec, p: CeParts): (() => Outputs) | null {
  const grad = k.op === 'crossEntropyWithGrad';
  const mode: OutMode = grad ? (k.out === 'alias' && p.dtype !== 'float32' ? 'fresh' : k.out) : 'none';
  const inWasm = k.wasmMem && p.dtype === 'float32';
  if (mode === 'none' && !inWasm) return null;
  return () => {
    const n = p.data.length;
    const hx = inWasm ? alloc(n) : null, ho = inWasm && mode === 'fresh' ? alloc(n) : null; // allocate first: growth detaches views
    let x: Float32Array | Uint16Array = hx ? hx.data : p.data.slice();
    if (hx) x.set(p.data as Float32Array);
    const out = mode === 'alias' ? (x as Float32Array) : mode === 'fresh' ? (ho ? ho.data : new Float32Array(n)) : undefined;
    const c = ceCall(k, p);
    c.input = inputOf(x, p.shape, p.dtype);
    if (out) c.options.out = out;
    const r = invoke(c);
    return r;
  };
}

// softmax family ------------------------------------------------------------------------------

interface SmSpec {
  op: 'logSoftmax' | 'softmax' | 'logSumExp';
  seed: number;
  shape: number[];
  dim: number;
  negative: boolean;
  scale: number;
  out: OutMode;
  wasmMem: boolean;
  limit: number;
}

const smShapeArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 300 })).map(([N, C]) => [N, C]) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 301, max: 20000 })).map(([N, C]) => [N, C]) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }) },
);

function smArb(shape = smShapeArb): fc.Arbitrary<SmSpec> {
  return fc.record({
    op: fc.constantFrom<SmSpec['op']>('logSoftmax', 'softmax', 'logSumExp'),
    seed: seedArb, shape, dim: fc.nat({ max: 7 }), negative: fc.boolean(), scale: scaleArb, out: outArb, wasmMem: fc.boolean(), limit: limitArb,
  });
}

function smLayout(k: SmSpec) {
  const rank = k.shape.length;
  const d = k.dim % rank;
  const N = k.shape.slice(0, d).reduce((a, b) => a * b, 1), C = k.shape[d], S = k.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  return { d, dim: k.negative ? d - rank : d, N, C, S, n: N * C * S, outLength: k.op === 'logSumExp' ? N * S : N * C * S };
}

function smParts(k: SmSpec) {
  const L = smLayout(k);
  return { ...L, data: randomLogits(rng(k.seed), L.n, k.scale) };
}

function smCall(k: SmSpec, p: ReturnType<typeof smParts>): Call {
  return { op: k.op, input: { data: p.data, shape: k.shape }, options: { dim: p.dim } };
}

function smWant(k: SmSpec, p: ReturnType<typeof smParts>): Wanted {
  const op = k.op === 'logSumExp' ? 'logsumexp' : k.op === 'logSoftmax' ? 'log_softmax' : 'softmax';
  return { [k.op]: classOp64(op, p.data, p.N, p.C, p.S) };
}

function smVariant(k: SmSpec, p: ReturnType<typeof smParts>): (() => Outputs) | null {
  const mode: OutMode = k.out === 'alias' && k.op === 'logSumExp' ? 'fresh' : k.out;
  if (mode === 'none' && !k.wasmMem) return null;
  return () => {
    const hx = k.wasmMem ? alloc(p.n) : null, ho = k.wasmMem && mode === 'fresh' ? alloc(p.outLength) : null;
    const x = hx ? hx.data : p.data.slice();
    if (hx) x.set(p.data);
    const c = smCall(k, p);
    c.input = { data: x, shape: k.shape };
    if (mode === 'alias') c.options.out = x;
    if (mode === 'fresh') c.options.out = ho ? ho.data : new Float32Array(p.outLength);
    return invoke(c);
  };
}

// binary cross-entropy ------------------------------------------------------------------------

interface BceSpec {
  op: 'bce' | 'bceWithGrad';
  seed: number;
  shape: number[];
  weight: 'none' | 'last' | 'full' | 'broadcast';
  posWeight: boolean;
  reduction: Reduction;
  gradOutput: number | 'array';
  hard: boolean;
  scale: number;
  out: OutMode;
  limit: number;
}

const bceShapeArb = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 16 }), { minLength: 1, maxLength: 3 }),
  fc.integer({ min: 1, max: 300 }).map((L) => [L]),
  fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 300 })).map(([R, L]) => [R, L]),
);

function bceArb(shape = bceShapeArb, scale: fc.Arbitrary<number> = fc.constantFrom(1, 5)): fc.Arbitrary<BceSpec> {
  return fc.record({
    op: fc.constantFrom<BceSpec['op']>('bce', 'bceWithGrad'),
    seed: seedArb, shape,
    weight: fc.constantFrom<BceSpec['weight']>('none', 'last', 'full', 'broadcast'),
    posWeight: fc.boolean(), reduction: reductionArb,
    gradOutput: fc.constantFrom<number | 'array'>(1, 2.5, -0.75, 'array'),
    hard: fc.boolean(), scale, out: outArb, limit: limitArb,
  });
}

function bceParts(k: BceSpec) {
  const rand = rng(k.seed);
  const shape = k.shape, n = shape.reduce((a, b) => a * b, 1), L = shape[shape.length - 1];
  const x = randomLogits(rand, n, k.scale);
  const y = Float32Array.from({ length: n }, () => (k.hard ? (rand() < 0.5 ? 0 : 1) : rand()));
  let wShape: number[] | null = null;
  if (k.weight === 'last') wShape = [L];
  else if (k.weight === 'full') wShape = shape.slice();
  else if (k.weight === 'broadcast') wShape = shape.slice(Math.floor(rand() * shape.length)).map((d) => (rand() < 0.5 ? 1 : d));
  const w = wShape ? Float32Array.from({ length: wShape.reduce((a, b) => a * b, 1) }, () => rand() * 2) : null;
  const pw = k.posWeight ? Float32Array.from({ length: L }, () => rand() * 3) : null;
  const gradOutput = k.reduction === 'none' && k.gradOutput === 'array'
    ? Float32Array.from({ length: n }, () => randn(rand)) : typeof k.gradOutput === 'number' ? k.gradOutput : 1;
  return { shape, n, L, x, y, wShape, w, pw, gradOutput };
}

function bceCall(k: BceSpec, p: ReturnType<typeof bceParts>): Call {
  const options: Record<string, any> = { reduction: k.reduction };
  if (p.w) options.weight = k.weight === 'last' ? p.w : { data: p.w, shape: p.wShape };
  if (p.pw) options.posWeight = p.pw;
  if (k.op === 'bceWithGrad') options.gradOutput = p.gradOutput;
  return { op: k.op, input: { data: p.x, shape: p.shape }, target: { data: p.y, shape: p.shape }, options };
}

function bceWant(k: BceSpec, p: ReturnType<typeof bceParts>): Wanted {
  const ref = bce64(p.x, p.y, p.shape, { weight: p.w ? { data: p.w, shape: p.wShape! } : undefined, posWeight: p.pw ?? undefined, reduction: k.reduction }, p.gradOutput);
  const loss = typeof ref.loss === 'number' ? [ref.loss] : ref.loss;
  return k.op === 'bce' ? { loss } : { loss, grad: ref.grad };
}

function bceVariant(k: BceSpec, p: ReturnType<typeof bceParts>): (() => Outputs) | null {
  if (k.op !== 'bceWithGrad' || k.out === 'none') return null;
  return () => {
    const c = bceCall(k, p);
    const x = p.x.slice();
    c.input = { data: x, shape: p.shape };
    c.options.out = k.out === 'alias' ? x : new Float32Array(p.n);
    return invoke(c);
  };
}

// token statistics ----------------------------------------------------------------------------

interface TokSpec {
  op: 'tokenLogProbs' | 'tokenStats' | 'perplexity';
  seed: number;
  shape: number[];
  dtype: Dtype;
  target: Exclude<TargetForm, 'prob'>;
  ignored: number;
  ignoreIndex: number;
  temperature?: number;
  softcap?: number;
  fill?: number;
  /** Share of -inf logits (kept off one class of every row, so that no row is all -inf). */
  negInf: number;
  scale: number;
  limit: number;
}

function tokArb(negInf: fc.Arbitrary<number> = fc.constant(0), shape = ceShapeArb): fc.Arbitrary<TokSpec> {
  return fc.record({
    op: fc.constantFrom<TokSpec['op']>('tokenLogProbs', 'tokenStats', 'perplexity'),
    seed: seedArb, shape, dtype: dtypeArb,
    target: fc.constantFrom<TokSpec['target']>('int32', 'bigint64', 'array', 'tensor'),
    ignored: fc.constantFrom(0, 0.3, 1), ignoreIndex: fc.constantFrom(-100, -1, 0),
    temperature: fc.option(fc.double({ min: 0.05, max: 20, noNaN: true }), { nil: undefined }),
    softcap: fc.option(fc.double({ min: 0.5, max: 50, noNaN: true }), { nil: undefined }),
    fill: fc.option(fc.constantFrom(0, -1, 7.5), { nil: undefined }),
    negInf, scale: scaleArb, limit: limitArb,
  });
}

/** The LM functions read classes last: the shape's last axis is the vocabulary, the others the positions. */
function tokParts(k: TokSpec) {
  const rand = rng(k.seed);
  const C = k.shape[k.shape.length - 1], N = k.shape.slice(0, -1).reduce((a, b) => a * b, 1), S = 1;
  const n = N * C * S;
  let data: Float32Array | Uint16Array = k.dtype === 'float32' ? randomLogits(rand, n, k.scale) : halfBits(rand, n, k.dtype, k.scale);
  if (k.negInf > 0) {
    const NEG = k.dtype === 'float16' ? 0xfc00 : k.dtype === 'bfloat16' ? 0xff80 : -Infinity;
    for (let i = 0; i < n; i++) if (rand() < k.negInf && Math.floor(i / S) % C !== 0) data[i] = NEG; // class 0 stays finite
  }
  const values = k.dtype === 'float32' ? data : half64(data, k.dtype);
  const ignoreIndex = k.ignoreIndex === 0 ? Math.min(1, C - 1) : k.ignoreIndex;
  const index = randomIndices(rand, N * S, C, ignoreIndex, k.ignored);
  const opts: Record<string, any> = { ignoreIndex };
  if (k.temperature !== undefined) opts.temperature = k.temperature;
  if (k.softcap !== undefined) opts.softcap = k.softcap;
  if (k.fill !== undefined && k.op !== 'perplexity') opts.fill = k.fill;
  return { N, C, S, data, values, index, ignoreIndex, opts };
}

function tokCall(k: TokSpec, p: ReturnType<typeof tokParts>): Call {
  const target = k.target === 'tensor' ? { data: p.index, shape: k.shape.slice(0, -1) } : targetOf(k.target, p.index, new Float32Array(0), k.shape);
  return { op: k.op, input: inputOf(p.data, k.shape, k.dtype), target, options: { ...p.opts } };
}

function tokWant(k: TokSpec, p: ReturnType<typeof tokParts>): Wanted {
  const ref = tokenStats64(p.values, [p.N, p.C], p.index, p.opts);
  if (k.op === 'tokenLogProbs') return { logProbs: ref.logProbs };
  if (k.op === 'tokenStats') return ref;
  let sum = 0, count = 0;
  p.index.forEach((t, i) => {
    if (t !== p.ignoreIndex) {
      sum -= ref.logProbs[i];
      count++;
    }
  });
  return { logPerplexity: [sum / count] };
}

// any call ------------------------------------------------------------------------------------

type Spec = ({ family: 'ce' } & CeSpec) | ({ family: 'sm' } & SmSpec) | ({ family: 'bce' } & BceSpec) | ({ family: 'tok' } & TokSpec);

interface Built {
  call: Call;
  want: () => Wanted;
  variant: (() => Outputs) | null;
  limit: number;
}

function build(s: Spec): Built {
  switch (s.family) {
    case 'ce': {
      const p = ceParts(s);
      return { call: ceCall(s, p), want: () => ceWant(s, p), variant: ceVariant(s, p), limit: s.limit };
    }
    case 'sm': {
      const p = smParts(s);
      return { call: smCall(s, p), want: () => smWant(s, p), variant: smVariant(s, p), limit: s.limit };
    }
    case 'bce': {
      const p = bceParts(s);
      return { call: bceCall(s, p), want: () => bceWant(s, p), variant: bceVariant(s, p), limit: s.limit };
    }
    case 'tok': {
      const p = tokParts(s);
      return { call: tokCall(s, p), want: () => tokWant(s, p), variant: null, limit: s.limit };
    }
  }
}

const tag = <F extends Spec['family']>(family: F) => <T extends object>(a: fc.Arbitrary<T>) => a.map((v) => ({ family, ...v }) as unknown as Extract<Spec, { family: F }>);
const specArb = (sizes: 'small' | 'chunky' = 'small'): fc.Arbitrary<Spec> => {
  if (sizes === 'small') return fc.oneof(tag('ce')(ceArb()), tag('sm')(smArb()), tag('bce')(bceArb()), tag('tok')(tokArb())) as fc.Arbitrary<Spec>;
  // larger batches, so that a memory limit below the 512 KiB chunk splits them
  const rows = fc.tuple(fc.integer({ min: 1, max: 160 }), fc.integer({ min: 1, max: 2500 })).map(([N, C]) => [Math.min(N, Math.ceil(300000 / C)), C]);
  const kdim = fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 64 })).map(([N, C, S]) => [N, C, S]);
  const narrow = fc.tuple(fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 1, max: 16 })).map(([N, C]) => [N, C]);
  const shape = fc.oneof({ weight: 2, arbitrary: rows }, { weight: 1, arbitrary: kdim }, { weight: 3, arbitrary: narrow });
  return fc.oneof(
    tag('ce')(ceArb(shape)), tag('sm')(smArb(shape)), tag('tok')(tokArb(fc.constant(0), shape)),
    tag('bce')(bceArb(fc.tuple(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 4096 })).map(([R, L]) => [R, L]))),
  ) as fc.Arbitrary<Spec>;
};

/** Every typed array reachable from a call's arguments (to check that a refused call left them alone). */
function arraysOf(c: Call): ArrayBufferView[] {
  const found: ArrayBufferView[] = [];
  const visit = (v: any, depth: number) => {
    if (ArrayBuffer.isView(v)) found.push(v);
    else if (v && typeof v === 'object' && depth < 3) for (const key of Object.keys(v)) visit(v[key], depth + 1);
  };
  visit(c.input, 0);
  visit(c.target, 0);
  visit(c.options, 0);
  return found;
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

// =============================================================================================
// 0. Binary cross-entropy: a [L] input is one row of L elements, which must be chunked (not copied in whole)
// and summed in float64, as [L/k, k] is. This describe runs first in the file, while the WASM memory is still
// small enough for its growth to show.
describe('binary cross-entropy: a long flat axis, large logits', () => {
  useBackend('wasm');
  it('runs first: a [2^21] input under a 2 MiB limit is chunked (the memory does not grow to hold it)', () => {
    const before = getBackendInfo().wasmMemoryBytes!;
    setWasmMemoryLimit(2 * MiB);
    const L = 2 ** 21;
    const rand = rng(5);
    const x = randomLogits(rand, L, 3), y = Float32Array.from({ length: L }, () => rand());
    const want = bce64(x, y, [L], {}).loss as number;
    const got = binaryCrossEntropyWithLogits(x, y) as number;
    expect(getBackendInfo().wasmMemoryBytes, `memory grew from ${before} bytes`).toBeLessThanOrEqual(Math.max(before, 2 * MiB + 65536));
    expectClose(got, Math.fround(want), TOL.loss, 'loss');
  });

  it('accuracy independent of shape: [L], [L/k, k] and [k, L/k] all within TOL of float64 (L up to 2^20)', () => {
    const arb = fc.record({
      seed: seedArb, log2L: fc.integer({ min: 10, max: 20 }), log2k: fc.integer({ min: 1, max: 9 }),
      reduction: fc.constantFrom<Reduction>('mean', 'sum'), weighted: fc.boolean(), scale: scaleArb,
    });
    fc.assert(fc.property(arb, clean(({ seed, log2L, log2k, reduction, weighted, scale }) => {
      const L = 2 ** log2L, k = 2 ** Math.min(log2k, log2L - 1), rand = rng(seed);
      const x = randomLogits(rand, L, scale), y = Float32Array.from({ length: L }, () => rand());
      const w = weighted ? Float32Array.from({ length: L }, () => rand() * 2) : null;
      // one weight per element: the float64 answer is the same for every shape
      const want = bce64(x, y, [L], { weight: w ? { data: w, shape: [L] } : undefined, reduction }).loss as number;
      for (const shape of [[L], [L / k, k], [k, L / k]]) {
        const options = { reduction, ...(w ? { weight: { data: w, shape } } : {}) };
        checkBoth({ op: 'bce', input: { data: x, shape }, target: { data: y, shape }, options }, { loss: [want] }, DEFAULT_LIMIT, `${JSON.stringify(shape)} `);
      }
    })), runs(12, [[{ seed: 3, log2L: 20, log2k: 9, reduction: 'mean', weighted: false, scale: 1 }]]));
  }, TIMEOUT);

  // the PyTorch formula (1 - y) x + lw (log1p(e^-|x|) + max(-x, 0)) cancels for x << 0 in float32
  it('large logits (|x| up to ~100): each element within TOL of float64', () => {
    fc.assert(fc.property(bceArb(bceShapeArb, fc.constant(30)), clean((s: BceSpec) => {
      const p = bceParts(s);
      checkBoth(bceCall(s, p), bceWant(s, p), s.limit);
    })), runs(30));
  }, TIMEOUT);
});

// =============================================================================================
// 1. Results against float64 and across backends

describe('random calls against the float64 reference, on both backends', () => {
  const property = (family: Spec['family'], arb: fc.Arbitrary<Spec>, n: number) =>
    it(`${family}: wasm and js within TOL of float64 and of each other; out, in place and zero-copy give the same bits`, () => {
      fc.assert(fc.property(arb, clean((s: Spec) => {
        const b = build(s);
        const got = checkBoth(b.call, b.want(), b.limit);
        if (b.variant) {
          for (const be of BACKENDS) {
            selectBackend(be);
            expectSameOutputs(b.variant(), got[be], `${be} with out/in place/zero-copy`);
            freeAll();
          }
        }
      })), runs(n));
    }, TIMEOUT);

  property('ce', tag('ce')(ceArb()) as fc.Arbitrary<Spec>, 100);
  property('sm', tag('sm')(smArb()) as fc.Arbitrary<Spec>, 80);
  property('bce', tag('bce')(bceArb()) as fc.Arbitrary<Spec>, 60);
  property('tok', tag('tok')(tokArb()) as fc.Arbitrary<Spec>, 60);
});

// =============================================================================================
// 2. Numerical corners named in the issue

describe('numerical corners', () => {
  it('tokenStats: the entropy stays finite (and right) when some logits are -inf', () => {
    const arb = tokArb(fc.double({ min: 0.05, max: 0.6, noNaN: true })).map((s) => ({ ...s, op: 'tokenStats' as const }));
    fc.assert(fc.property(arb, clean((s: TokSpec) => {
      const p = tokParts(s);
      const got = checkBoth(tokCall(s, p), tokWant(s, p), s.limit);
      for (const b of BACKENDS) {
        got[b].entropy.forEach((h, i) => {
          if (p.index[i] !== p.ignoreIndex && !Number.isFinite(h)) expect.fail(`${b} entropy[${i}] = ${h}`);
        });
      }
    })), runs(40));
  }, TIMEOUT);

  it('NaN weights of classes no target uses do not reach the loss or the gradient', () => {
    const arb = ceArb(ceShapeArb.filter((sh) => (sh.length === 1 ? sh[0] : sh[1]) >= 2))
      .map((s) => ({ ...s, target: s.target === 'prob' ? ('int32' as const) : s.target, eps: 0, weighted: true }));
    fc.assert(fc.property(arb, fc.integer({ min: 1, max: 2 ** 31 - 1 }), clean((s: CeSpec, seed: number) => {
      const p = ceParts(s);
      // targets from the first half of the classes only; the weights of the others are NaN
      const used = Math.max(1, Math.floor(p.C / 2));
      const rand = rng(seed);
      for (let i = 0; i < p.index.length; i++) if (p.index[i] !== p.ignoreIndex) p.index[i] = Math.floor(rand() * used);
      for (let c = used; c < p.C; c++) if (c !== p.ignoreIndex) p.opts.weight[c] = NaN;
      const got = checkBoth(ceCall(s, p), ceWant(s, p), s.limit);
      for (const b of BACKENDS) {
        for (const [name, v] of Object.entries(got[b])) {
          const i = v.findIndex((e) => Number.isNaN(e));
          // a mean over targets whose weights sum to 0 is NaN in PyTorch too: only then may NaN appear
          if (i >= 0 && !(s.reduction === 'mean' && p.index.every((t) => t === p.ignoreIndex))) expect.fail(`${b} ${name}[${i}] is NaN`);
        }
      }
    })), runs(40));
  }, TIMEOUT);

  it('extreme temperatures (1e-40 .. 1e40): the backends agree with float64 and with each other', () => {
    const temperature = fc.tuple(fc.double({ min: 1, max: 10, noNaN: true }), fc.integer({ min: -40, max: 40 }).filter((e) => Math.abs(e) >= 6))
      .map(([m, e]) => m * 10 ** e);
    const arb = fc.record({ base: ceArb(ceShapeArb, ['crossEntropy', 'crossEntropyWithGrad']), temperature });
    fc.assert(fc.property(arb, clean(({ base, temperature: T }: { base: CeSpec; temperature: number }) => {
      const s = { ...base, temperature: T, zLoss: 0 };
      const p = ceParts(s);
      if (T < 2 ** -126) { // its reciprocal overflows float32: refused on both backends
        onBackends(() => expect(() => invoke(ceCall(s, p))).toThrow(/options.temperature: expected a number >= 2\^-126/));
        return;
      }
      checkBoth(ceCall(s, p), ceWant(s, p), s.limit, `T=${T} `, true);
    })), runs(60));
  }, TIMEOUT);

  // One dominant logit and C small terms: in float32 the small exponentials vanish when added one by one
  // to an accumulator that already holds the dominant one, so logsumexp (and the small loss of a confident
  // prediction, and log-softmax, softmax) lose up to ~4e-6 absolute.
  it('a dominant logit does not swallow the small terms: confident rows within TOL (C = 2..70000)', () => {
    const arb = fc.record({
      seed: seedArb, C: fc.oneof(fc.integer({ min: 2, max: 300 }), fc.integer({ min: 301, max: 70000 })),
      gap: fc.double({ min: 0, max: 12, noNaN: true }), N: fc.integer({ min: 1, max: 3 }), first: fc.boolean(),
    });
    fc.assert(fc.property(arb, clean(({ seed, C, gap, N, first }: { seed: number; C: number; gap: number; N: number; first: boolean }) => {
      const rand = rng(seed);
      const x = new Float32Array(N * C);
      const target = new Int32Array(N);
      for (let n = 0; n < N; n++) {
        const top = first ? 0 : Math.floor(rand() * C);
        target[n] = top;
        for (let c = 0; c < C; c++) x[n * C + c] = c === top ? 0 : -(Math.log(C) + gap) + 0.5 * rand();
      }
      const lse = Array.from({ length: N }, (_, n) => rowLogSumExp64(x.subarray(n * C, (n + 1) * C)));
      const shape = [N, C];
      const loss = lse.map((l, n) => l - x[n * C + target[n]]);
      checkBoth({ op: 'crossEntropy', input: { data: x, shape }, target, options: { reduction: 'none' } }, { loss }, DEFAULT_LIMIT, 'crossEntropy ');
      checkBoth({ op: 'logSumExp', input: { data: x, shape }, options: {} }, { logSumExp: lse }, DEFAULT_LIMIT, 'logSumExp ');
      checkBoth({ op: 'tokenLogProbs', input: { data: x, shape }, target, options: {} }, { logProbs: loss.map((l) => -l) }, DEFAULT_LIMIT, 'tokenLogProbs ');
    })), runs(40, [[{ seed: 1, C: 1025, gap: 10, N: 1, first: true }]]));
  }, TIMEOUT);
});

// Accuracy must not depend on C. Rows of 2^20 .. 2^25 classes (4 to 128 MiB each): the wasm backend
// against float64 (the js backend too up to 2^21, where it is still quick). The data families: randn * 3,
// uniform in [0, 1), and 'half' (one logit carrying about half of the probability mass, the others
// spread over [-ln C, -ln C + 0.5)).
describe('accuracy independent of C (2^20 .. 2^25 classes)', () => {
  type Big = { log2C: number; family: 'randn' | 'uniform' | 'half'; seed: number };
  const arb = fc.record({ log2C: fc.integer({ min: 20, max: 25 }), family: fc.constantFrom<Big['family']>('randn', 'uniform', 'half'), seed: seedArb });
  it('logSumExp, crossEntropy (with its gradient) and softmax of one long row', () => {
    fc.assert(fc.property(arb, clean(({ log2C, family, seed }: Big) => {
      const C = 2 ** log2C, rand = rng(seed);
      const x = new Float32Array(C);
      const top = Math.floor(rand() * C), t = Math.floor(rand() * C);
      for (let c = 0; c < C; c++) {
        x[c] = family === 'randn' ? randn(rand) * 3 : family === 'uniform' ? rand() : c === top ? 0 : -Math.log(C) + 0.5 * rand();
      }
      const lse = rowLogSumExp64(x);
      const shape = [1, C];
      const backends: readonly Backend[] = log2C <= 21 ? BACKENDS : WASM_BACKENDS;
      onBackends((b) => {
        expectNear({ logSumExp: logSumExp({ data: x, shape }) }, { logSumExp: [lse] }, `${b} logSumExp`);
        const { loss, grad } = crossEntropyWithGrad({ data: x, shape }, [t]);
        expectNear({ loss: f32(loss) }, { loss: [lse - x[t]] }, `${b} crossEntropy`);
        // the gradient and softmax at the target, the dominant class and a stride of others
        const sm = softmax({ data: x, shape });
        const checked = [top, t];
        for (let c = 0; c < C; c += 4093) checked.push(c);
        for (const i of checked) {
          const p = Math.exp(x[i] - lse);
          expectClose(sm[i], Math.fround(p), TOL.softmax, `${b} softmax[${i}]`);
          expectClose(grad[i], Math.fround(p - (i === t ? 1 : 0)), TOL.grad, `${b} grad[${i}]`);
        }
      }, backends);
      // the CI budget runs two rows (2^25 alone costs ~4 s); npm run fuzz draws C over the whole range
    })), runs(2, [[{ log2C: 24, family: 'half', seed: 1 }], [{ log2C: 21, family: 'randn', seed: 2 }]]));
  }, TIMEOUT);
});

// =============================================================================================
// 3. Invariances: chunking and the position of a row

describe('chunking and batch position do not change a single bit (wasm and js)', () => {
  it('the same call under two random memory limits (64 KiB .. 4 MiB) gives bit-identical results on wasm', () => {
    // limits under the 512 KiB chunk, where they decide the rows per chunk
    const chunkLimit = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 65536, max: 600000 }) }, { weight: 1, arbitrary: limitArb });
    fc.assert(fc.property(specArb('chunky'), chunkLimit, chunkLimit, clean((s: Spec, a: number, b: number) => {
      const { call } = build(s);
      setBackend('wasm');
      setWasmMemoryLimit(a);
      const A = invoke(call);
      setWasmMemoryLimit(b);
      const B = invoke(call);
      expectSameOutputs(B, A, `limit ${b} vs ${a}`);
    })), runs(60, [[
      { family: 'ce', op: 'crossEntropyWithGrad', seed: 1, shape: [6000, 5], dtype: 'float32', target: 'int32', weighted: false, ignored: 0, ignoreIndex: -100, eps: 0, reduction: 'none', temperature: undefined, zLoss: 0, softcap: undefined, scale: 1, gradOutput: 1, out: 'none', wasmMem: false, limit: 65536 },
      65536, 300000,
    ]]));
  }, TIMEOUT);

  // a row (a slab [1, C, d1..dK] of a K-dim input) alone, and inside a batch of other rows at any position
  it("a row's loss and gradient (and softmax, logsumexp, token stats) are the same alone and at any position in a batch", () => {
    const shape = fc.tuple(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 300 }), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 }))
      .map(([N, C, d]) => [N, C, ...d]);
    const arb = fc.record({
      ce: ceArb(shape, ['crossEntropy', 'crossEntropyWithGrad']).map((s) => ({ ...s, reduction: 'none' as const, gradOutput: 1, out: 'none' as const })),
      which: fc.constantFrom('ce', 'logSoftmax', 'softmax', 'logSumExp', 'tokenStats'),
      pos: fc.nat(),
    });
    fc.assert(fc.property(arb, clean(({ ce: s, which: w, pos }) => {
      const which = w === 'tokenStats' && s.shape.length !== 2 ? 'ce' : w; // tokenStats reads [N, C, S] classes last
      const p = ceParts(s);
      const n = pos % p.N, slab = p.C * p.S;
      const rowShape = [1, ...s.shape.slice(1)];
      const rowData = p.data.slice(n * slab, (n + 1) * slab);
      let batch: Call, alone: Call;
      if (which === 'ce' || which === 'tokenStats') {
        const rowIndex = p.index.slice(n * p.S, (n + 1) * p.S), rowProbs = p.probs.slice(n * slab, (n + 1) * slab);
        const op: Op = which === 'ce' ? s.op : 'tokenStats';
        const form: TargetForm = which === 'tokenStats' && s.target === 'prob' ? 'tensor' : s.target;
        const options = which === 'ce' ? { ...p.opts } : { ignoreIndex: p.ignoreIndex, ...(p.opts.temperature ? { temperature: p.opts.temperature } : {}) };
        batch = { op, input: inputOf(p.data, s.shape, p.dtype), target: targetOf(form, p.index, p.probs, s.shape), options };
        alone = { op, input: inputOf(rowData, rowShape, p.dtype), target: targetOf(form, rowIndex, rowProbs, rowShape), options };
      } else {
        const data = randomLogits(rng(s.seed), p.N * slab, s.scale);
        batch = { op: which as Op, input: { data, shape: s.shape }, options: { dim: 1 } };
        alone = { op: which as Op, input: { data: data.slice(n * slab, (n + 1) * slab), shape: rowShape }, options: { dim: 1 } };
      }
      for (const b of BACKENDS) {
        selectBackend(b);
        const B = invoke(batch), A = invoke(alone);
        for (const [name, v] of Object.entries(A)) {
          const per = v.length; // this row's share of the batch's output
          expectSameBits(B[name].subarray(n * per, (n + 1) * per), v, `${b} ${name} of row ${n} of ${p.N}, alone vs in the batch`);
        }
      }
    })), runs(60));
  }, TIMEOUT);
});

// =============================================================================================
// 4. Aliasing: an output partly overlapping an input is a RangeError; nothing is written

type Victim = 'input' | 'prob target' | 'weight' | 'gradOutput' | 'target' | 'posWeight';
const OVERLAPS: [Op, Victim][] = [
  ['crossEntropyWithGrad', 'input'], ['crossEntropyWithGrad', 'prob target'], ['crossEntropyWithGrad', 'weight'],
  ['crossEntropyWithGrad', 'gradOutput'], ['logSoftmax', 'input'], ['softmax', 'input'], ['logSumExp', 'input'],
  ['bceWithGrad', 'input'], ['bceWithGrad', 'target'], ['bceWithGrad', 'weight'], ['bceWithGrad', 'posWeight'], ['bceWithGrad', 'gradOutput'],
];

describe('outputs partly overlapping an input are refused', () => {
  it.each(OVERLAPS)('%s: options.out partly over the %s is a RangeError, and nothing changes', (op, victim) => {
    const arb = fc.record({
      seed: seedArb, N: fc.integer({ min: 1, max: 5 }), C: fc.integer({ min: 2, max: 40 }), S: fc.constantFrom(1, 1, 3),
      at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), wasm: fc.boolean(), backend: fc.constantFrom(...BACKENDS), limit: limitArb,
    });
    fc.assert(fc.property(arb, clean(({ seed, N, C, S, at, wasm, backend, limit }) => {
      selectBackend(backend);
      setWasmMemoryLimit(limit);
      const rand = rng(seed);
      const ce = op === 'crossEntropyWithGrad', bce = op === 'bceWithGrad';
      const shape = S === 1 ? [N, C] : [N, C, S];
      const n = N * C * S, P = N * S, L = shape[shape.length - 1];
      const outLen = op === 'logSumExp' ? P : n;
      const victimLen = victim === 'weight' ? (ce ? C : n) : victim === 'posWeight' ? L : victim === 'gradOutput' ? (ce ? P : n) : n;
      // the victim at out + rel, rel in [-(victimLen - 1), outLen - 1]: they share at least one float; never the same range
      let rel = -(victimLen - 1) + Math.floor(at * (outLen + victimLen - 1));
      if (rel === 0 && victimLen === outLen) rel = 1;
      const outAt = victimLen, victimAt = outAt + rel, total = outAt + Math.max(outLen, rel + victimLen) + 4;
      const block = wasm ? alloc(total) : null;
      const buf = block ? block.data : new Float32Array(total);
      for (let i = 0; i < total; i++) buf[i] = rand() * 2 - 1;
      const view = (at: number, len: number) => new Float32Array(buf.buffer, buf.byteOffset + at * 4, len);
      const out = view(outAt, outLen), v = view(victimAt, victimLen);
      const own = (len: number, f: () => number) => Float32Array.from({ length: len }, f);
      const x = victim === 'input' ? v : own(n, () => randn(rand) * 3);
      const options: Record<string, any> = { out };
      let target: any;
      if (ce) {
        if (victim === 'prob target') v.set(randomProbs(rand, N, C, S));
        target = victim === 'prob target' ? { data: v, shape } : randomIndices(rand, P, C);
        if (victim === 'weight') options.weight = v;
        if (victim === 'gradOutput') Object.assign(options, { reduction: 'none', gradOutput: v });
      } else if (bce) {
        if (victim === 'target' || victim === 'weight' || victim === 'posWeight') v.set(own(victimLen, () => rand()));
        target = { data: victim === 'target' ? v : own(n, () => rand()), shape };
        if (victim === 'weight') options.weight = { data: v, shape };
        if (victim === 'posWeight') options.posWeight = v;
        if (victim === 'gradOutput') Object.assign(options, { reduction: 'none', gradOutput: v });
      } else options.dim = 1;
      const call: Call = { op, input: { data: x, shape }, target, options };
      const before = bytesOf(buf), others = arraysOf(call).map(bytesOf), memory = getBackendInfo().wasmMemoryBytes;
      let thrown: unknown;
      try {
        invoke(call);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, 'no error').toBeInstanceOf(RangeError);
      expect((thrown as Error).message).toContain('options.out');
      expect(getBackendInfo().wasmMemoryBytes, 'WASM memory grew').toBe(memory);
      const now = block ? block.data : buf;
      expect(bytesOf(now).every((byte, i) => byte === before[i]), 'the shared buffer changed').toBe(true);
      arraysOf(call).forEach((a, i) => expect(bytesOf(a).every((byte, j) => byte === others[i][j]), 'an argument changed').toBe(true));
      // the next call, with an out of its own, is right
      const clone = (a: any) => (a instanceof Float32Array ? a.slice() : a);
      const fresh: Call = {
        op, input: { data: x.slice(), shape }, target: target?.data ? { data: clone(target.data), shape: target.shape } : target,
        options: { ...options, out: new Float32Array(outLen), ...(options.weight ? { weight: options.weight.data ? { data: clone(options.weight.data), shape } : clone(options.weight) } : {}), ...(options.gradOutput ? { gradOutput: clone(options.gradOutput) } : {}), ...(options.posWeight ? { posWeight: clone(options.posWeight) } : {}) },
      };
      const got = invoke(fresh);
      let want: Wanted;
      if (ce) {
        const isIndex = victim !== 'prob target';
        const ref = crossEntropyRef64(x, shape, isIndex ? target : target.data, isIndex, { weight: fresh.options.weight, reduction: fresh.options.reduction ?? 'mean' }, fresh.options.gradOutput ?? 1);
        want = { loss: typeof ref.loss === 'number' ? [ref.loss] : ref.loss, grad: ref.grad };
      } else if (bce) {
        const ref = bce64(x, fresh.target.data, shape, { weight: fresh.options.weight, posWeight: fresh.options.posWeight, reduction: fresh.options.reduction ?? 'mean' }, fresh.options.gradOutput ?? 1);
        want = { loss: typeof ref.loss === 'number' ? [ref.loss] : ref.loss, grad: ref.grad };
      } else want = { [op]: classOp64(op === 'logSumExp' ? 'logsumexp' : op === 'logSoftmax' ? 'log_softmax' : 'softmax', x, N, C, S) };
      expectNear(got, want, 'the next call');
    })), runs(15));
  }, TIMEOUT);
});

// =============================================================================================
// 5. How arguments are read: once each; typed arrays of another realm; subclasses that override methods

/** The typed-array constructors of another realm (a node:vm context). */
const realm = vm.runInNewContext('({ Float32Array, Int32Array, BigInt64Array, Uint16Array })') as Record<string, new (n: number) => any>;

/** Subclasses whose methods lie: a kernel that calls them instead of reading the array gets garbage. */
function liar<T extends new (...a: any[]) => any>(Base: T): T {
  const Liar = class extends (Base as any) {
    set(): void { /* writes nothing */ }
    subarray(a?: number, b?: number) { return new (Base as any)(Base.prototype.subarray.call(this, a, b).length); }
    slice(a?: number, b?: number) { return new (Base as any)(Base.prototype.slice.call(this, a, b).length); }
    fill() { return this; }
    map() { return new (Base as any)(this.length); }
    copyWithin() { return this; }
    at() { return 0; }
    *[Symbol.iterator]() { for (let i = 0; i < this.length; i++) yield 0; }
  };
  return Liar as unknown as T;
}
const LIARS = new Map<unknown, new (n: number) => any>([Float32Array, Int32Array, BigInt64Array, Uint16Array].map((B) => [B, liar(B)]));

/** A copy of `a` made by `make(length)` (another realm's constructor, or a lying subclass). */
function remake(a: ArrayBufferView & { length: number }, make: (a: any) => any): any {
  const b = make(a);
  (a.constructor as any).prototype.set.call(b, a); // through the base method: b's own set may lie
  return b;
}

/** Every typed array of a call replaced by `make`'s copy (outs: fresh ones). */
function mapArrays(c: Call, make: (a: any) => any): Call {
  const swap = (v: any, depth: number): any => {
    if (ArrayBuffer.isView(v)) return remake(v as any, make);
    if (Array.isArray(v) || !v || typeof v !== 'object' || depth > 2) return v;
    return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, swap(x, depth + 1)]));
  };
  return { op: c.op, input: swap(c.input, 0), target: swap(c.target, 0), options: swap(c.options, 0) };
}

/** What a second read of a property gets: something of the same kind that changes the result. */
function decoy(key: string, v: any): any {
  if (v instanceof Float32Array) return new Float32Array(v.length).fill(0.5);
  if (ArrayBuffer.isView(v)) return new (v.constructor as any)((v as any).length);
  if (Array.isArray(v)) return v.slice().reverse().concat(v.length === 1 ? [1] : []);
  if (typeof v === 'number') return v === 0 ? 0.5 : v / 2;
  if (key === 'reduction') return v === 'sum' ? 'mean' : 'sum';
  if (key === 'dtype') return v === 'float16' ? 'bfloat16' : 'float16';
  return v;
}

/** The call with every property of its argument objects turned into a getter that counts its reads and
 *  returns a decoy from the second read on. */
function withGetters(c: Call, reads: Map<string, number>): Call {
  const wrap = (obj: any, name: string): any => {
    if (!obj || typeof obj !== 'object' || ArrayBuffer.isView(obj) || Array.isArray(obj)) return obj;
    const o = {};
    for (const key of Object.keys(obj)) {
      const path = `${name}.${key}`;
      const value = key === 'weight' && obj[key]?.shape ? wrap(obj[key], path) : obj[key];
      reads.set(path, 0);
      Object.defineProperty(o, key, {
        enumerable: true,
        get() {
          const count = reads.get(path)! + 1;
          reads.set(path, count);
          return count === 1 ? value : decoy(key, value);
        },
      });
    }
    return o;
  };
  return { op: c.op, input: wrap(c.input, 'input'), target: wrap(c.target, 'target'), options: wrap(c.options, 'options') };
}

describe('arguments: read once, other realms accepted, lying subclasses harmless', () => {
  const plainOf = (s: Spec) => {
    const b = build(s);
    const c = b.call;
    if (c.options.out === undefined && (c.op === 'crossEntropyWithGrad' || c.op === 'bceWithGrad')) c.options.out = new Float32Array(c.input.data.length);
    return c;
  };

  it('every argument is read exactly once (getters that return something else the second time)', () => {
    fc.assert(fc.property(specArb(), fc.constantFrom(...BACKENDS), clean((s: Spec, backend: Backend) => {
      selectBackend(backend);
      const plain = plainOf(s);
      const want = invoke({ ...plain, options: { ...plain.options, ...(plain.options.out ? { out: new Float32Array(plain.options.out.length) } : {}) } });
      const reads = new Map<string, number>();
      const got = invoke(withGetters(plain, reads));
      const wrong = [...reads].filter(([, n]) => n !== 1).map(([k, n]) => `${k} read ${n} times`);
      if (wrong.length) expect.fail(`reads: ${wrong.join(', ')}`);
      expectSameOutputs(got, want, 'with getters');
    })), runs(60));
  }, TIMEOUT);

  it('typed arrays from another realm (node:vm) are accepted and give the same bits', () => {
    fc.assert(fc.property(specArb(), fc.constantFrom(...BACKENDS), clean((s: Spec, backend: Backend) => {
      selectBackend(backend);
      const plain = plainOf(s);
      const want = invoke(mapArrays(plain, (a) => new (a.constructor as any)(a.length)));
      const got = invoke(mapArrays(plain, (a) => new realm[a.constructor.name](a.length)));
      expectSameOutputs(got, want, 'another realm');
    })), runs(40));
  }, TIMEOUT);

  it('Float32Array (and index array) subclasses overriding set, subarray, slice, ... do not change the results', () => {
    fc.assert(fc.property(specArb(), fc.constantFrom(...BACKENDS), clean((s: Spec, backend: Backend) => {
      selectBackend(backend);
      const plain = plainOf(s);
      const want = invoke(mapArrays(plain, (a) => new (a.constructor as any)(a.length)));
      const got = invoke(mapArrays(plain, (a) => new (LIARS.get(a.constructor) ?? (a.constructor as any))(a.length)));
      expectSameOutputs(got, want, 'lying subclass');
    })), runs(40));
  }, TIMEOUT);
});

// =============================================================================================
// 6. Refusals: the error class, a message naming the argument, no memory growth, nothing written, and
// the next call right

type ErrorClass = typeof TypeError | typeof RangeError;
interface Bad {
  name: string;
  families: Spec['family'][];
  /** TypeError or RangeError; `null`: either (the issue names no class). */
  error: ErrorClass | null;
  /** The argument the message must name. */
  mention: string | ((c: Call) => string);
  /** Spoils a copy of the call (may return null when the call has nothing to spoil). */
  spoil(c: Call, s: Spec): Call | null;
}

const spoilShape = (d: unknown) => (c: Call): Call => ({ ...c, input: { ...c.input, shape: [...c.input.shape.slice(0, -1), d] } });
const withOption = (key: string, v: unknown) => (c: Call): Call => ({ ...c, options: { ...c.options, [key]: v } });
const proxied = (v: any) => new Proxy(v, {});
/** A view of an allocFloat32 block that has been freed (its memory given to a newer block). */
function staleCopy(a: Float32Array): Float32Array {
  const h = allocFloat32(a.length);
  h.data.set(a);
  const stale = h.data;
  h.free();
  alloc(a.length).data.fill(1.5); // the same memory (first fit, no growth) now belongs to someone else
  expect(stale.length, 'the stale view was detached').toBe(a.length);
  return stale;
}
/** The length of a call's `out`: the input's, or the positions of a logSumExp. */
function outLengthOf(c: Call): number {
  if (c.op !== 'logSumExp') return c.input.data.length;
  const shape: number[] = c.input.shape, dim = c.options.dim ?? -1;
  return shape.filter((_, i) => i !== (dim < 0 ? dim + shape.length : dim)).reduce((a, b) => a * b, 1);
}
/** The positions of a loss call with reduction 'none': one per element for BCE, per target otherwise. */
function positionsOf(c: Call): number {
  if (c.op.startsWith('bce')) return c.input.data.length;
  const shape: number[] = c.input.shape;
  return shape.length === 1 ? 1 : shape.filter((_, i) => i !== 1).reduce((a, b) => a * b, 1);
}
const CE_LIKE: Spec['family'][] = ['ce', 'tok'];
const hasGrad = (c: Call) => c.op === 'crossEntropyWithGrad' || c.op === 'bceWithGrad';

const BADS: Bad[] = [
  { name: 'a negative dimension', families: ['ce', 'sm', 'bce', 'tok'], error: RangeError, mention: 'input.shape', spoil: spoilShape(-1) },
  { name: 'a NaN dimension', families: ['ce', 'sm', 'bce', 'tok'], error: RangeError, mention: 'input.shape', spoil: spoilShape(NaN) },
  { name: 'a dimension that is a string', families: ['ce', 'sm', 'bce', 'tok'], error: TypeError, mention: 'input.shape', spoil: spoilShape('3') },
  { name: 'labelSmoothing NaN', families: ['ce'], error: RangeError, mention: 'options.labelSmoothing', spoil: withOption('labelSmoothing', NaN) },
  { name: 'labelSmoothing 1.5', families: ['ce'], error: RangeError, mention: 'options.labelSmoothing', spoil: withOption('labelSmoothing', 1.5) },
  { name: 'temperature NaN', families: CE_LIKE, error: RangeError, mention: 'options.temperature', spoil: (c) => (c.op === 'nllLoss' ? null : withOption('temperature', NaN)(c)) },
  { name: 'temperature 0, -1 or Infinity', families: CE_LIKE, error: RangeError, mention: 'options.temperature', spoil: (c, s) => (c.op === 'nllLoss' ? null : withOption('temperature', [0, -1, Infinity][s.seed % 3])(c)) },
  { name: 'zLoss NaN', families: ['ce'], error: RangeError, mention: 'options.zLoss', spoil: (c) => (c.op === 'nllLoss' ? null : withOption('zLoss', NaN)(c)) },
  { name: 'softcap NaN', families: CE_LIKE, error: RangeError, mention: 'options.softcap', spoil: (c) => (c.op === 'nllLoss' ? null : withOption('softcap', NaN)(c)) },
  { name: 'temperature as a string', families: CE_LIKE, error: TypeError, mention: 'options.temperature', spoil: (c) => (c.op === 'nllLoss' ? null : withOption('temperature', '2')(c)) },
  { name: 'a weight of the wrong length', families: ['ce'], error: RangeError, mention: 'options.weight', spoil: (c) => withOption('weight', new Float32Array(c.input.shape.length === 1 ? c.input.shape[0] + 1 : c.input.shape[1] + 1))(c) },
  { name: 'dim out of range', families: ['sm'], error: RangeError, mention: 'options.dim', spoil: (c) => withOption('dim', c.input.shape.length)(c) },
  { name: 'an out of the wrong length', families: ['ce', 'bce', 'sm'], error: RangeError, mention: 'options.out', spoil: (c) => (c.op === 'crossEntropy' || c.op === 'nllLoss' || c.op === 'bce' ? null : withOption('out', new Float32Array(outLengthOf(c) + 1))(c)) },
  { name: 'a Proxy as input.data', families: ['ce', 'sm', 'bce', 'tok'], error: TypeError, mention: 'input.data', spoil: (c) => ({ ...c, input: { ...c.input, data: proxied(c.input.data) } }) },
  {
    name: 'a Proxy as the target', families: ['ce', 'bce', 'tok'], error: TypeError, mention: 'target',
    spoil: (c) => (ArrayBuffer.isView(c.target) ? { ...c, target: proxied(c.target) } : c.target?.data ? { ...c, target: { ...c.target, data: proxied(c.target.data) } } : null),
  },
  { name: 'a Proxy as options.weight', families: ['ce'], error: TypeError, mention: 'options.weight', spoil: (c) => (c.options.weight ? withOption('weight', proxied(c.options.weight))(c) : null) },
  { name: 'a Proxy as options.out', families: ['ce', 'sm', 'bce'], error: TypeError, mention: 'options.out', spoil: (c) => (hasGrad(c) || c.family === 'sm' ? withOption('out', proxied(new Float32Array(outLengthOf(c))))(c) : null) },
  {
    name: 'a Proxy as options.gradOutput', families: ['ce', 'bce'], error: TypeError, mention: 'options.gradOutput',
    spoil: (c) => (hasGrad(c) ? { ...c, options: { ...c.options, reduction: 'none', gradOutput: proxied(new Float32Array(positionsOf(c))) } } : null),
  },
  { name: 'a freed allocFloat32 view as input.data', families: ['ce', 'sm', 'bce', 'tok'], error: null, mention: 'input.data', spoil: (c) => (c.input.data instanceof Float32Array ? { ...c, input: { ...c.input, data: staleCopy(c.input.data) } } : null) },
  { name: 'a freed allocFloat32 view as options.out', families: ['ce', 'sm', 'bce'], error: null, mention: 'options.out', spoil: (c) => (hasGrad(c) || c.family === 'sm' ? withOption('out', staleCopy(new Float32Array(outLengthOf(c))))(c) : null) },
];

describe('bad arguments are refused cleanly', () => {
  it.each(BADS.map((b) => [b.name, b] as const))('%s', (_name, bad) => {
    const arb = fc.tuple(specArb(), fc.constantFrom(...BACKENDS)).filter(([s]) => bad.families.includes(s.family));
    let applied = 0;
    fc.assert(fc.property(arb, clean(([s, backend]: [Spec, Backend]) => {
      selectBackend(backend);
      const good = build(s).call;
      const spoiled = bad.spoil({ ...good, family: s.family }, s);
      if (!spoiled) return;
      applied++;
      const answer = invoke(good); // what the next call must give again (its accuracy is section 1's business)
      const arrays = arraysOf(spoiled).concat(live.map((h) => h.data));
      const snapshot = arrays.map(bytesOf);
      const memory = getBackendInfo().wasmMemoryBytes;
      let thrown: unknown;
      try {
        invoke(spoiled);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, 'no error').toBeInstanceOf(bad.error ?? Error);
      if (!bad.error) expect(thrown instanceof TypeError || thrown instanceof RangeError, `${thrown}: not a TypeError or RangeError`).toBe(true);
      const mention = typeof bad.mention === 'string' ? bad.mention : bad.mention(spoiled);
      expect((thrown as Error).message, 'the message names the argument').toContain(mention);
      expect(getBackendInfo().wasmMemoryBytes, 'WASM memory grew').toBe(memory);
      const now = arraysOf(spoiled).concat(live.map((h) => h.data));
      now.forEach((a, i) => expect(bytesOf(a).every((byte, j) => byte === snapshot[i][j]), `argument ${i} changed`).toBe(true));
      // the next call is right: the refusal left nothing behind
      expectSameOutputs(invoke(good), answer, 'the next call');
    })), runs(20));
    expect(applied, 'spoiled calls').toBeGreaterThan(0);
  }, TIMEOUT);

  it("setWasmMemoryLimit: TypeError for a non-number ('1e6', ...), RangeError for a bad number", () => {
    const notNumber = fc.oneof(fc.constantFrom<unknown>('1e6', '65536', true, null, undefined, {}, [65536], 65536n), fc.string());
    const badNumber = fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, 0, -65536, 65535), fc.integer({ min: -(2 ** 40), max: 65535 }));
    fc.assert(fc.property(fc.oneof(notNumber.map((v) => ({ v, error: TypeError as ErrorClass })), badNumber.map((v) => ({ v, error: RangeError as ErrorClass }))), clean(({ v, error }) => {
      expect(() => setWasmMemoryLimit(v as never)).toThrow(error);
      expect(() => setWasmMemoryLimit(v as never)).toThrow(/setWasmMemoryLimit/);
    })), runs(30, [[{ v: '1e6', error: TypeError }]]));
  });
});

// Absurd dimensions: shape [0, 2^53 - 1] holds no element, but a loop over its classes never ends. A
// hang cannot be caught in the test's own thread, so the calls run in a worker, one after the other; a
// call that has not returned after 1.5 s is a hang: the worker is terminated and a new one goes on with
// the next call. The worker loads the built package (dist/, which `npm test` and `npm run fuzz` build
// first).
describe('absurd dimensions', () => {
  const dist = new URL('../dist/index.js', import.meta.url);
  const empty = (shape: string) => `{ data: new Float32Array(0), shape: ${shape} }`;
  const CALLS: [name: string, expression: string, mustThrow: boolean][] = [
    // mustThrow: a RangeError is required; otherwise the call must not hang, and a throw must be a RangeError
    ['crossEntropy [0, 2^53-1]', `x.crossEntropy(${empty('[0, 2 ** 53 - 1]')}, [])`, true],
    ['crossEntropyWithGrad [0, 2^53-1]', `x.crossEntropyWithGrad(${empty('[0, 2 ** 53 - 1]')}, [])`, true],
    ['nllLoss [0, 2^53-1, 4]', `x.nllLoss(${empty('[0, 2 ** 53 - 1, 4]')}, { data: new Int32Array(0), shape: [0, 4] })`, true],
    ['crossEntropy, probabilities [0, 2^53-1]', `x.crossEntropy(${empty('[0, 2 ** 53 - 1]')}, ${empty('[0, 2 ** 53 - 1]')})`, true],
    ['tokenLogProbs [0, 2^53-1]', `x.tokenLogProbs(${empty('[0, 2 ** 53 - 1]')}, [])`, true],
    ['tokenStats [0, 2^53-1]', `x.tokenStats(${empty('[0, 2 ** 53 - 1]')}, [])`, true],
    ['perplexity [0, 2^53-1]', `x.perplexity(${empty('[0, 2 ** 53 - 1]')}, [])`, true],
    ['logSoftmax [0, 2^53-1]', `x.logSoftmax(${empty('[0, 2 ** 53 - 1]')})`, false],
    ['logSumExp [2^53-1, 0], dim 1', `x.logSumExp(${empty('[2 ** 53 - 1, 0]')}, { dim: 1 })`, false],
    ['softmax [0, 2^53-1], dim 0', `x.softmax(${empty('[0, 2 ** 53 - 1]')}, { dim: 0 })`, false],
    ['binaryCrossEntropyWithLogits [0, 2^53-1]', `x.binaryCrossEntropyWithLogits(${empty('[0, 2 ** 53 - 1]')}, ${empty('[0, 2 ** 53 - 1]')})`, false],
  ];
  const JOBS = BACKENDS.flatMap((backend) => CALLS.map(([name, src]) => ({ id: `${backend}: ${name}`, backend, src })));
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then((x) => {
      for (const { id, backend, src } of workerData.jobs) {
        x.setBackend(backend === 'js' ? 'js' : 'wasm', { relaxed: backend === 'wasm-relaxed' });
        parentPort.postMessage({ running: id });
        let result;
        try { new Function('x', 'return ' + src)(x); result = { returned: true }; }
        catch (e) { result = { error: e?.constructor?.name, message: String(e?.message) }; }
        parentPort.postMessage({ done: id, ...result });
      }
      parentPort.postMessage({ end: true });
    });`;

  type Result = { error?: string; message?: string; returned?: boolean; hung?: boolean };
  /** Runs jobs[from..] in one worker; resolves at the end, or at the first call that takes over 1 s. */
  function runFrom(jobs: typeof JOBS, results: Map<string, Result>): Promise<number> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { url: dist.href, jobs } });
      let timer: ReturnType<typeof setTimeout> | undefined, done = 0;
      const stop = (n: number) => {
        clearTimeout(timer);
        void worker.terminate();
        resolve(n);
      };
      worker.on('message', (m) => {
        if (m.running) {
          clearTimeout(timer);
          timer = setTimeout(() => {
            results.set(m.running, { hung: true });
            stop(done + 1);
          }, 1000);
        }
        if (m.done) {
          results.set(m.done, m);
          done++;
        }
        if (m.end) stop(done);
      });
      worker.on('error', reject);
    });
  }

  it('are a RangeError (or an empty result), never a hang, on both backends', async () => {
    expect(existsSync(fileURLToPath(dist)), 'dist/ is missing: npm run build').toBe(true);
    const results = new Map<string, Result>();
    for (let at = 0; at < JOBS.length;) at += await runFrom(JOBS.slice(at), results);
    const wrong: string[] = [];
    for (const [{ id }, [, , mustThrow]] of JOBS.map((j, i) => [j, CALLS[i % CALLS.length]] as const)) {
      const r = results.get(id);
      if (!r) wrong.push(`${id}: no result`);
      else if (r.hung) wrong.push(`${id}: hung (still running after 1 s)`);
      else if (r.error !== undefined && r.error !== 'RangeError') wrong.push(`${id}: ${r.error}: ${r.message}`);
      else if (mustThrow && r.error === undefined) wrong.push(`${id}: returned instead of throwing a RangeError`);
    }
    if (wrong.length) expect.fail(`${wrong.length} of ${JOBS.length} calls:\n${wrong.join('\n')}`);
  }, 60_000);
});
