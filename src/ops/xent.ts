// The cross-entropy family as ops: cross_entropy and nll_loss, and their kernel call, built in one place
// from a validated problem (problem.ts) and the outputs the public function wants.
import { IGNORED, type Call } from '../backend/types.ts';
import { asClassesFirst, classesLastOf } from '../classes-last.ts';
import { runCheck } from '../diagnose/check.ts';
import { reduced } from '../outputs.ts';
import { CE_KEYS, GRAD_KEYS, LOSS_KEYS, NLL_GRAD_KEYS, resolveGradOptions, resolveProblem, type Problem } from '../problem.ts';
import type { Logits, Target } from '../types.ts';
import type { LossOp } from './spec.ts';

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
  // without weights the sum is C: no loop over the classes per call (at C = 262144 it cost 1.2 ms, 15%
  // of the forward)
  let wsum = weight ? 0 : C;
  if (weight) for (let c = 0; c < C; c++) wsum += weight[c];
  const out = (data: Float32Array | null | undefined, per: number) => (data ? { role: 'out' as const, data, per } : null);
  return {
    kernel: p.index ? 'xent_index' : 'xent_prob',
    rows: N * S === 0 ? 0 : N, // nothing may loop over C (it can be huge) when there are no positions
    arrays: {
      x: { role: 'in', data: p.data, per: slab },
      target: p.index ? { role: 'in', data: p.index, per: S } : { role: 'in', data: p.prob!, per: slab },
      // without weights, index targets without smoothing read only their targets' weight: the kernel's 1s
      // (at C = 262144 the C ones took 0.02 ms to fill, 0.07 ms in the pool's shared memory)
      weight: weight || !p.index || p.eps > 0 ? { role: 'fixed', data: weight, length: C, fill: 1 } : null,
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

/** crossEntropy (logProbs false) or nllLoss (true): the same problem, with or without the log-softmax. */
function xentOp(keys: readonly string[], gradKeys: readonly string[] | null, logProbs: boolean): LossOp {
  return {
    keys,
    gradKeys,
    arrange: (x, t, opts) => (classesLastOf(opts.classAxis) ? asClassesFirst(x, t) : [x, t]),
    check(x, t, opts, grad) {
      if (opts.check !== undefined && opts.check !== 'off') runCheck(x as Logits, t as Target, opts, grad ? 'grad' : 'loss', logProbs);
    },
    plan(x, t, opts, grad) {
      const p = resolveProblem(x, t, opts);
      const g = grad ? resolveGradOptions(p, opts) : null;
      const { reduction, denominator } = p;
      return {
        call: xentCall(p, { logProbs, grad: g?.out, gscale: g?.gscale, scales: g?.scales }),
        reduction, divisor: denominator, per: p.S, grad: g?.out,
        // the z-loss part of `loss` alone, reduced the same way
        extra: p.zLoss === 0 || reduction === 'none' ? undefined : (r) => ({ zLoss: reduced(r.zTotal, reduction, denominator) }),
      };
    },
  };
}

export const CROSS_ENTROPY = xentOp(CE_KEYS, GRAD_KEYS, false);
export const NLL_LOSS = xentOp(LOSS_KEYS, NLL_GRAD_KEYS, true);
