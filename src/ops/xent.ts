// The cross-entropy family's kernel call, built in one place from a validated problem (problem.ts) and
// the outputs the public function wants.
import { IGNORED, type Call } from '../backend/types.ts';
import type { Problem } from '../problem.ts';

export interface XentOutputs {
  /** The input already holds log-probabilities (nllLoss). */
  logProbs?: boolean;
  /** Where the gradient goes (it may be the logits themselves), scaled by gscale or per position by scales. */
  grad?: Float32Array | null;
  gscale?: number;
  scales?: Float32Array | null;
  /** Each position's logsumexp and softmax entropy (index targets, no smoothing). */
  stats?: { lse: Float32Array; entropy: Float32Array } | null;
}

export function xentCall(p: Problem, o: XentOutputs): Call {
  const { N, C, S, weight } = p, slab = C * S;
  let wsum = 0;
  for (let c = 0; c < C; c++) wsum += weight ? weight[c] : 1;
  const out = (data: Float32Array | null | undefined, per: number) => (data ? { role: 'out' as const, data, per } : null);
  return {
    kernel: p.index ? 'xent_index' : 'xent_prob',
    rows: N * S === 0 ? 0 : N, // nothing may loop over C (it can be huge) when there are no positions
    arrays: {
      x: { role: 'in', data: p.data, per: slab },
      target: p.index ? { role: 'in', data: p.index, per: S } : { role: 'in', data: p.prob!, per: slab },
      weight: { role: 'fixed', data: weight, length: C, fill: 1 },
      scales: o.scales ? { role: 'in', data: o.scales, per: S } : null,
      grad: out(o.grad, slab),
      lse: out(o.stats?.lse, S),
      entropy: out(o.stats?.entropy, S),
      loss: null,
    },
    scalars: {
      C, S, half: p.half, eps: p.eps, wsum, gscale: o.gscale ?? 1, logProbs: o.logProbs ? 1 : 0,
      invT: p.invT, zLoss: p.zLoss, softcap: p.softcap, ignoreIndex: IGNORED,
    },
    over: ['grad', 'x'],
  };
}
