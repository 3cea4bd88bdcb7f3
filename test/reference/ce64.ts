// A float64 reference written the way PyTorch composes the loss (aten/src/ATen/native/LossNLL.cpp):
// log_softmax first, then nll_loss, plus the separate smoothing term, then the reduction. It shares no
// code with either backend, so agreement with it means something.

export interface RefOptions {
  weight?: ArrayLike<number> | null;
  ignoreIndex?: number;
  reduction?: 'mean' | 'sum' | 'none';
  labelSmoothing?: number;
}

/** (N, C, S) around the class axis of a cross-entropy input shape. */
export function layoutOf(shape: readonly number[]): { N: number; C: number; S: number } {
  if (shape.length === 1) return { N: 1, C: shape[0], S: 1 };
  return { N: shape[0], C: shape[1], S: shape.slice(2).reduce((a, b) => a * b, 1) };
}

/** log_softmax over the class axis in float64; logp[n][s][c]. */
export function logSoftmax64(x: ArrayLike<number>, N: number, C: number, S: number): number[][][] {
  const out: number[][][] = [];
  for (let n = 0; n < N; n++) {
    const rows: number[][] = [];
    for (let s = 0; s < S; s++) {
      const v = Array.from({ length: C }, (_, c) => x[(n * C + c) * S + s]);
      const m = v.some(Number.isNaN) ? NaN : Math.max(...v);
      const lse = Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
      rows.push(v.map((xi) => xi - m - lse));
    }
    out.push(rows);
  }
  return out;
}

/** The loss in float64. `target` is class indices (one per position) or probabilities laid out like x.
 *  With logProbs, x is taken as log-probabilities as they are (nll_loss). Returns the reduced value, or
 *  one value per position for 'none'. */
export function crossEntropy64(
  x: ArrayLike<number>, shape: readonly number[], target: ArrayLike<number>, isIndex: boolean,
  opts: RefOptions = {}, logProbs = false,
): number | number[] {
  const { N, C, S } = layoutOf(shape);
  const w = (c: number) => (opts.weight ? opts.weight[c] : 1);
  const ignore = opts.ignoreIndex ?? -100;
  const eps = opts.labelSmoothing ?? 0;
  const reduction = opts.reduction ?? 'mean';
  const lp = logProbs
    ? Array.from({ length: N }, (_, n) => Array.from({ length: S }, (_, s) => Array.from({ length: C }, (_, c) => x[(n * C + c) * S + s])))
    : logSoftmax64(x, N, C, S);
  const perPos: number[] = [];
  let nllSum = 0, smoothSum = 0, weightSum = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const row = lp[n][s];
      if (isIndex) {
        const t = target[n * S + s];
        if (t === ignore) { perPos.push(0); continue; }
        const nll = -w(t) * row[t];
        let smooth = 0;
        if (eps > 0) for (let c = 0; c < C; c++) smooth -= row[c] * w(c);
        perPos.push(eps > 0 ? (1 - eps) * nll + (eps / C) * smooth : nll);
        nllSum += nll; smoothSum += smooth; weightSum += w(t);
      } else {
        let l = 0;
        for (let c = 0; c < C; c++) {
          const p = target[(n * C + c) * S + s];
          const tp = eps > 0 ? p * (1 - eps) + eps / C : p;
          l -= row[c] * tp * w(c);
        }
        perPos.push(l);
      }
    }
  }
  if (reduction === 'none') return perPos;
  const total = isIndex && eps > 0 ? (1 - eps) * nllSum + (eps / C) * smoothSum : perPos.reduce((a, b) => a + b, 0);
  if (reduction === 'sum') return total;
  return total / (isIndex ? weightSum : N * S);
}

/** Softmax-family reference over an (N, C, S) view in float64. */
export function classOp64(op: 'logsumexp' | 'log_softmax' | 'softmax', x: ArrayLike<number>, N: number, C: number, S: number): number[] {
  const lp = logSoftmax64(x, N, C, S);
  const out: number[] = new Array(op === 'logsumexp' ? N * S : N * C * S);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      if (op === 'logsumexp') {
        const v = Array.from({ length: C }, (_, c) => x[(n * C + c) * S + s]);
        let m = v.some(Number.isNaN) ? NaN : Math.max(...v);
        if (Math.abs(m) === Infinity) m = 0;
        out[n * S + s] = m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
      } else {
        for (let c = 0; c < C; c++) {
          const v = lp[n][s][c];
          out[(n * C + c) * S + s] = op === 'log_softmax' ? v : Math.exp(v);
        }
      }
    }
  }
  return out;
}

/** The softmax family's backward in float64, PyTorch's formulas along the class axis of (N, C, S):
 *  log_softmax g - exp(y) sum(g) and softmax y (g - sum(g y)) (y the forward's output, g like it), and
 *  logsumexp g exp(y - logsumexp(y)) (y its input, g one per position). */
export function classOpBackward64(
  op: 'log_softmax' | 'softmax' | 'logsumexp', g: ArrayLike<number>, y: ArrayLike<number>, N: number, C: number, S: number,
): number[] {
  const out: number[] = new Array(N * C * S);
  const lse = op === 'logsumexp' ? classOp64('logsumexp', y, N, C, S) : null;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const at = (c: number) => (n * C + c) * S + s;
      let sum = 0;
      for (let c = 0; c < C; c++) sum += op === 'softmax' ? g[at(c)] * y[at(c)] : g[at(c)];
      for (let c = 0; c < C; c++) {
        const i = at(c);
        out[i] = op === 'logsumexp' ? g[n * S + s] * Math.exp(y[i] - lse![n * S + s]) : op === 'softmax' ? y[i] * (g[i] - sum) : g[i] - Math.exp(y[i]) * sum;
      }
    }
  }
  return out;
}
