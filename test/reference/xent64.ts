// Float64 references for what ce64.ts leaves out, for the fuzz suite (test/fuzz.test.ts): the gradient,
// temperature, z-loss and soft-capping of the cross-entropy family, half-precision logits, the token
// statistics, and binary cross-entropy with logits. Like ce64.ts it shares no code with src/: the formulas
// are PyTorch's (see test/fixtures/gen_llm.py, which builds the same ones from torch ops), written as
// plain float64 loops. Rows are scanned with loops, never Math.max(...row), so C may be in the millions.
import { crossEntropy64, layoutOf, type RefOptions } from './ce64.ts';

/** The values of 16-bit float patterns: IEEE binary16 ('float16') or the top half of an f32 ('bfloat16'). */
export function half64(bits: ArrayLike<number>, dtype: 'float16' | 'bfloat16'): Float64Array {
  const out = new Float64Array(bits.length);
  const word = new Uint32Array(1);
  const f = new Float32Array(word.buffer);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    if (dtype === 'bfloat16') {
      word[0] = h << 16;
      out[i] = f[0];
      continue;
    }
    const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
    out[i] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}

/** float32 -> float16 bits, round to nearest even (normal range only: for small logits). */
export function toHalfBits(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length), f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < x.length; i++) {
    f[0] = x[i];
    const b = u[0], sign = (b >>> 16) & 0x8000, e = ((b >>> 23) & 0xff) - 127 + 15, m = b & 0x7fffff;
    let h = sign | (e << 10) | (m >>> 13);
    const rest = m & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
    out[i] = h;
  }
  return out;
}

export interface XentRefOptions extends RefOptions {
  temperature?: number;
  zLoss?: number;
  softcap?: number;
}

/** z = softcap * tanh((x / T) / softcap) (or x / T without a cap) and dz/dx, elementwise. */
export function transform64(x: ArrayLike<number>, temperature = 1, softcap = 0): { z: Float64Array; dz: Float64Array } {
  const z = new Float64Array(x.length), dz = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const u = x[i] / temperature;
    if (softcap > 0) {
      const t = Math.tanh(u / softcap);
      z[i] = softcap * t;
      dz[i] = (1 - t * t) / temperature;
    } else {
      z[i] = u;
      dz[i] = 1 / temperature;
    }
  }
  return { z, dz };
}

/** One row (position) of an (N, C, S) tensor: its C values, classes S apart. */
function rowOf(x: ArrayLike<number>, base: number, C: number, S: number): Float64Array {
  const v = new Float64Array(C);
  for (let c = 0; c < C; c++) v[c] = x[base + c * S];
  return v;
}

/** logsumexp of a row as torch.logsumexp: NaN if it holds one, shifted by 0 when the max is infinite. */
export function rowLogSumExp64(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let c = 0; c < v.length; c++) {
    if (Number.isNaN(v[c])) return NaN;
    if (v[c] > m) m = v[c];
  }
  const shift = Number.isFinite(m) ? m : 0;
  let s = 0;
  for (let c = 0; c < v.length; c++) s += Math.exp(v[c] - shift);
  return shift + Math.log(s);
}

export interface XentRef {
  /** The reduced loss, or one per position for 'none'. */
  loss: number | number[];
  /** d(sum(loss * gradOutput))/d(x), laid out like x. */
  grad: Float64Array;
  /** The z-loss part of the reduced loss (0 without zLoss). */
  zLoss: number;
}

/**
 * F.cross_entropy(z, target, weight, ignore_index, reduction, label_smoothing) + zLoss * logsumexp(z)^2 at
 * the non-ignored positions (reduced with the same divisor), z = softcap tanh(x / T / softcap), and its
 * gradient with respect to x. The cross-entropy part is crossEntropy64 on z; the gradient is, per position,
 * d loss / d z_c = (Q + 2 zLoss lse) softmax_c - q_c with q_c the coefficient of -logp_c in the loss
 * (only the target's weight for index targets without smoothing: unused weights are unused), then the
 * chain rule through the transform. With logProbs (nllLoss) x is taken as log-probabilities as it is.
 * `gradOutput` is a number, or one per position for 'none'.
 */
export function crossEntropyRef64(
  x: ArrayLike<number>, shape: readonly number[], target: ArrayLike<number>, isIndex: boolean,
  opts: XentRefOptions = {}, gradOutput: number | ArrayLike<number> = 1, logProbs = false,
): XentRef {
  const { N, C, S } = layoutOf(shape);
  const T = opts.temperature ?? 1, cap = opts.softcap ?? 0, kz = opts.zLoss ?? 0;
  const eps = opts.labelSmoothing ?? 0, ignore = opts.ignoreIndex ?? -100, reduction = opts.reduction ?? 'mean';
  const w = (c: number) => (opts.weight ? opts.weight[c] : 1);
  const { z, dz } = logProbs ? { z: Float64Array.from(x), dz: new Float64Array(x.length).fill(1) } : transform64(x, T, cap);
  const base = crossEntropy64(z, shape, target, isIndex, { weight: opts.weight, ignoreIndex: ignore, reduction: 'none', labelSmoothing: eps }, logProbs) as number[];

  // the mean's divisor: the summed target weights of the non-ignored positions, or the number of positions
  let denominator = 0;
  for (let p = 0; p < N * S; p++) {
    if (!isIndex) denominator++;
    else if (target[p] !== ignore) denominator += w(target[p]);
  }
  const perPos = base.slice();
  const grad = new Float64Array(x.length);
  let zSum = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const pos = n * S + s, at = n * C * S + s;
      const t = isIndex ? target[pos] : -1;
      if (isIndex && t === ignore) continue; // loss 0, gradient 0
      const v = rowOf(z, at, C, S);
      const lse = logProbs ? 0 : rowLogSumExp64(v);
      if (kz > 0 && !logProbs) {
        perPos[pos] += kz * lse * lse;
        zSum += kz * lse * lse;
      }
      const scale = typeof gradOutput === 'number'
        ? (reduction === 'mean' ? (denominator === 0 ? NaN : gradOutput / denominator) : gradOutput)
        : gradOutput[pos];
      const q = new Float64Array(C);
      let Q = 0;
      for (let c = 0; c < C; c++) {
        if (isIndex) q[c] = (c === t ? (1 - eps) * w(t) : 0) + (eps > 0 ? (eps / C) * w(c) : 0);
        else q[c] = w(c) * (eps > 0 ? (1 - eps) * target[at + c * S] + eps / C : target[at + c * S]);
        Q += q[c];
      }
      for (let c = 0; c < C; c++) {
        const i = at + c * S;
        const p = logProbs ? 0 : Math.exp(v[c] - lse);
        grad[i] = scale * dz[i] * ((Q + (logProbs ? 0 : 2 * kz * lse)) * p - q[c]);
      }
    }
  }
  if (reduction === 'none') return { loss: perPos, grad, zLoss: 0 };
  // PyTorch divides the nll and smoothing sums by the divisor: a zero divisor gives NaN
  const reduced = crossEntropy64(z, shape, target, isIndex, { weight: opts.weight, ignoreIndex: ignore, reduction, labelSmoothing: eps }, logProbs) as number;
  if (reduction === 'sum') return { loss: reduced + zSum, grad, zLoss: zSum };
  return { loss: denominator === 0 ? NaN : reduced + zSum / denominator, grad, zLoss: denominator === 0 ? NaN : zSum / denominator };
}

/** Per position of (N, C, S) logits with class-index targets (ignored where equal to ignoreIndex, which
 *  then hold `fill`): log_softmax(z)[t], logsumexp(z) and the entropy -sum_c p_c log p_c (0 log 0 = 0),
 *  z = softcap tanh(x / T / softcap). */
export function tokenStats64(
  x: ArrayLike<number>, shape: readonly number[], target: ArrayLike<number>,
  opts: { temperature?: number; softcap?: number; ignoreIndex?: number; fill?: number } = {},
): { logProbs: number[]; logSumExp: number[]; entropy: number[] } {
  const { N, C, S } = layoutOf(shape);
  const { z } = transform64(x, opts.temperature ?? 1, opts.softcap ?? 0);
  const ignore = opts.ignoreIndex ?? -100, fill = opts.fill ?? NaN;
  const logProbs: number[] = [], logSumExp: number[] = [], entropy: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const pos = n * S + s, t = target[pos];
      if (t === ignore) {
        logProbs.push(fill); logSumExp.push(fill); entropy.push(fill);
        continue;
      }
      const v = rowOf(z, n * C * S + s, C, S);
      const lse = rowLogSumExp64(v);
      let h = 0;
      for (let c = 0; c < C; c++) {
        const lp = v[c] - lse;
        const p = Math.exp(lp);
        if (p > 0) h -= p * lp;
      }
      logProbs.push(v[t] - lse); logSumExp.push(lse); entropy.push(h);
    }
  }
  return { logProbs, logSumExp, entropy };
}

export interface BceRefOptions {
  /** Broadcast to x's shape as numpy does (aligned on the last axis). */
  weight?: { data: ArrayLike<number>; shape: readonly number[] };
  /** One per last-axis position. */
  posWeight?: ArrayLike<number>;
  reduction?: 'mean' | 'sum' | 'none';
}

/** F.binary_cross_entropy_with_logits and its gradient (times gradOutput, a number or one per element for
 *  'none'): l = w ((1 - y) x + (1 + (pw - 1) y) (log1p(e^-|x|) + max(-x, 0))). */
export function bce64(
  x: ArrayLike<number>, y: ArrayLike<number>, shape: readonly number[], opts: BceRefOptions = {},
  gradOutput: number | ArrayLike<number> = 1,
): { loss: number | number[]; grad: Float64Array } {
  const n = x.length, L = shape.length ? shape[shape.length - 1] : 1;
  const reduction = opts.reduction ?? 'mean';
  // the weight index of element i: its coordinates, right-aligned with the weight's shape, 0 on size-1 axes
  const ws = opts.weight?.shape ?? [];
  const off = shape.length - ws.length;
  const weightAt = (i: number): number => {
    if (!opts.weight) return 1;
    let rem = i, idx = 0, stride = 1;
    for (let a = shape.length - 1; a >= off; a--) {
      const coord = rem % shape[a];
      rem = Math.floor(rem / shape[a]);
      const k = a - off;
      if (ws[k] !== 1) idx += coord * stride;
      stride *= ws[k];
    }
    return opts.weight.data[idx];
  };
  const per: number[] = new Array(n);
  const grad = new Float64Array(n);
  const scale = typeof gradOutput === 'number' ? (reduction === 'mean' ? gradOutput / n : gradOutput) : null;
  for (let i = 0; i < n; i++) {
    const w = weightAt(i), v = x[i], t = y[i];
    const lw = opts.posWeight ? (opts.posWeight[i % L] - 1) * t + 1 : 1;
    const sp = Math.log1p(Math.exp(-Math.abs(v))) + Math.max(-v, 0); // softplus(-x)
    per[i] = w * ((1 - t) * v + lw * sp);
    const sigNeg = 1 / (1 + Math.exp(v)); // sigmoid(-x)
    grad[i] = (scale ?? (gradOutput as ArrayLike<number>)[i]) * w * ((1 - t) - lw * sigNeg);
  }
  if (reduction === 'none') return { loss: per, grad };
  let total = 0;
  for (const l of per) total += l;
  return { loss: reduction === 'sum' ? total : total / n, grad };
}

/** F.kl_div in float64 and its gradient (times gradOutput, a number or one per element for 'none'):
 *  l = xlogy(y, y) - y x, or exp(y) (y - x) with logTarget; 'batchmean' divides the sum by shape[0]. */
export function kl64(
  x: ArrayLike<number>, y: ArrayLike<number>, shape: readonly number[],
  opts: { reduction?: 'mean' | 'batchmean' | 'sum' | 'none'; logTarget?: boolean } = {}, gradOutput: number | ArrayLike<number> = 1,
): { loss: number | number[]; grad: Float64Array } {
  const n = x.length, reduction = opts.reduction ?? 'mean';
  const divisor = reduction === 'batchmean' ? (shape[0] ?? 1) : reduction === 'mean' ? n : 1;
  const losses: number[] = [], grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = opts.logTarget ? Math.exp(y[i]) : y[i];
    losses.push(opts.logTarget ? p * (y[i] - x[i]) : (y[i] === 0 ? 0 : y[i] * Math.log(y[i])) - y[i] * x[i]);
    const g = typeof gradOutput === 'number' ? gradOutput / divisor : gradOutput[i];
    grad[i] = -g * p;
  }
  if (reduction === 'none') return { loss: losses, grad };
  return { loss: losses.reduce((a, b) => a + b, 0) / divisor, grad };
}
