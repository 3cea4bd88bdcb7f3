// The op table: every op's public function, a seeded random-case generator with the float64 reference of
// each output, and a bad call (test/ops.test.ts runs its properties over it on every backend; the pool
// suite runs its cases through createPool). Adding an op adds a row here.
import * as xent from '../../src/index.ts';
import { TOL, type Tolerance } from './close.ts';
import { randn, randomIndices, randomLogits, randomProbs, rng } from './random.ts';
import { classOp64, classOpBackward64, layoutOf } from '../reference/ce64.ts';
import { bce64, crossEntropyRef64, kl64, tokenStats64 } from '../reference/xent64.ts';
import { centralGrad64, distill64 } from '../reference/distill64.ts';

export type Rand = () => number;
export type Out = number | ArrayLike<number>;
type Tensor = { data: Float32Array; shape: number[] };

export interface Case {
  /** The public function's arguments: the input (a tensor) first. */
  args: [Tensor, ...unknown[]];
  /** The float64 reference of every output the row's `run` returns. */
  want: Record<string, Out>;
  /** For gradient rows: the reference loss as a function of the logits, for central differences. */
  loss64?: (x: Float64Array) => number;
}

export interface OpRow {
  name: string;
  /** A random case; `big` asks for one of several chunks' size (at a 64 KiB memory limit). */
  gen(rand: Rand, big: boolean): Case;
  run(args: unknown[]): Record<string, Out>;
  /** The name of the first argument, which errors give (default 'input'). */
  first?: string;
  /** A call that must be refused, the error and the message. */
  bad: { args: unknown[]; error: typeof TypeError | typeof RangeError; message: RegExp };
}

export const TOLERANCE: Record<string, Tolerance> = {
  loss: TOL.loss, zLoss: TOL.loss, grad: TOL.grad, out: TOL.logSoftmax, logProbs: TOL.logSoftmax,
  logSumExp: TOL.logSoftmax, entropy: { rtol: 2e-5, atol: 2e-5 }, perplexity: TOL.loss, logProb: TOL.loss,
  isGreedy: { rtol: 0, atol: 0 },
};

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

/** Logits of a class-axis-1 shape [N, C] or [N, C, S]. */
function logitsCase(rand: Rand, big: boolean) {
  const N = big ? 64 : int(rand, 1, 6), C = big ? 1500 : int(rand, 1, 40), S = big ? 1 : pick(rand, [1, 1, 3]);
  const shape = S === 1 ? [N, C] : [N, C, S];
  return { N, C, S, shape, x: randomLogits(rand, N * C * S, 3) };
}

function xentCase(rand: Rand, big: boolean, grad: boolean, logProbs = false): Case {
  const { N, C, S, shape, x } = logitsCase(rand, big);
  const prob = !big && rand() < 0.25;
  const target = prob ? { data: randomProbs(rand, N, C, S), shape } : randomIndices(rand, N * S, C, -100, 0.2);
  const reduction = pick(rand, ['mean', 'sum', 'none'] as const);
  const opts: Record<string, unknown> = { reduction };
  if (rand() < 0.4) opts.weight = Float32Array.from({ length: C }, () => 0.2 + rand() * 2);
  if (rand() < 0.3) opts.labelSmoothing = rand() * 0.3;
  if (!logProbs) {
    if (rand() < 0.3) opts.temperature = 0.5 + rand() * 2;
    if (rand() < 0.2) opts.zLoss = rand() * 1e-3;
    if (rand() < 0.2) opts.softcap = 5 + rand() * 30;
  }
  const input = { data: logProbs ? logSoftmaxOf(x, N, C, S) : x, shape };
  const isIndex = !prob, t = prob ? (target as Tensor).data : (target as Int32Array);
  const ref = (v: ArrayLike<number>) => crossEntropyRef64(v, shape, t, isIndex, opts, 1, logProbs);
  const r = ref(input.data);
  const want: Record<string, Out> = { loss: r.loss };
  if (grad) {
    want.grad = r.grad;
    if (opts.zLoss !== undefined && reduction !== 'none') want.zLoss = r.zLoss;
  }
  return { args: [input, target, opts], want, loss64: reduction === 'none' ? undefined : (v) => ref(v).loss as number };
}

/** Log-probabilities for nllLoss, in float64 then rounded. */
function logSoftmaxOf(x: Float32Array, N: number, C: number, S: number): Float32Array {
  return Float32Array.from(classOp64('log_softmax', x, N, C, S));
}

function bceCase(rand: Rand, big: boolean, grad: boolean): Case {
  const R = big ? 64 : int(rand, 1, 5), L = big ? 1500 : int(rand, 1, 30);
  const shape = [R, L], n = R * L;
  const x = Float32Array.from({ length: n }, () => randn(rand) * 4), y = Float32Array.from({ length: n }, () => rand());
  const reduction = pick(rand, ['mean', 'sum', 'none'] as const);
  const opts: Record<string, unknown> = { reduction };
  const ref: Parameters<typeof bce64>[3] = { reduction };
  if (rand() < 0.4) {
    const w = { data: Float32Array.from({ length: L }, () => rand() * 2), shape: [L] };
    opts.weight = w;
    ref.weight = w;
  }
  if (rand() < 0.4) opts.posWeight = ref.posWeight = Float32Array.from({ length: L }, () => 0.5 + rand() * 2);
  const r = bce64(x, y, shape, ref);
  return {
    args: [{ data: x, shape }, { data: y, shape }, opts],
    want: grad ? { loss: r.loss, grad: r.grad } : { loss: r.loss },
    loss64: reduction === 'none' ? undefined : (v) => bce64(v, y, shape, ref).loss as number,
  };
}

function klCase(rand: Rand, big: boolean, grad: boolean): Case {
  const N = big ? 64 : int(rand, 1, 5), C = big ? 1500 : int(rand, 1, 30), shape = [N, C];
  const logTarget = rand() < 0.4;
  // rows of log-probabilities, and a target distribution with some exact zeros (0 log 0 = 0)
  const x = logSoftmaxOf(randomLogits(rand, N * C, 2), N, C, 1);
  const p = randomProbs(rand, N, C, 1).map((v) => (!logTarget && rand() < 0.15 ? 0 : v));
  const y = logTarget ? p.map(Math.log) : p;
  const reduction = pick(rand, ['mean', 'batchmean', 'sum', 'none'] as const);
  const opts = { reduction, logTarget };
  const r = kl64(x, y, shape, opts);
  return {
    args: [{ data: x, shape }, { data: y, shape }, opts],
    want: grad ? { loss: r.loss, grad: r.grad } : { loss: r.loss },
    loss64: reduction === 'none' ? undefined : (v) => kl64(v, y, shape, opts).loss as number,
  };
}

/** Student and teacher logits, classes last ([N, V] or [N, S, V]), with the options of distillation. */
function distillCase(rand: Rand, big: boolean, grad: boolean): Case {
  const N = big ? 64 : int(rand, 1, 4), S = big ? 1 : pick(rand, [1, 2]), V = big ? 1500 : int(rand, 1, 12);
  const shape = S === 1 ? [N, V] : [N, S, V], n = N * S * V;
  const s = randomLogits(rand, n, 3), t = randomLogits(rand, n, 3);
  const reduction = pick(rand, ['batchmean', 'sum', 'none'] as const);
  const opts: Record<string, unknown> = { reduction, beta: pick(rand, [0, 0, 0.5, 1]) };
  if (rand() < 0.4) opts.temperature = 0.5 + rand() * 2;
  if (rand() < 0.4) {
    opts.labels = randomIndices(rand, N * S, V, -100, 0.2);
    if (rand() < 0.6) opts.alpha = rand();
  }
  const ref = { ...opts, labels: opts.labels as Int32Array | undefined } as Parameters<typeof distill64>[3];
  const loss = distill64(s, t, V, ref);
  const want: Record<string, Out> = { loss };
  // the gradient's reference by central differences of the float64 loss (small cases only)
  if (grad && !big) want.grad = centralGrad64(s, t, V, ref, reduction === 'none' ? Array(N * S).fill(1) : 1);
  return { args: [{ data: s, shape }, { data: t, shape }, opts], want };
}

function classOpCase(op: 'log_softmax' | 'softmax' | 'logsumexp' | 'softmin', rand: Rand, big: boolean): Case {
  const { shape, x } = logitsCase(rand, big);
  // along a random axis
  const dim = pick(rand, [...shape.keys()]);
  const N = shape.slice(0, dim).reduce((a, b) => a * b, 1), S = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const out = op === 'softmin' ? classOp64('softmax', x.map((v) => -v), N, shape[dim], S) : classOp64(op, x, N, shape[dim], S);
  return { args: [{ data: x, shape }, { dim }], want: { out } };
}

/** A backward op's case: the upstream gradient first, then the forward's output (its input for
 *  logsumexp), rounded to float32 as the caller would hold it. */
function backwardCase(op: 'log_softmax' | 'softmax' | 'logsumexp', rand: Rand, big: boolean): Case {
  const { shape, x } = logitsCase(rand, big);
  const dim = pick(rand, [...shape.keys()]);
  const N = shape.slice(0, dim).reduce((a, b) => a * b, 1), C = shape[dim], S = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const y = op === 'logsumexp' ? x : Float32Array.from(classOp64(op, x, N, C, S));
  const gShape = op === 'logsumexp' ? shape.filter((_, i) => i !== dim) : shape;
  const g = Float32Array.from({ length: op === 'logsumexp' ? N * S : N * C * S }, () => randn(rand));
  const options: Record<string, unknown> = { dim };
  // logsumexp's backward given the forward's result (rounded as a float32 forward's), half the time
  if (op === 'logsumexp' && rand() < 0.5) options.result = { data: Float32Array.from(classOp64('logsumexp', x, N, C, S)), shape: gShape };
  return { args: [{ data: g, shape: gShape }, { data: y, shape }, options], want: { out: classOpBackward64(op, g, y, N, C, S) } };
}

/** The LM functions read classes last: [N, C] or [N, S, C], targets [N * S]; the reference reads [N * S, C]. */
function tokenCase(rand: Rand, big: boolean, fill?: number): Case & { stats: ReturnType<typeof tokenStats64> } {
  const { N, C, S, x } = logitsCase(rand, big);
  const shape = S === 1 ? [N, C] : [N, S, C];
  const target = randomIndices(rand, N * S, C, -100, 0.2);
  const opts: Record<string, unknown> = {};
  if (rand() < 0.3) opts.temperature = 0.5 + rand() * 2;
  if (rand() < 0.2) opts.softcap = 5 + rand() * 30;
  if (fill !== undefined) opts.fill = fill;
  return { args: [{ data: x, shape }, target, opts], want: {}, stats: tokenStats64(x, [N * S, C], target, opts) };
}

/** 1 where the target is its row's first maximum (argmax), 0 elsewhere and where ignored. */
function greedy64(x: ArrayLike<number>, C: number, target: ArrayLike<number>): number[] {
  return Array.from(target, (t, n) => {
    if (t === -100) return 0;
    let best = 0;
    for (let c = 1; c < C; c++) if (x[n * C + c] > x[n * C + best]) best = c;
    return best === t ? 1 : 0;
  });
}

/** A continuation per sequence of [B, T, V] logits (or one of [T, V]): the reference sums the log-probabilities
 *  of ids[start..end), each at the position before it. */
function continuationCase(rand: Rand, big: boolean): Case {
  const B = big ? 4 : int(rand, 1, 3), T = big ? 16 : int(rand, 2, 7), V = big ? 1500 : int(rand, 2, 30);
  const flat = B === 1 && rand() < 0.5;
  const x = randomLogits(rand, B * T * V, 3);
  const ids = randomIndices(rand, B * T, V, -100, 0);
  // a greedy continuation now and then: its ids are the argmax of the rows before them
  if (rand() < 0.3) for (let i = 0; i < B * T - 1; i++) if ((i + 1) % T) ids[i + 1] = argmax(x, i, V);
  const starts = Array.from({ length: B }, () => int(rand, 1, T - 1)), ends = starts.map((s) => int(rand, s, T));
  const stats = tokenStats64(x, [B * T, V], Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T ? ids[i + 1] : -100)), {});
  const g = greedy64(x, V, Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T ? ids[i + 1] : -100)));
  const logProb = starts.map((s, b) => { let v = 0; for (let t = s; t < ends[b]; t++) v += stats.logProbs[b * T + t - 1]; return v; });
  const isGreedy = starts.map((s, b) => { for (let t = s; t < ends[b]; t++) if (!g[b * T + t - 1]) return 0; return 1; });
  const shape = flat ? [T, V] : [B, T, V];
  const options = flat ? { start: starts[0], end: ends[0] } : { start: starts, end: ends };
  return { args: [{ data: x, shape }, ids, options], want: { logProb, isGreedy } };
}

function argmax(x: Float32Array, row: number, V: number): number {
  let best = 0;
  for (let c = 1; c < V; c++) if (x[row * V + c] > x[row * V + best]) best = c;
  return best;
}

/** Causal LM loss: logits [B, T, V] (or [T, V]), labels [B, T]; the reference shifts the labels itself. */
function causalCase(rand: Rand, big: boolean, grad: boolean): Case {
  const B = big ? 4 : int(rand, 1, 3), T = big ? 16 : int(rand, 1, 6), V = big ? 1500 : int(rand, 2, 40);
  const shape = B === 1 && rand() < 0.5 ? [T, V] : [B, T, V];
  const x = randomLogits(rand, B * T * V, 3);
  const labels = randomIndices(rand, B * T, V, -100, 0.2);
  const shifted = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -100 : labels[i + 1]));
  const opts: Record<string, unknown> = {};
  const numItems = rand() < 0.3 ? int(rand, 1, 3 * B * T) : undefined;
  if (numItems !== undefined) opts.numItemsInBatch = numItems;
  else opts.reduction = pick(rand, ['mean', 'sum', 'none'] as const);
  if (rand() < 0.3) opts.labelSmoothing = rand() * 0.3;
  if (rand() < 0.3) opts.temperature = 0.5 + rand() * 2;
  if (rand() < 0.2) opts.zLoss = rand() * 1e-3;
  const refOpts = { ...opts, reduction: numItems !== undefined ? 'sum' : opts.reduction } as Parameters<typeof crossEntropyRef64>[4];
  const ref = (v: ArrayLike<number>) => crossEntropyRef64(v, [B * T, V], shifted, true, refOpts, numItems !== undefined ? 1 / numItems : 1);
  const r = ref(x);
  const scale = numItems ?? 1;
  const loss = opts.reduction === 'none'
    ? (r.loss as number[]).filter((_, i) => (i + 1) % T !== 0)
    : (r.loss as number) / scale;
  const want: Record<string, Out> = { loss };
  if (grad) {
    want.grad = r.grad;
    if (opts.zLoss !== undefined && opts.reduction !== 'none') want.zLoss = r.zLoss / scale;
  }
  return { args: [{ data: x, shape }, labels, opts], want, loss64: opts.reduction === 'none' ? undefined : (v) => (ref(v).loss as number) / scale };
}

const x6 = { data: Float32Array.from({ length: 12 }, (_, i) => Math.cos(i)), shape: [4, 3] };
const asLoss = (l: unknown) => ({ loss: l as Out });

export const OPS: OpRow[] = [
  {
    name: 'crossEntropy', gen: (r, big) => xentCase(r, big, false),
    run: (a) => asLoss(xent.crossEntropy(...(a as Parameters<typeof xent.crossEntropy>))),
    bad: { args: [x6, [0, 1, 2, 3]], error: RangeError, message: /target\[3\] = 3 is out of range for 3 classes/ },
  },
  {
    name: 'crossEntropyWithGrad', gen: (r, big) => xentCase(r, big, true),
    run: (a) => xent.crossEntropyWithGrad(...(a as Parameters<typeof xent.crossEntropyWithGrad>)) as Record<string, Out>,
    bad: { args: [x6, [0, 1, 2, 0], { gradOutput: '1' }], error: TypeError, message: /options.gradOutput: expected a number/ },
  },
  {
    name: 'causalLMLoss', gen: (r, big) => causalCase(r, big, false),
    run: (a) => asLoss(xent.causalLMLoss(...(a as Parameters<typeof xent.causalLMLoss>))),
    bad: { args: [{ data: new Float32Array(12), shape: [2, 2, 3] }, [0, 3, 1, 0]], error: RangeError, message: /labels\[1\] = 3 is out of range for a vocabulary of 3/ },
  },
  {
    name: 'causalLMLossWithGrad', gen: (r, big) => causalCase(r, big, true),
    run: (a) => xent.causalLMLossWithGrad(...(a as Parameters<typeof xent.causalLMLossWithGrad>)) as Record<string, Out>,
    bad: { args: [{ data: new Float32Array(12), shape: [2, 2, 3] }, [0, 1, 2, 0], { numItemsInBatch: 0 }], error: RangeError, message: /options.numItemsInBatch: expected a finite number > 0, got 0/ },
  },
  {
    name: 'nllLoss', gen: (r, big) => xentCase(r, big, false, true),
    run: (a) => asLoss(xent.nllLoss(...(a as Parameters<typeof xent.nllLoss>))),
    bad: { args: [x6, [0, 1, 2, 0], { temperature: 2 }], error: TypeError, message: /options.temperature: unknown option; expected one of weight, ignoreIndex/ },
  },
  {
    name: 'nllLossWithGrad', gen: (r, big) => xentCase(r, big, true, true),
    run: (a) => xent.nllLossWithGrad(...(a as Parameters<typeof xent.nllLossWithGrad>)) as Record<string, Out>,
    bad: { args: [x6, [0, 1, 2, 0], { zLoss: 1e-4 }], error: TypeError, message: /options.zLoss: unknown option; expected one of weight, ignoreIndex/ },
  },
  {
    name: 'distillationLoss', first: 'studentLogits', gen: (r, big) => distillCase(r, big, false),
    run: (a) => asLoss(xent.distillationLoss(...(a as Parameters<typeof xent.distillationLoss>))),
    bad: { args: [x6, x6, { beta: 2 }], error: RangeError, message: /options.beta: expected a number in \[0, 1\], got 2/ },
  },
  {
    name: 'distillationLossWithGrad', first: 'studentLogits', gen: (r, big) => distillCase(r, big, true),
    run: (a) => xent.distillationLossWithGrad(...(a as Parameters<typeof xent.distillationLossWithGrad>)) as Record<string, Out>,
    bad: { args: [x6, { data: new Float32Array(6), shape: [2, 3] }], error: RangeError, message: /teacherLogits: expected the student's shape \[4, 3\], got \[2, 3\]/ },
  },
  {
    name: 'binaryCrossEntropyWithLogits', gen: (r, big) => bceCase(r, big, false),
    run: (a) => asLoss(xent.binaryCrossEntropyWithLogits(...(a as Parameters<typeof xent.binaryCrossEntropyWithLogits>))),
    bad: { args: [x6, { data: new Float32Array(6), shape: [2, 3] }], error: RangeError, message: /target: expected the input's shape \[4, 3\]/ },
  },
  {
    name: 'binaryCrossEntropyWithLogitsWithGrad', gen: (r, big) => bceCase(r, big, true),
    run: (a) => xent.binaryCrossEntropyWithLogitsWithGrad(...(a as Parameters<typeof xent.binaryCrossEntropyWithLogitsWithGrad>)),
    bad: { args: [x6, x6, { posWeight: new Float32Array(2) }], error: RangeError, message: /options.posWeight: expected 3 values/ },
  },
  {
    name: 'klDiv', gen: (r, big) => klCase(r, big, false),
    run: (a) => asLoss(xent.klDiv(...(a as Parameters<typeof xent.klDiv>))),
    bad: { args: [x6, x6, { reduction: 'batch' }], error: TypeError, message: /options.reduction: expected 'mean', 'sum', 'none' or 'batchmean', got string "batch"/ },
  },
  {
    name: 'klDivWithGrad', gen: (r, big) => klCase(r, big, true),
    run: (a) => xent.klDivWithGrad(...(a as Parameters<typeof xent.klDivWithGrad>)),
    bad: { args: [x6, x6, { logTarget: 1 }], error: TypeError, message: /options.logTarget: expected a boolean, got number 1/ },
  },
  ...(['logSoftmax', 'softmax', 'logSumExp', 'softmin'] as const).map((name): OpRow => ({
    name, gen: (r, big) => classOpCase(({ logSoftmax: 'log_softmax', softmax: 'softmax', logSumExp: 'logsumexp', softmin: 'softmin' } as const)[name], r, big),
    run: (a) => ({ out: xent[name](...(a as [Tensor, { dim: number }])) }),
    bad: { args: [x6, { dim: 2 }], error: RangeError, message: /options.dim: expected an integer in \[-2, 1\] for shape \[4, 3\], got 2/ },
  })),
  ...(['logSoftmaxBackward', 'softmaxBackward', 'logSumExpBackward'] as const).map((name): OpRow => ({
    name, first: 'gradOutput',
    gen: (r, big) => backwardCase(({ logSoftmaxBackward: 'log_softmax', softmaxBackward: 'softmax', logSumExpBackward: 'logsumexp' } as const)[name], r, big),
    run: (a) => ({ out: xent[name](...(a as [Tensor, Tensor, { dim: number }])) }),
    bad: name === 'logSumExpBackward'
      ? { args: [x6, x6], error: RangeError, message: /gradOutput.shape: expected \[4\] \(input.shape \[4, 3\] without dim\) or \[4, 1\], got \[4, 3\]/ }
      : { args: [{ data: new Float32Array(4), shape: [4] }, x6], error: RangeError, message: /gradOutput.shape: expected \[4, 3\] \(output.shape\), got \[4\]/ },
  })),
  {
    name: 'tokenLogProbs',
    gen: (r, big) => {
      const c = tokenCase(r, big, r() < 0.5 ? -1 : undefined);
      return { ...c, want: { logProbs: c.stats.logProbs } };
    },
    run: (a) => ({ logProbs: xent.tokenLogProbs(...(a as Parameters<typeof xent.tokenLogProbs>)) }),
    bad: { args: [x6, { data: new Float32Array(12), shape: [4, 3] }], error: TypeError, message: /probability targets have no single log-probability/ },
  },
  {
    name: 'tokenStats',
    gen: (r, big) => {
      const c = tokenCase(r, big);
      const [N, C] = [c.stats.logProbs.length, c.args[0].shape[c.args[0].shape.length - 1]];
      const isGreedy = greedy64(c.args[0].data, C, (c.args[1] as Int32Array).subarray(0, N));
      return { ...c, want: { logProbs: c.stats.logProbs, logSumExp: c.stats.logSumExp, entropy: c.stats.entropy, isGreedy } };
    },
    run: (a) => xent.tokenStats(...(a as Parameters<typeof xent.tokenStats>)) as unknown as Record<string, Out>,
    bad: { args: [x6, [0, 1, 2, 0], { fill: '0' }], error: TypeError, message: /options.fill: expected a number/ },
  },
  {
    name: 'continuationLogProb', gen: (r, big) => continuationCase(r, big),
    run: (a) => {
      const { logProb, isGreedy } = xent.continuationLogProb(...(a as Parameters<typeof xent.continuationLogProb>));
      return { logProb: typeof logProb === 'number' ? [logProb] : logProb, isGreedy: ([] as boolean[]).concat(isGreedy).map(Number) };
    },
    bad: { args: [{ data: new Float32Array(12), shape: [2, 2, 3] }, [0, 1, 2, 0], { start: 0 }], error: RangeError, message: /expected 1 <= start <= end <= 2, got start 0/ },
  },
  {
    name: 'perplexity',
    gen: (r, big) => {
      const c = tokenCase(r, big);
      const kept = c.stats.logProbs.filter((v) => !Number.isNaN(v));
      return { ...c, want: { perplexity: Math.exp(-kept.reduce((s, v) => s + v, 0) / kept.length) } };
    },
    run: (a) => ({ perplexity: xent.perplexity(...(a as Parameters<typeof xent.perplexity>)) }),
    bad: { args: [x6, [0, 1, 2, 0], { temperature: 0 }], error: RangeError, message: /options.temperature: expected a finite number > 0, got 0/ },
  },
];
