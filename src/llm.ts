// Scoring language-model output: per-token log-probabilities and perplexity, from the cross-entropy
// kernels (log p(target) is minus the unweighted, unsmoothed per-position loss).
import { runCheck } from './diagnose/check.ts';
import { runReduced } from './ops/run.ts';
import { xentCall } from './ops/xent.ts';
import { checkOptions, describe, readArg } from './args.ts';
import { asClassesFirst } from './classes-last.ts';
import { resolveProblem } from './problem.ts';
import { IGNORED } from './backend/types.ts';
import type { Logits, Target } from './types.ts';

export interface TokenLogProbsOptions {
  /** Targets equal to this are not scored (default -100). */
  ignoreIndex?: number;
  /** Divide the logits by this first (>= 2^-126, default 1). */
  temperature?: number;
  /** Soft-cap the logits (after the temperature): softcap * tanh(x / softcap). */
  softcap?: number;
  /** Classes of a flat Float32Array input (read as [N, classes]). */
  classes?: number;
  /** Run diagnose first, as for crossEntropy: 'warn' reports, 'throw' throws an XentCheckError on an error
   *  (softmax output passed as logits, out-of-range token ids, ...). Default 'off'. */
  check?: 'off' | 'warn' | 'throw';
  /** The value given to ignored positions (tokenLogProbs only; default NaN). */
  fill?: number;
}

const KEYS = ['ignoreIndex', 'temperature', 'softcap', 'classes', 'check'] as const;

/** opts: checked by checkOptions. */
function perPosition(input: Logits, target: Target, opts: Record<string, unknown>, withStats = false) {
  // classes last, whatever the rank: [T, V], [B, T, V] with targets [T], [B, T]
  const [x, t] = asClassesFirst(readArg('input', input), readArg('target', target)) as [Logits, Target];
  if (opts.check !== undefined && opts.check !== 'off') runCheck(x, t, opts, 'loss', false);
  const p = resolveProblem(x, t, { ...opts, reduction: 'none' });
  if (!p.index) throw new TypeError('target: expected class indices (token ids); probability targets have no single log-probability');
  const positions = p.N * p.S;
  const stats = withStats ? { lse: new Float32Array(positions), entropy: new Float32Array(positions) } : null;
  // no weight, smoothing or z-loss: not in KEYS
  const nll = runReduced(xentCall(p, { stats }), 'none', positions, p.S).loss as Float32Array;
  return { nll, index: p.index, lse: stats?.lse, entropy: stats?.entropy };
}

/** The fill value for ignored positions (NaN by default), and the other options. */
function splitFill(options: unknown): { fill: number; rest: Record<string, unknown> } {
  const { fill = NaN, ...rest } = checkOptions(options, [...KEYS, 'fill']);
  if (typeof fill !== 'number') throw new TypeError(`options.fill: expected a number, got ${describe(fill)}`);
  return { fill, rest };
}

/**
 * log p(target) at every position, log_softmax(x / T) gathered at the targets, as a Float32Array over the
 * target positions; ignored positions hold options.fill (NaN by default). The logits' last axis is the
 * vocabulary, at any rank ([T, V], [B, T, V]; targets [T], [B, T]); otherwise the same input and target
 * forms as crossEntropy (class-index targets only).
 */
export function tokenLogProbs(input: Logits, target: Target, options?: TokenLogProbsOptions): Float32Array {
  const { fill, rest } = splitFill(options);
  const { nll, index } = perPosition(input, target, rest);
  for (let i = 0; i < nll.length; i++) nll[i] = index[i] === IGNORED ? fill : -nll[i];
  return nll;
}

/**
 * exp(mean of -log p(target) over the non-ignored positions): the perplexity of the targets under
 * softmax(x / T). NaN when every position is ignored (a mean over nothing, as crossEntropy gives).
 */
export function perplexity(input: Logits, target: Target, options?: Omit<TokenLogProbsOptions, 'fill'>): number {
  const { nll, index } = perPosition(input, target, checkOptions(options, KEYS));
  let sum = 0, n = 0;
  for (let i = 0; i < nll.length; i++) {
    if (index[i] !== IGNORED) {
      sum += nll[i];
      n++;
    }
  }
  return Math.exp(sum / n);
}

/**
 * tokenLogProbs with, from the same pass over the logits, each position's logsumexp and the entropy of its
 * softmax, -sum_c p_c log p_c (of the tempered, capped logits). Ignored positions hold options.fill (NaN by
 * default) in all three arrays.
 */
export function tokenStats(
  input: Logits, target: Target, options?: TokenLogProbsOptions,
): { logProbs: Float32Array; logSumExp: Float32Array; entropy: Float32Array } {
  const { fill, rest } = splitFill(options);
  const { nll, index, lse, entropy } = perPosition(input, target, rest, true);
  for (let i = 0; i < nll.length; i++) {
    if (index[i] === IGNORED) nll[i] = lse![i] = entropy![i] = fill;
    else nll[i] = -nll[i];
  }
  return { logProbs: nll, logSumExp: lse!, entropy: entropy! };
}
