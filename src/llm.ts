// Scoring language-model output: per-token log-probabilities and perplexity, from the cross-entropy
// kernels (log p(target) is minus the unweighted, unsmoothed per-position loss).
import { runCheck } from './diagnose/check.ts';
import { runReduced } from './ops/run.ts';
import { xentCall } from './ops/xent.ts';
import { checkOptions, describe, readArg } from './args.ts';
import { asClassesFirst } from './classes-last.ts';
import { dropLast, labelValues, NONE, sequencesOf, shiftLabels } from './causal-lm.ts';
import { greedyOf } from './greedy.ts';
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
  /** The causal convention (causalLMLoss's): the target is the labels [B, T] themselves, position t's
   *  logits score labels[t + 1], and the results are [B, T - 1]. Logits [B, T, V] or [T, V]. Default false. */
  shift?: boolean;
  /** The value given to ignored positions (tokenLogProbs and tokenStats; default NaN). */
  fill?: number;
}

export interface TokenStatsOptions extends TokenLogProbsOptions {
  /** Also return each position's rank: how many classes score above its target (0 for the argmax). A
   *  full read of every row; without it a row is read only until a class beats the target. */
  rank?: boolean;
}

export interface TokenStats {
  logProbs: Float32Array;
  logSumExp: Float32Array;
  entropy: Float32Array;
  /** 1 where the target is its row's argmax (the first maximum, as argmax picks: greedy decoding would
   *  emit it), else 0 (and 0 where ignored). */
  isGreedy: Uint8Array;
  /** With options.rank: how many classes score above the target (-1 where ignored). */
  rank?: Int32Array;
}

const KEYS = ['ignoreIndex', 'temperature', 'softcap', 'classes', 'check', 'shift'] as const;

/** opts: checked by checkOptions. The kernel pass, and what the callers need to finish: the problem's
 *  index (IGNORED where not scored) and layout, and with shift the sequences to drop each last position of. */
function perPosition(input: Logits, target: Target, options: Record<string, unknown>, withStats = false) {
  const { shift = false, ...opts } = options;
  if (typeof shift !== 'boolean') throw new TypeError(`options.shift: expected a boolean, got ${describe(shift)}`);
  let x = readArg('input', input), t = readArg('target', target), seqs: { B: number; T: number } | null = null;
  if (shift) {
    const s = shiftLabels(x, t, opts.ignoreIndex ?? -100);
    [x, t, seqs] = [s.x, s.target, s];
    opts.ignoreIndex = NONE;
  }
  // classes last, whatever the rank: [T, V], [B, T, V] with targets [T], [B, T]
  [x, t] = asClassesFirst(x, t);
  if (opts.check !== undefined && opts.check !== 'off') runCheck(x as Logits, t as Target, opts, 'loss', false);
  const p = resolveProblem(x, t, { ...opts, reduction: 'none' });
  if (!p.index) throw new TypeError('target: expected class indices (token ids); probability targets have no single log-probability');
  const positions = p.N * p.S;
  const stats = withStats ? { lse: new Float32Array(positions), entropy: new Float32Array(positions) } : null;
  // no weight, smoothing or z-loss: not in KEYS
  const nll = runReduced(xentCall(p, { stats }), 'none', positions, p.S).loss as Float32Array;
  return { nll, p, index: p.index, lse: stats?.lse, entropy: stats?.entropy, seqs };
}

/** Per scored position: each sequence's last dropped with shift (it scores nothing). */
function perScored<A extends Float32Array | Int32Array | Uint8Array>(a: A, seqs: { B: number; T: number } | null): A {
  return seqs ? dropLast(a, seqs.B, seqs.T) : a;
}

/** The fill value for ignored positions (NaN by default), and the other options. */
function splitFill(options: unknown): { fill: number; rest: Record<string, unknown> } {
  const { fill = NaN, ...rest } = checkOptions(options, [...KEYS, 'fill', 'rank']);
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
  if (rest.rank !== undefined) throw new TypeError('options.rank: unknown option of tokenLogProbs (tokenStats takes it)');
  const { nll, index, seqs } = perPosition(input, target, rest);
  for (let i = 0; i < nll.length; i++) nll[i] = index[i] === IGNORED ? fill : -nll[i];
  return perScored(nll, seqs);
}

/**
 * exp(mean of -log p(target) over the non-ignored positions): the perplexity of the targets under
 * softmax(x / T). NaN when every position is ignored (a mean over nothing, as crossEntropy gives).
 */
export function perplexity(input: Logits, target: Target, options?: Omit<TokenLogProbsOptions, 'fill'>): number {
  const { nll, index } = perPosition(input, target, checkOptions(options, KEYS)); // shift: last positions are IGNORED
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
export function tokenStats(input: Logits, target: Target, options?: TokenStatsOptions): TokenStats {
  const { fill, rest } = splitFill(options);
  const { rank: withRank = false, ...opts } = rest;
  if (typeof withRank !== 'boolean') throw new TypeError(`options.rank: expected a boolean, got ${describe(withRank)}`);
  const { nll, p, index, lse, entropy, seqs } = perPosition(input, target, opts, true);
  for (let i = 0; i < nll.length; i++) {
    if (index[i] === IGNORED) nll[i] = lse![i] = entropy![i] = fill;
    else nll[i] = -nll[i];
  }
  const { isGreedy, rank } = greedyOf(p.data, p.half, p.C, index, withRank);
  const out: TokenStats = {
    logProbs: perScored(nll, seqs), logSumExp: perScored(lse!, seqs), entropy: perScored(entropy!, seqs), isGreedy: perScored(isGreedy, seqs),
  };
  if (rank) out.rank = perScored(rank, seqs);
  return out;
}

/**
 * The log-likelihood of a continuation (lm-eval-harness's loglikelihood request): the tokens ids[start..end)
 * of each sequence, each scored by the logits one position before it (start >= 1; end defaults to the
 * sequence length T). Returns their summed log-probability (float64) and whether every one of them is its
 * row's argmax. Logits [T, V] with ids [T] give numbers; [B, T, V] with ids [B, T] give a Float64Array and
 * a boolean[] (start and end a number for every sequence, or an array with one per sequence).
 */
export function continuationLogProb(
  input: Logits, ids: unknown, options: { start: number | ArrayLike<number>; end?: number | ArrayLike<number>; temperature?: number; softcap?: number },
): { logProb: number; isGreedy: boolean } | { logProb: Float64Array; isGreedy: boolean[] } {
  const { start, end, ...rest } = checkOptions(options, ['start', 'end', 'temperature', 'softcap']);
  const x = readArg('input', input);
  const { B, T, lead } = sequencesOf(x);
  const bound = (name: string, v: unknown, b: number, fallback: number): number => {
    const one = v === undefined ? fallback : typeof v === 'number' ? v : Array.isArray(v) || ArrayBuffer.isView(v) ? (v as ArrayLike<number>)[b] : NaN;
    if (typeof one !== 'number' || !Number.isInteger(one)) throw new TypeError(`options.${name}${typeof v === 'number' || v === undefined ? '' : `[${b}]`}: expected an integer, got ${describe(one)}`);
    return one;
  };
  for (const [name, v] of [['start', start], ['end', end]] as const) {
    if (v !== undefined && typeof v !== 'number' && (v as ArrayLike<number>).length !== B) {
      throw new RangeError(`options.${name}: expected one value per sequence (${B}), got ${(v as ArrayLike<number>).length}`);
    }
  }
  // the labels scored: ids where in [start, end), ignored elsewhere; tokenStats with shift does the rest
  const values = labelValues('ids', readArg('ids', ids), lead);
  const masked: unknown[] = Array.from(values), spans: Array<[number, number]> = [];
  for (let b = 0; b < B; b++) {
    const s = bound('start', start, b, NaN), e = bound('end', end, b, T);
    if (s < 1 || s > e || e > T) throw new RangeError(`options.start/end of sequence ${b}: expected 1 <= start <= end <= ${T}, got start ${s}, end ${e}`);
    for (let t = 0; t < T; t++) if (t < s || t >= e) masked[b * T + t] = -100;
    spans.push([s, e]);
  }
  const st = tokenStats(x as Logits, { data: masked, shape: lead } as unknown as Target, { ...rest, shift: true });
  const logProb = new Float64Array(B), greedy: boolean[] = new Array(B).fill(true);
  for (let b = 0; b < B; b++) {
    // token t is scored at shifted position t - 1
    for (let t = spans[b][0]; t < spans[b][1]; t++) {
      const i = b * (T - 1) + t - 1;
      logProb[b] += st.logProbs[i];
      if (!st.isGreedy[i]) greedy[b] = false;
    }
  }
  return lead.length === 1 ? { logProb: logProb[0], isGreedy: greedy[0] } : { logProb, isGreedy: greedy };
}
