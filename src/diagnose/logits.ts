// The analysis of the logits: one pass over every logit (scanRow), with exp/log only on the rare rows
// where a finding needs the exact logsumexp.
import type { Layout } from '../problem.ts';
import { positionOffset } from '../shape.ts';
import { Findings, Sample, firstRows, fmt, plural, rowWord, which } from './findings.ts';
import { EXTREME, NORM_TOL, SATURATED, SATURATED_MASS, UNDERFLOW, isMaskFill } from './thresholds.ts';

/** logsumexp of one strided row in float64 (-inf for a row of -inf). */
function rowLse(x: Float32Array, off: number, stride: number, C: number, max: number): number {
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0, i = off; c < C; c++, i += stride) s += Math.exp(x[i] - max);
  return max + Math.log(s);
}

/** max, second largest (equal to max when it repeats), min and float64 sum of a row, from scanRow. */
const STATS = new Float64Array(4);

/** The one pass over every logit: three compares and an add per element (NaN leaves max and min alone
 *  and shows in the sum). Kept small and monomorphic so that it compiles to a tight loop. */
function scanRow(x: Float32Array, off: number, stride: number, C: number): void {
  let max = -Infinity;
  let top2 = -Infinity;
  let min = Infinity;
  let sum = 0;
  const end = off + C * stride;
  for (let i = off; i < end; i += stride) {
    const v = x[i];
    sum += v;
    if (v > max) { top2 = max; max = v; } else if (v > top2) top2 = v;
    if (v < min) min = v;
  }
  STATS[0] = max;
  STATS[1] = top2;
  STATS[2] = min;
  STATS[3] = sum;
}

export interface LogitsContext {
  layout: Layout;
  index: Int32Array | null;
  prob: ArrayLike<number> | null;
  eps: number;
  logProbs: boolean;
  validRows: number;
}

export function analyseLogits(ctx: LogitsContext, f: Findings): void {
  const { layout, index, prob, eps, logProbs } = ctx;
  const { N, C, S } = layout;
  const x = layout.data as Float32Array; // diagnoseImpl widens half-precision logits first
  const R = N * S;
  const w = rowWord(layout);
  const lnC = Math.log(C);
  const surelySaturated = SATURATED + Math.log(C - 1);
  let probRows = C >= 2 && R > 0;
  let logpRows = C >= 2 && R > 0 && !logProbs;
  let constRows = C >= 2 && R > 0 && !logProbs;
  const notLogp = new Sample();
  let worstLse = 0;
  const nonFinite = new Sample();
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  let hurts = false;
  const extreme = new Sample();
  let worstAbs = 0;
  let worstSpread = 0;
  const underflow = new Sample();
  let worstGap = 0;
  const saturated = new Sample();

  for (let r = 0; r < N * S; r++) {
    const off = positionOffset(r, C, S);
    scanRow(x, off, S, C);
    const max = STATS[0];
    const top2 = STATS[1];
    const min = STATS[2];
    const sum = STATS[3];
    const t = index ? index[r] : -3;
    if (sum !== sum || max === Infinity || min === -Infinity) {
      let rowBad = false;
      for (let c = 0, i = off; c < C; c++, i += S) {
        const v = x[i];
        if (v !== v) { nan++; rowBad = true; nonFinite.add(i, v, `input.data[${i}] = NaN`); } else if (v === Infinity) { posInf++; rowBad = true; nonFinite.add(i, v, `input.data[${i}] = Infinity`); } else if (v === -Infinity) { negInf++; nonFinite.add(i, v, `input.data[${i}] = -Infinity`); }
      }
      if (rowBad) {
        hurts = true;
        probRows = logpRows = constRows = false;
        continue;
      }
      // only -inf: harmless off the target (a mask); +inf loss on the target, with smoothing or with
      // probability targets (0 * -inf = NaN where the probability is 0); a row of only -inf is NaN
      if (max === -Infinity || eps > 0 || prob !== null || (t >= 0 && x[off + t * S] === -Infinity)) hurts = true;
    }
    if (probRows) probRows = min >= 0 && max <= 1 && Math.abs(sum - 1) <= NORM_TOL;
    if (constRows) constRows = min === max && max !== -Infinity;
    if (logpRows) logpRows = max <= 0 && Math.abs(rowLse(x, off, S, C, max)) <= NORM_TOL;
    if (logProbs) {
      const lse = rowLse(x, off, S, C, max);
      if (!(Math.abs(lse) <= NORM_TOL)) {
        notLogp.add(r);
        if (Math.abs(lse) > Math.abs(worstLse) || worstLse !== worstLse) worstLse = lse;
      }
    }
    if (max > EXTREME || min < -EXTREME || max - min > EXTREME) {
      let lo = min;
      if (isMaskFill(min)) {
        lo = Infinity;
        for (let c = 0, i = off; c < C; c++, i += S) if (!isMaskFill(x[i]) && x[i] < lo) lo = x[i];
      }
      if (lo !== Infinity && (max > EXTREME || lo < -EXTREME || max - lo > EXTREME)) {
        extreme.add(r);
        worstAbs = Math.max(worstAbs, Math.abs(max), Math.abs(lo));
        worstSpread = Math.max(worstSpread, max - lo);
      }
    }
    if (logProbs || C < 2) continue;
    if (t >= 0) {
      const xt = x[off + t * S];
      if (max - xt > UNDERFLOW - lnC) {
        const gap = rowLse(x, off, S, C, max) - xt;
        if (gap > UNDERFLOW) { underflow.add(r, gap); worstGap = Math.max(worstGap, gap); }
      }
      if (xt === max && top2 < max) {
        const g = max - top2;
        let sat = g > surelySaturated;
        if (!sat && g > SATURATED) {
          let mass = 0;
          for (let c = 0, i = off; c < C; c++, i += S) if (c !== t) mass += Math.exp(x[i] - xt);
          sat = mass < SATURATED_MASS;
        }
        if (sat) saturated.add(r);
      }
    } else if (prob !== null && max - min > UNDERFLOW - lnC) {
      const lse = rowLse(x, off, S, C, max);
      let gap = 0;
      for (let c = 0, i = off; c < C; c++, i += S) if (prob[i] > 0 && lse - x[i] > gap) gap = lse - x[i];
      if (gap > UNDERFLOW) { underflow.add(r, gap); worstGap = Math.max(worstGap, gap); }
    }
  }

  if (nonFinite.count > 0) {
    const kinds = [nan && `${nan} NaN`, posInf && `${posInf} +inf`, negInf && `${negInf} -inf`].filter(Boolean).join(', ');
    let msg = `input has ${plural(nonFinite.count, 'non-finite logit')} (${kinds}): ${nonFinite.list()}. `;
    if (nan || posInf) {
      msg += `Every ${w} holding a NaN or +inf gets a NaN loss and a NaN gradient (even an ignored one), and a ` +
        `'mean' or 'sum' over it is NaN. The NaN comes from the model, not the loss: look for a division by 0, a ` +
        `log or sqrt of a negative, an overflow after exploding logits (see extreme-logits), or a learning rate ` +
        `that is too high; PyTorch's torch.autograd.set_detect_anomaly(True) names the op.`;
      if (negInf) msg += ' -inf alone would be fine off the target (a mask).';
    } else if (hurts) {
      msg += `-inf is fine off the target (a mask: probability 0), but here it reaches the loss: on a target ` +
        `class (loss +inf), with labelSmoothing or probability targets (every class carries target mass: +inf, ` +
        `or 0 * inf = NaN), or filling a whole ${w} (NaN). Use a large finite fill (-1e9) or exclude those targets.`;
    } else {
      msg += `They are all off the target: a mask (masked_fill(-inf)) is fine, those classes get probability 0 ` +
        `and add nothing.`;
    }
    f.fromSample('non-finite-logits', hurts ? 'error' : 'info', msg, nonFinite, true);
  }
  if (probRows) {
    const lo = Math.log(C - 1 + Math.E) - 1;
    const hi = Math.log(C - 1 + Math.E);
    if (logProbs) {
      f.add('probabilities-as-logits', 'error', `every ${w} of the nllLoss input lies in [0, 1] and sums to 1 ` +
        `(within ${NORM_TOL}): these are probabilities (softmax output), not log-probabilities. nllLoss does not ` +
        `take a log, so the loss is -p[target], in [-1, 0]: negative, and minimised by nothing useful. Pass ` +
        `logSoftmax(logits) (PyTorch: F.log_softmax), or the raw logits to crossEntropy.`, R, firstRows(R));
    } else {
      f.add('probabilities-as-logits', 'error', `every ${w} of input lies in [0, 1] and sums to 1 (within ` +
        `${NORM_TOL}): these look like probabilities (softmax already applied), not logits. crossEntropy applies ` +
        `log-softmax itself, so it computes softmax twice: the loss is squeezed into [${fmt(lo)}, ${fmt(hi)}] ` +
        `around log(C) = ${fmt(lnC)} however right the model is, it barely moves, and the gradients through the ` +
        `first softmax nearly vanish. Pass the raw logits: remove the final softmax (nn.Softmax) from the model.`,
      R, firstRows(R));
    }
  } else if (logProbs && notLogp.count > 0) {
    f.fromSample('logits-as-log-probabilities', 'error', `${plural(notLogp.count, w)} of the nllLoss input ` +
      `${notLogp.count === 1 ? 'is' : 'are'} not log-probabilities (${which(notLogp, w)}; logsumexp up to ` +
      `${fmt(worstLse)}, not 0): nllLoss does not normalise, so its loss is just -input[target], unbounded below. ` +
      `Pass logSoftmax(logits), or call crossEntropy on the logits.`, notLogp);
  }
  if (logpRows) {
    f.add('log-probabilities-as-logits', 'info', `every ${w} of input is <= 0 with logsumexp within ${NORM_TOL} ` +
      `of 0: these look like log-probabilities (log_softmax already applied). Harmless, since log_softmax of ` +
      `log-probabilities changes nothing and the loss and gradient are the same, but redundant: drop the extra ` +
      `log_softmax, or pass them to nllLoss.`, R, firstRows(R));
  }
  if (constRows) {
    f.add('constant-logits', 'warning', `every ${w} of input is constant (all C = ${C} logits equal), so the ` +
      `prediction is uniform and the loss is exactly log(C) = ${fmt(lnC)} per position (times the target's sum for ` +
      `probability targets), whatever the target. The model's output does not depend on its input: a freshly ` +
      `zero-initialised last layer (fine at step 0), dead activations feeding it, or weights driven to 0.`, R, firstRows(R));
  }
  if (extreme.count > 0) {
    f.fromSample('extreme-logits', 'warning', `${plural(extreme.count, w)} ${extreme.count === 1 ? 'has' : 'have'} ` +
      `exploding logits (${which(extreme, w)}; |logit| up to ${fmt(worstAbs)}, spread up to ${fmt(worstSpread)}; ` +
      `the threshold is ${EXTREME}). xent's loss is still exact, but at this size a float32 logit keeps only ~1e-3 ` +
      `of absolute precision, softmax is one-hot, and the next step tends to overflow into inf/NaN. Lower the ` +
      `learning rate, clip gradients, check the initialisation of the last layer, or add a z-loss ` +
      `(1e-4 * logsumexp(x)^2) to keep the logits small. (Fills <= -1e9, -65504 and -inf are read as masks and ` +
      `not counted.)`, extreme);
  }
  if (underflow.count > 0) {
    const word = prob !== null ? 'a target class' : 'the target logit';
    f.fromSample('underflowing-target', 'warning', `in ${plural(underflow.count, w)} (${which(underflow, w)}) ${word} ` +
      `sits more than ${fmt(UNDERFLOW)} below the ${w}'s logsumexp (up to ${fmt(worstGap)}): its probability is ` +
      `below the smallest normal float32, so a naive -log(softmax(x)[t]) returns inf (or an inexact value) in ` +
      `float32. xent's value is finite and exact (the loss of such a ${w} is that gap, e.g. ${fmt(worstGap)}), ` +
      `since it works in log space. The model is confidently wrong on ${underflow.count === 1 ? 'it' : 'them'}: ` +
      `check the labels of those ${w}s, and see extreme-logits.`, underflow, true);
  }
  if (saturated.count > 0) {
    const all = saturated.count === ctx.validRows;
    f.fromSample('saturated-rows', 'info', `${all ? `every scored ${w}` : plural(saturated.count, w)} ` +
      `(${which(saturated, w)}) ${saturated.count === 1 ? 'predicts' : 'predict'} the target with probability 1 to ` +
      `float32 precision (the other logits are all more than ${fmt(SATURATED)} below it), so ${all ? 'the loss is' : saturated.count === 1 ? 'its loss is' : 'their loss is'} ` +
      `0 to float32 precision (below 2^-24 ~ 6e-8; PyTorch's float32 arithmetic gives exactly 0) and the gradient ` +
      `~0; nothing is NaN. Fine for a trained model on easy ` +
      `examples; if the loss is 0 from the first step, suspect a label leaking into the input.`, saturated);
  }
}
