// Cross-entropy forward and gradient over the class axis of an (N, C, S) tensor, with PyTorch's
// semantics (torch.nn.functional.cross_entropy): class weights, ignore_index, label smoothing eps,
// class-index or class-probability targets.
//
// Per position, with logp = x - logsumexp(x) computed as (x - m) - L, m the row max, L = log(sum exp(x - m)):
//   index target t: loss = -(1-eps) w[t] logp[t] - (eps/C) sum_c w[c] logp[c]     (second term only if eps > 0)
//   prob target p:  loss = -sum_c w[c] p'[c] logp[c],  p' = (1-eps) p + eps/C
// and d loss/dx[c] = scale * (Q softmax[c] - q[c]), q the per-class coefficients of -logp above, Q = sum q.
// With logProbs != 0 the input already is logp (nllLoss): m = L = 0 and the gradient has no softmax term.
// invT (1 / temperature) scales the logits first, which scales the gradient by invT too; zLoss adds
// zLoss * lse^2 to each non-ignored position (zloss.ts), its gradient joining the softmax term.
//
// Pointers: weight is given (ones when the caller has none), or 0 for all ones when only the targets'
// weights are read (index targets, no smoothing), and wsum = sum(weight). loss, grad and
// scales may be 0 (not wanted / use gscale). grad may equal x (in-place). Returns `total` plus the
// per-position losses (z terms included), added in f64 one position at a time in order: a caller passing
// each chunk's result into the next call gets the same sum whatever the chunking; likewise zTotal plus the
// z terms alone. Both come back at `totals` (f64 total, f64 zTotal). lseOut and entOut, when not 0 (and eps = 0), receive each
// position's logsumexp and softmax entropy (NaN where ignored). Ignored positions have loss 0 and
// gradient 0 (NaN if their row holds NaN or +inf, or only -inf, as PyTorch's log_softmax backward gives).
import { class_weight, row_max, row_wdot, row_neg_target, row_fill } from "./rows";
import { row_blocks, combine, row_grad, Sums, clamp_inv_t } from "./blocks";
import { z_term, z_loss_of } from "./zloss";
import { log1p_f32 } from "./vmath";
import { strided } from "./strided";
import { GROUP, leave, finish } from "./group";
import { LANES_MAX_C, xent_index_lanes } from "./lanes";
import { half_to_f32 } from "./layout";
import { softcap_f32, softcap_grad_f32 } from "./softcap";
import { XentArgs } from "./xent-args";

let ARGS = changetype<XentArgs>(memory.data(offsetof<XentArgs>(), 16));

/** Bytes of this module's scratch (ARGS), for place_xent. */
export const XENT_SCRATCH: usize = (offsetof<XentArgs>() + 15) & ~15;
/** Moves ARGS to p (scratch.ts); returns the end of the region. */
export function place_xent(p: usize): usize {
  ARGS = changetype<XentArgs>(p);
  return p + XENT_SCRATCH;
}

/** p + q, or 0 when the array p is absent. */
// @ts-ignore: decorator
@inline function at(p: usize, q: usize): usize {
  return p ? p + q : 0;
}

/** Index-target cross-entropy over R contiguous rows of C at x, their per-position arrays at byte offset
 *  q of a's; grad (0: none) may equal x. */
export function xent_index_rows(a: XentArgs, x: usize, grad: usize, q0: usize, R: i32, C: i32): void {
  const target = a.target + q0, weight = a.weight, loss = at(a.loss, q0), scales = at(a.scales, q0);
  const lseOut = at(a.lseOut, q0), entOut = at(a.entOut, q0);
  const ignoreIndex = a.ignoreIndex, eps = a.eps, wsum = a.wsum, gscale = a.gscale, logProbs = a.logProbs, zLoss = a.zLoss;
  const invT = a.invT;
  const ec: f32 = eps / <f32>C;
  const hot: f32 = 1 - eps;
  // the smoothing's share of the softmax coefficient: without smoothing no unused class's weight enters
  // (a NaN or inf weight times 0 would be NaN), as in PyTorch
  const ecw: f32 = eps > 0 ? ec * wsum : 0;
  // per-row logsumexp and entropy (tokenStats), from the same pass: logits, no smoothing, rows path only
  const stats = lseOut != 0 && !logProbs && eps == 0;
  if (!logProbs && C <= LANES_MAX_C && !stats) { // every row in the lanes, the last group padded
    for (let r0 = 0; r0 < R; r0 += 4) {
      const o = <usize>r0 * C << 2, q = <usize>r0 << 2;
      xent_index_lanes(
        x + o, target + q, weight, loss ? loss + q : 0, grad ? grad + o : 0, scales ? scales + q : 0,
        C, min(4, R - r0), a,
      );
    }
    return;
  }
  let total = a.total, zTotal = a.zTotal;
  for (let r0 = 0; r0 < R; r0 += GROUP) {
    const n = min(GROUP, R - r0);
    for (let j = 0; j < n; j++) {
      const r = r0 + j;
      const o = <usize>r * C << 2;
      const p = x + o, g = grad ? grad + o : 0;
      const t = load<i32>(target + (<usize>r << 2));
      if (t == ignoreIndex) {
        leave(j, 0, 0, 0);
        if (stats) {
          store<f32>(lseOut + (<usize>r << 2), NaN);
          store<f32>(entOut + (<usize>r << 2), NaN);
        }
        // PyTorch's log_softmax backward leaves exp(logp) * 0 here: 0, or NaN if logp is NaN (the row
        // holds a NaN or +inf, or is all -inf, exactly when its NaN-propagating max is not finite)
        if (g) row_fill(g, C, isFinite(row_max(p, C)) ? 0 : NaN);
        continue;
      }
      const wt = class_weight(weight, t);
      const xt = load<f32>(p + (<usize>t << 2)); // read before the row is overwritten in place
      const scale = scales ? load<f32>(scales + (<usize>r << 2)) : gscale;
      if (logProbs) {
        let l = -<f64>hot * wt * xt;
        if (eps > 0) l -= <f64>ec * row_wdot(p, weight, 0, C, 0, 0, 0);
        leave(j, l, 0, 0);
        // other classes get exactly 0 without smoothing, even where the scale is NaN (a mean over zero
        // weight): PyTorch's nll_loss backward puts NaN at the targets only
        if (g) row_neg_target(g, 0, weight, C, 0, eps > 0 ? scale * ec : 0);
      } else {
        const row = eps > 0 ? combine(row_blocks(p, C, g, Sums.SMOOTH, weight, 0, 0, 0, invT, NaN), Sums.SMOOTH, invT)
          : stats ? combine(row_blocks(p, C, g, Sums.ENTROPY, 0, 0, 0, 0, invT, NaN), Sums.ENTROPY, invT)
          : combine(row_blocks(p, C, g, Sums.NONE, 0, 0, 0, 0, invT, xt), Sums.NONE, invT);
        if (stats) {
          // lse = M' + L; entropy = -sum p log p = L - invT sum e (x - M) / se
          const L = log1p_f32(row.se1);
          store<f32>(lseOut + (<usize>r << 2), <f32>(<f64>row.M * invT + L));
          store<f32>(entOut + (<usize>r << 2), <f32>(<f64>L - <f64>invT * row.d / row.se));
        }
        // loss = -hot wt (xt' - M' - L) - ec (d' - L W), in tempered units x' = x invT:
        // M' = M invT, d' = invT sum w (x - M), L = log(se)
        let l = -<f64>hot * wt * (<f64>xt - row.M) * invT;
        if (eps > 0) l -= <f64>ec * row.d * invT;
        let zk: f32 = 0;
        if (zLoss != 0) {
          zk = z_term(j, zLoss, <f64>row.M * invT, <f64>log1p_f32(row.se1), row.se, scale);
          zTotal += z_loss_of(j);
          l += z_loss_of(j);
        }
        leave(j, l, <f64>hot * wt + (eps > 0 ? <f64>ec * wsum : 0), row.se1);
        if (g) {
          row_grad(g, g, C, (scale * (hot * wt + ecw) / row.se + zk) * invT, weight, 0, 0, scale * ec * invT);
          // the target's own coefficient: at the row max (e = 1) k / se - c cancels as se -> 1, so there
          // it is the same algebra with 1 / se - 1 = -(se - 1) / se
          const gt = g + (<usize>t << 2);
          if (xt == row.M) {
            let v = (scale * (ecw - hot * wt * row.se1) / row.se + zk) * invT;
            if (eps > 0) v -= wt * (scale * ec * invT);
            store<f32>(gt, v);
          } else store<f32>(gt, load<f32>(gt) - scale * hot * wt * invT);
        }
      }
      if (g && logProbs) {
        // the target's own coefficient, added after the row pass
        const gt = g + (<usize>t << 2);
        store<f32>(gt, load<f32>(gt) - scale * hot * wt * invT);
      }
    }
    total = finish(n, loss ? loss + (<usize>r0 << 2) : 0, total);
  }
  a.total = total;
  a.zTotal = zTotal;
}

/** Probability-target cross-entropy over R contiguous rows of C at x with targets at t (laid out like
 *  x), their per-position arrays at byte offset q of a's; grad (0: none) may equal x. */
export function xent_prob_rows(a: XentArgs, x: usize, target: usize, grad: usize, q0: usize, R: i32, C: i32): void {
  const weight = a.weight, loss = at(a.loss, q0), scales = at(a.scales, q0);
  const eps = a.eps, gscale = a.gscale, logProbs = a.logProbs, zLoss = a.zLoss, invT = a.invT;
  const ec: f32 = eps / <f32>C;
  const hot: f32 = 1 - eps;
  let total = a.total, zTotal = a.zTotal;
  for (let r0 = 0; r0 < R; r0 += GROUP) {
    const n = min(GROUP, R - r0);
    for (let j = 0; j < n; j++) {
      const r = r0 + j;
      const o = <usize>r * C << 2;
      const p = x + o, t = target + o, g = grad ? grad + o : 0;
      const scale = scales ? load<f32>(scales + (<usize>r << 2)) : gscale;
      if (logProbs) {
        leave(j, -<f64>row_wdot(p, weight, t, C, 0, hot, ec), 0, 0);
        if (g) row_neg_target(g, t, weight, C, scale * hot, scale * ec);
      } else {
        const row = combine(row_blocks(p, C, g, Sums.PROB, weight, t, hot, ec, invT, NaN), Sums.PROB, invT);
        // loss = L q - d', d' = invT sum w t' (x - M), q = sum w t'
        let l = -row.d * invT, zk: f32 = 0;
        if (zLoss != 0) {
          zk = z_term(j, zLoss, <f64>row.M * invT, <f64>log1p_f32(row.se1), row.se, scale);
          zTotal += z_loss_of(j);
          l += z_loss_of(j);
        }
        leave(j, l, row.q, row.se1);
        if (g) row_grad(g, g, C, (scale * <f32>row.q / row.se + zk) * invT, weight, t, scale * hot * invT, scale * ec * invT);
      }
    }
    total = finish(n, loss ? loss + (<usize>r0 << 2) : 0, total);
  }
  a.total = total;
  a.zTotal = zTotal;
}

/** Writes the call's running totals to `totals`: f64 loss total, then f64 z total. */
// @ts-ignore: decorator
@inline function end_call(a: XentArgs, totals: usize): void {
  store<f64>(totals, a.total);
  store<f64>(totals, a.zTotal, 8);
}

/** The f32 logits the row kernels read: x widened from 16-bit floats into `wide` (half 1: float16, 2:
 *  bfloat16), then soft-capped into `capped` with the temperature folded in (softcap 0: none). */
// @ts-ignore: decorator
@inline function logits_of(x: usize, n: i32, half: i32, wide: usize, softcap: f32, capped: usize, invT: f32): usize {
  let v = x;
  if (half) {
    half_to_f32(x, wide, n, half);
    v = wide;
  }
  if (softcap != 0) {
    softcap_f32(v, capped, n, softcap, invT);
    v = capped;
  }
  return v;
}

/** The blocks strided() runs for S > 1 (see BlockRows). */
function xent_index_block(a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32): void {
  xent_index_rows(a, x, g, at, b, C);
}
function xent_prob_block(a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32): void {
  xent_prob_rows(a, x, t, g, at, b, C);
}

/**
 * Cross-entropy with class-index targets (i32, N*S of them) over an (N, C, S) tensor of logits: f32, or
 * 16-bit floats when half (widened into `wide`, N*C*S floats). With softcap, the capped logits go to
 * `capped` (N*C*S floats): the gradient through the cap needs them. For S > 1, scratch holds B*C floats.
 * See the header for the math and the pointer contract.
 */
export function xent_index_f32(
  x: usize, target: usize, weight: usize, loss: usize, grad: usize, scales: usize,
  N: i32, C: i32, S: i32, scratch: usize, B: i32, half: i32, wide: usize, softcap: f32, capped: usize,
  ignoreIndex: i32, eps: f32, wsum: f32, gscale: f32, logProbs: i32, invT: f32, zLoss: f32,
  lseOut: usize, entOut: usize, total: f64, zTotal: f64, totals: usize,
): void {
  const n = N * C * S, v = logits_of(x, n, half, wide, softcap, capped, invT);
  const a = ARGS;
  a.target = target; a.weight = weight; a.loss = loss; a.scales = scales; a.lseOut = lseOut; a.entOut = entOut;
  a.ignoreIndex = ignoreIndex; a.eps = eps; a.wsum = wsum; a.gscale = gscale; a.logProbs = logProbs; a.zLoss = zLoss;
  a.invT = softcap != 0 ? 1 : clamp_inv_t(invT); a.total = total; a.zTotal = zTotal;
  if (S == 1) xent_index_rows(a, v, grad, 0, N, C);
  else strided(xent_index_block, v, 0, grad, 0, a, N, C, S, scratch, B);
  if (softcap != 0 && grad) softcap_grad_f32(capped, grad, n, softcap, invT);
  end_call(a, totals);
}

/**
 * Cross-entropy with class-probability targets (f32, laid out like x) over an (N, C, S) tensor, x as in
 * xent_index_f32. For S > 1, scratch holds 2*B*C floats (logits and targets of one block).
 */
export function xent_prob_f32(
  x: usize, target: usize, weight: usize, loss: usize, grad: usize, scales: usize,
  N: i32, C: i32, S: i32, scratch: usize, B: i32, half: i32, wide: usize, softcap: f32, capped: usize,
  eps: f32, gscale: f32, logProbs: i32, invT: f32, zLoss: f32, total: f64, zTotal: f64, totals: usize,
): void {
  const n = N * C * S, v = logits_of(x, n, half, wide, softcap, capped, invT);
  const a = ARGS;
  a.target = target; a.weight = weight; a.loss = loss; a.scales = scales; a.lseOut = 0; a.entOut = 0;
  a.ignoreIndex = 0; a.eps = eps; a.wsum = 0; a.gscale = gscale; a.logProbs = logProbs; a.zLoss = zLoss;
  a.invT = softcap != 0 ? 1 : clamp_inv_t(invT); a.total = total; a.zTotal = zTotal;
  if (S == 1) xent_prob_rows(a, v, target, grad, 0, N, C);
  else strided(xent_prob_block, v, target, grad, 0, a, N, C, S, scratch, B);
  if (softcap != 0 && grad) softcap_grad_f32(capped, grad, n, softcap, invT);
  end_call(a, totals);
}
