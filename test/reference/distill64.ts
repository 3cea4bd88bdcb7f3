// A float64 reference of distillationLoss, the formulas of test/fixtures/gen_distill.py as plain loops,
// sharing no code with src/; its gradient by central differences (test/distill.test.ts, test/ops.test.ts).
import { rowLogSumExp64 } from './xent64.ts';


export interface DistillRefOptions {
  temperature?: number;
  beta?: number;
  alpha?: number;
  labels?: ArrayLike<number>;
  ignoreIndex?: number;
  reduction?: 'batchmean' | 'sum' | 'none';
}

function logSoftmaxRow64(x: ArrayLike<number>, from: number, V: number, T: number): Float64Array {
  const z = Float64Array.from({ length: V }, (_, c) => x[from + c] / T);
  const lse = rowLogSumExp64(z);
  return z.map((v) => v - lse);
}

/** KL(A || B) of two rows of log-probabilities, with 0 log 0 = 0. */
function kl64(la: Float64Array, lb: Float64Array): number {
  let s = 0;
  for (let c = 0; c < la.length; c++) if (la[c] > -Infinity) s += Math.exp(la[c]) * (la[c] - lb[c]);
  return s;
}

/** The reduced loss, or one value per row for 'none', of student and teacher logits with V classes a row. */
export function distill64(s: ArrayLike<number>, t: ArrayLike<number>, V: number, o: DistillRefOptions = {}): number | number[] {
  const T = o.temperature ?? 1, beta = o.beta ?? 0, alpha = o.alpha ?? 0, ignore = o.ignoreIndex ?? -100;
  const rows: number[] = [];
  let count = 0;
  for (let r = 0; r * V < s.length; r++) {
    const label = o.labels?.[r];
    if (label === ignore) {
      rows.push(0);
      continue;
    }
    count++;
    const logq = logSoftmaxRow64(s, r * V, V, T), logp = logSoftmaxRow64(t, r * V, V, T);
    let div: number;
    if (beta === 0) div = kl64(logp, logq);
    else if (beta === 1) div = kl64(logq, logp);
    else {
      const logm = logp.map((lp, c) => Math.log(beta * Math.exp(lp) + (1 - beta) * Math.exp(logq[c])));
      div = beta * kl64(logp, logm) + (1 - beta) * kl64(logq, logm);
    }
    let row = T * T * div;
    if (alpha > 0) row = alpha * -logSoftmaxRow64(s, r * V, V, 1)[label!] + (1 - alpha) * row;
    rows.push(row);
  }
  const sum = rows.reduce((a, b) => a + b, 0);
  return o.reduction === 'none' ? rows : o.reduction === 'sum' ? sum : sum / count;
}

/** d(sum(loss * gradOutput))/d(student) by central differences of distill64 in float64. */
export function centralGrad64(s: Float32Array, t: Float32Array, V: number, o: DistillRefOptions, gradOutput: number | number[]): Float64Array {
  const x = Float64Array.from(s);
  const f = () => {
    const l = distill64(x, t, V, o);
    return typeof l === 'number' ? l * (gradOutput as number) : l.reduce((a, v, r) => a + v * (gradOutput as number[])[r], 0);
  };
  return x.map((v, i) => {
    const h = 1e-6 * Math.max(1, Math.abs(v));
    x[i] = v + h;
    const up = f();
    x[i] = v - h;
    const down = f();
    x[i] = v;
    return (up - down) / (2 * h);
  });
}
