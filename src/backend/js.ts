// The plain-TypeScript backend: the same math as the wasm kernels, written as direct loops in float64.
// It runs where WebAssembly SIMD is missing and is the parity partner of the wasm backend in tests.
import { IGNORED, type BackwardOp, type Call, type CallResult, type ClassOp, type Floats, type Kernels } from './types.ts';
import { halfToFloat32, type Half, type HalfKind } from '../half.ts';
import { addTotals, blockTotals, summed } from './blocks.ts';

/** The data of a call's array by name, or null when the call has none. */
function dataOf<T extends Floats>(call: Call, name: string): T | null {
  return (call.arrays[name]?.data ?? null) as T | null;
}

/** Element (n, c, s) of an (N, C, S) tensor sits at n*C*S + c*S + s: a position's classes are S apart. */
function forEachPosition(N: number, C: number, S: number, fn: (pos: number, base: number) => void): void {
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) fn(n * S + s, n * C * S + s);
  }
}

function maxOf(x: Float32Array, base: number, C: number, S: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) {
    const v = x[base + c * S];
    if (v > m || Number.isNaN(v)) m = v;
    if (Number.isNaN(m)) return NaN;
  }
  return m;
}

function sumExp(x: Float32Array, base: number, C: number, S: number, shift: number): number {
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(x[base + c * S] - shift);
  return s;
}

function xent(call: Call): CallResult {
  const { C, S, eps, gscale, invT, zLoss, softcap } = call.scalars, N = call.rows;
  const arr = (name: string) => dataOf<Float32Array>(call, name);
  const index = call.kernel === 'xent_index' ? dataOf<Int32Array>(call, 'target') : null;
  const prob = index ? null : arr('target');
  const [weight, loss, grad, scales, lseOut, entOut] = ['weight', 'loss', 'grad', 'scales', 'lse', 'entropy'].map(arr);
  const logProbs = call.scalars.logProbs === 1;
  // half-precision logits are widened up front here (the wasm kernels do it a chunk at a time)
  const raw = dataOf(call, 'x')!, half = call.scalars.half as Half;
  const x = half ? halfToFloat32(raw as Uint16Array, half) : (raw as Float32Array);
  const w = (c: number) => (weight ? weight[c] : 1);
  const { wsum } = call.scalars;
  const hot = 1 - eps;
  const ec = eps / C;
  // logits divided by the temperature, then soft-capped (log-probabilities are taken as they are);
  // dv is the derivative of that transform
  const cap = (z: number) => (softcap ? softcap * Math.tanh(z / softcap) : z);
  const plain = logProbs || (invT === 1 && !softcap); // the common case reads x as it is
  const v = plain ? (i: number) => x[i] : (i: number) => cap(x[i] * invT);
  const dv = plain ? () => 1 : softcap ? (i: number) => invT * (1 - (v(i) / softcap) ** 2) : () => invT;
  let total = 0;
  let zTotal = 0;
  forEachPosition(N, C, S, (pos, base) => {
    const t = index ? index[pos] : 0;
    if (index && t === IGNORED) {
      if (loss) loss[pos] = 0;
      if (lseOut) lseOut[pos] = NaN;
      if (entOut) entOut[pos] = NaN;
      if (grad) {
        // PyTorch's log_softmax backward leaves exp(logp) * 0: NaN where the row's max is not finite
        const max = maxOf(x, base, C, S);
        const g = Number.isFinite(logProbs ? max : cap(max * invT)) ? 0 : NaN;
        for (let c = 0; c < C; c++) grad[base + c * S] = g;
      }
      return;
    }
    const m = logProbs ? 0 : cap(maxOf(x, base, C, S) * invT); // the transform is increasing
    let se = 1;
    if (!logProbs) {
      se = 0;
      for (let c = 0; c < C; c++) se += Math.exp(v(base + c * S) - m);
    }
    const L = Math.log(se);
    if (lseOut && entOut && !logProbs) {
      // logsumexp and entropy -sum p log p = L - sum e (v - m) / se of the transformed logits
      let d = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(v(base + c * S) - m);
        if (e !== 0) d += e * (v(base + c * S) - m); // e = 0 at a -inf logit, whose e (v - m) is 0, not NaN
      }
      lseOut[pos] = m + L;
      entOut[pos] = L - d / se;
    }
    // q[c]: the coefficient of -logp[c] in this position's loss; without smoothing an index target's
    // other classes have none, and their weights (NaN or inf, say) must not enter as w * 0 (PyTorch)
    const q = (c: number) =>
      index
        ? c === t ? w(c) * (ec + hot) : eps > 0 ? w(c) * ec : 0
        : w(c) * (eps > 0 ? hot * prob![base + c * S] + ec : prob![base + c * S]);
    let l = 0;
    let mass = 0;
    if (index) {
      l = -hot * w(t) * (v(base + t * S) - m - L);
      if (eps > 0) {
        let smooth = 0;
        for (let c = 0; c < C; c++) smooth += w(c) * (v(base + c * S) - m - L);
        l -= ec * smooth;
      }
      mass = hot * w(t) + (eps > 0 ? ec * wsum : 0);
    } else {
      for (let c = 0; c < C; c++) {
        const qc = q(c);
        l -= qc * (v(base + c * S) - m - L);
        mass += qc;
      }
    }
    // z-loss: zLoss * lse^2, whose gradient is 2 zLoss lse softmax
    let zGrad = 0;
    if (zLoss > 0 && !logProbs) {
      const lse = m + L;
      l += zLoss * lse * lse;
      zTotal += zLoss * lse * lse;
      zGrad = 2 * zLoss * lse;
    }
    if (loss) loss[pos] = l;
    total += l;
    if (grad) {
      const scale = scales ? scales[pos] : gscale;
      for (let c = 0; c < C; c++) {
        const i = base + c * S;
        const softmax = logProbs ? 0 : Math.exp(v(i) - m) / se;
        // nll_loss's other classes get exactly 0 without smoothing, even with a NaN scale (PyTorch)
        if (logProbs && index && c !== t && eps === 0) grad[i] = 0;
        else grad[i] = scale * dv(i) * ((mass + zGrad) * softmax - q(c)); // x[i] is read before grad[i] is written
      }
    }
  });
  return { total, zTotal, outs: outsOf(call) };
}

function classOp(call: Call): CallResult {
  const op = call.kernel as ClassOp, { C, S } = call.scalars, N = call.rows;
  const input = dataOf<Float32Array>(call, 'x')!, out = dataOf<Float32Array>(call, 'out')!;
  const x = op === 'softmin' ? input.map((v) => -v) : input; // softmin(x) = softmax(-x)
  forEachPosition(N, C, S, (pos, base) => {
    let m = maxOf(x, base, C, S);
    if (op === 'logsumexp') {
      // PyTorch shifts by 0 when the max is infinite, so the result is +-inf rather than NaN
      if (Math.abs(m) === Infinity) m = 0;
      out[pos] = m + Math.log(sumExp(x, base, C, S, m));
      return;
    }
    const se = sumExp(x, base, C, S, m);
    const L = Math.log(se);
    for (let c = 0; c < C; c++) {
      const i = base + c * S;
      out[i] = op === 'log_softmax' ? x[i] - m - L : Math.exp(x[i] - m) / se;
    }
  });
  return { total: 0, zTotal: 0, outs: outsOf(call) };
}

/** The softmax family's backward, PyTorch's formulas: g - exp(y) sum(g) (log_softmax, y its output),
 *  y (g - sum(g y)) (softmax), g exp(y - logsumexp(y)) (logsumexp, y its input, g one per position). */
function backwardOp(call: Call): CallResult {
  const op = call.kernel as BackwardOp, { C, S } = call.scalars, N = call.rows;
  const g = dataOf<Float32Array>(call, 'g')!, y = dataOf<Float32Array>(call, 'y')!, out = dataOf<Float32Array>(call, 'out')!;
  const lse = dataOf<Float32Array>(call, 'lse');
  forEachPosition(N, C, S, (pos, base) => {
    if (lse) { // the forward's result given: PyTorch's g exp(x - lse) as it stands
      for (let c = 0; c < C; c++) out[base + c * S] = g[pos] * Math.exp(y[base + c * S] - lse[pos]);
      return;
    }
    if (op === 'logsumexp_backward') {
      let m = maxOf(y, base, C, S);
      const finite = Number.isFinite(m);
      if (!finite && !Number.isNaN(m)) m = 0; // logsumexp's own rule: +-inf, and x - lse as it comes
      const se = sumExp(y, base, C, S, m);
      // finite: exp(x - m) / se, the accurate form of exp(x - lse); else exp(x - lse) itself
      const shift = finite ? m : m + Math.log(se), div = finite ? se : 1;
      for (let c = 0; c < C; c++) out[base + c * S] = (g[pos] * Math.exp(y[base + c * S] - shift)) / div;
      return;
    }
    let s = 0;
    for (let c = 0; c < C; c++) s += op === 'softmax_backward' ? g[base + c * S] * y[base + c * S] : g[base + c * S];
    for (let c = 0; c < C; c++) {
      const i = base + c * S; // g[i] and y[i] are read before out[i] (which may be either) is written
      out[i] = op === 'softmax_backward' ? y[i] * (g[i] - s) : g[i] - Math.exp(y[i]) * s;
    }
  });
  return { total: 0, zTotal: 0, outs: outsOf(call) };
}

function bce(call: Call): CallResult {
  const { L, wMode, gscale } = call.scalars;
  const x = dataOf<Float32Array>(call, 'x')!, y = dataOf<Float32Array>(call, 'y')!;
  const [weight, posWeight, loss, grad, scales] = ['weight', 'posWeight', 'loss', 'grad', 'scales'].map((n) => dataOf<Float32Array>(call, n));
  let total = 0;
  for (let i = 0; i < call.rows; i++) {
    const j = i % L;
    const w = wMode === 0 ? 1 : weight![wMode === 1 ? j : i];
    const pw = posWeight ? posWeight[j] : 1;
    const lw = (pw - 1) * y[i] + 1;
    const v = x[i];
    // PyTorch's (1 - y) x + lw (log1p(e^-|x|) + max(-x, 0)) cancels for x << 0; since (1 - y) - lw = -pw y,
    // a x + lw log1p(e^-|x|) with a = -pw y there is the same, and has terms of one sign (as the wasm kernel)
    const e = Math.exp(-Math.abs(v));
    const a = v < 0 ? -pw * y[i] : 1 - y[i];
    const l = v === -Infinity ? NaN : w * (a * v + lw * Math.log1p(e)); // NaN at -inf, as PyTorch's -inf + inf
    if (loss) loss[i] = l;
    total += l;
    const q = (lw * e) / (1 + e); // lw sigmoid(-|x|)
    if (grad) grad[i] = (scales ? scales[i] : gscale) * w * (v < 0 ? a + q : a - q); // x read first
  }
  return { total, zTotal: 0, outs: outsOf(call) };
}

function klDiv(call: Call): CallResult {
  const { logTarget, gscale } = call.scalars;
  const x = dataOf<Float32Array>(call, 'x')!, y = dataOf<Float32Array>(call, 'y')!;
  const [loss, grad, scales] = ['loss', 'grad', 'scales'].map((n) => dataOf<Float32Array>(call, n));
  let total = 0;
  for (let i = 0; i < call.rows; i++) {
    const t = y[i];
    // PyTorch: xlogy(t, t) - t x (0 log 0 = 0; 0 * -inf is NaN), or exp(t) (t - x) for a log target
    const p = logTarget ? Math.exp(t) : t;
    const l = logTarget ? p * (t - x[i]) : (t === 0 ? 0 : t * Math.log(t)) - t * x[i];
    if (loss) loss[i] = l;
    total += l;
    if (grad) grad[i] = -(scales ? scales[i] : gscale) * p; // x read first
  }
  return { total, zTotal: 0, outs: outsOf(call) };
}

/** Knowledge distillation per row, as assembly/distill.ts: T^2 times KL(P || Q), KL(Q || P) or the JSD of
 *  P = softmax(t / T) and Q = softmax(s / T), mixed with alpha times the cross-entropy of s at the label. */
function distill(call: Call): CallResult {
  const { C, invT, mode, beta, alpha, gscale } = call.scalars, T = 1 / invT;
  const widen = (name: string, half: number) => {
    const raw = dataOf(call, name)!;
    return half ? halfToFloat32(raw as Uint16Array, half as HalfKind) : (raw as Float32Array);
  };
  const s = widen('s', call.scalars.halfS), t = widen('t', call.scalars.halfT);
  const [labels, loss, grad, scales] = [dataOf<Int32Array>(call, 'labels'), ...['loss', 'grad', 'scales'].map((n) => dataOf<Float32Array>(call, n))];
  const a = new Float64Array(C), b = new Float64Array(C);
  let total = 0;
  for (let r = 0; r < call.rows; r++) {
    const o = r * C, label = labels ? labels[r] : -2;
    if (label === IGNORED) {
      if (loss) loss[r] = 0;
      if (grad) grad.fill(0, o, o + C);
      continue;
    }
    const mS = maxOf(s, o, C, 1), mT = maxOf(t, o, C, 1);
    for (let c = 0; c < C; c++) { a[c] = (s[o + c] - mS) * invT; b[c] = (t[o + c] - mT) * invT; }
    let sQ = 0, sP = 0;
    for (let c = 0; c < C; c++) { sQ += Math.exp(a[c]); sP += Math.exp(b[c]); }
    const lQ = Math.log(sQ), lP = Math.log(sP);
    const logQ = (c: number) => a[c] - lQ, logP = (c: number) => b[c] - lP;
    // log M = log(beta P + (1 - beta) Q), from the logs (exact where one of them underflows)
    const logM = (c: number) => {
      const u = Math.log(beta) + logP(c), v = Math.log(1 - beta) + logQ(c), m = Math.max(u, v);
      return m === -Infinity ? -Infinity : m + Math.log1p(Math.exp(-Math.abs(u - v)));
    };
    const times = (p: number, v: number) => (p === 0 ? 0 : p * v); // 0 log 0 = 0
    let D = 0, qh = 0;
    for (let c = 0; c < C; c++) {
      const P = Math.exp(logP(c)), Q = Math.exp(logQ(c));
      if (mode === 0) D += times(P, logP(c) - logQ(c));
      else if (mode === 1) D += times(Q, logQ(c) - logP(c));
      else {
        const h = (1 - beta) * (logQ(c) - logM(c));
        D += times(beta * P, logP(c) - logM(c)) + times(Q, h);
        qh += times(Q, h);
      }
    }
    const ce = alpha !== 0 && label >= 0;
    let s1 = 0;
    if (ce) for (let c = 0; c < C; c++) s1 += Math.exp(s[o + c] - mS);
    const l = (1 - alpha) * T * T * D + (ce ? alpha * (Math.log(s1) - (s[o + label] - mS)) : 0);
    if (loss) loss[r] = l;
    total += l;
    if (grad) {
      const k = scales ? scales[r] : gscale, kd = k * (1 - alpha) * T;
      for (let c = 0; c < C; c++) {
        const P = Math.exp(logP(c)), Q = Math.exp(logQ(c));
        const dD = mode === 0 ? Q - P : mode === 1 ? times(Q, logQ(c) - logP(c) - D) : times(Q, (1 - beta) * (logQ(c) - logM(c)) - qh);
        grad[o + c] = kd * dD + (ce ? k * alpha * (Math.exp(s[o + c] - mS) / s1 - (c === label ? 1 : 0)) : 0);
      }
    }
  }
  return { total, zTotal: 0, outs: outsOf(call) };
}

/** A call's out arrays: the JS backend writes them where they are. */
function outsOf(call: Call): Record<string, Float32Array> {
  const outs: Record<string, Float32Array> = {};
  for (const [name, a] of Object.entries(call.arrays)) if (a?.role === 'out') outs[name] = a.data as Float32Array;
  return outs;
}

const RUN = {
  xent_index: xent, xent_prob: xent, bce, kl_div: klDiv, distill, logsumexp: classOp, log_softmax: classOp, softmax: classOp, softmin: classOp,
  log_softmax_backward: backwardOp, softmax_backward: backwardOp, logsumexp_backward: backwardOp,
};

/** A call whose result is a sum over rows runs a reduction block at a time (blocks.ts), the blocks' sums
 *  added in order. */
function run(call: Call): CallResult {
  if (call.rows === 0) return { total: 0, zTotal: 0, outs: outsOf(call) };
  if (!summed(call.kernel)) return RUN[call.kernel](call);
  const blocks = blockTotals((part) => RUN[part.kernel](part), call, 0, call.rows);
  return { ...addTotals([blocks]), blocks, outs: outsOf(call) };
}

export const jsKernels: Kernels = { name: 'js', run };
