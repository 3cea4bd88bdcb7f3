// logsumexp, log_softmax and softmax over the class axis of an (N, C, S) tensor.
import { row_max } from "./rows";
import { row_blocks, combine, row_grad, Sums, store_part } from "./blocks";
import { strided } from "./strided";
import { XentArgs } from "./xent-args";
import { GROUP, leave, left, take_logs, logged, finish } from "./group";
import { LANES_MAX_C, lse_lanes } from "./lanes";

// NaN rules follow PyTorch: log_softmax/softmax subtract the row max, so a +inf entry or an all -inf
// row gives NaN; logsumexp treats an infinite max as the answer (+inf or -inf) unless the row holds NaN.

export function lse_rows(x: usize, out: usize, R: i32, C: i32): void {
  if (C <= LANES_MAX_C) { // every row in the lanes, the last group padded
    for (let r0 = 0; r0 < R; r0 += 4) lse_lanes(x + (<usize>r0 * C << 2), out + (<usize>r0 << 2), C, min(4, R - r0));
    return;
  }
  for (let r0 = 0; r0 < R; r0 += GROUP) {
    const n = min(GROUP, R - r0);
    for (let j = 0; j < n; j++) {
      const p = x + (<usize>(r0 + j) * C << 2);
      const row = combine(row_blocks(p, C, 0, Sums.NONE, 0, 0, 0, 0, 1, NaN), Sums.NONE, 1); // M + log1p(se - 1): exact near 0
      const M = row.M;
      // the block maxima skip NaN; with an infinite M, row_max (which propagates NaN) decides
      if (isFinite(M)) leave(j, M, 1, row.se1);
      else leave(j, isNaN(row_max(p, C)) ? NaN : M, 0, 0);
    }
    finish(n, out + (<usize>r0 << 2), 0);
  }
}

export function log_softmax_rows(x: usize, out: usize, R: i32, C: i32): void {
  for (let r0 = 0; r0 < R; r0 += GROUP) {
    const n = min(GROUP, R - r0);
    for (let j = 0; j < n; j++) {
      const row = combine(row_blocks(x + (<usize>(r0 + j) * C << 2), C, 0, Sums.NONE, 0, 0, 0, 0, 1, NaN), Sums.NONE, 1);
      leave(j, row.M, 0, row.se1); // a = M for the output pass below
    }
    take_logs();
    for (let j = 0; j < n; j++) {
      const o = <usize>(r0 + j) * C << 2;
      const mv = f32x4.splat(<f32>left(j)), lv = f32x4.splat(logged(j));
      for (let i = 0; i < C; i += 4) {
        const e = o + (<usize>i << 2);
        store_part(out + e, f32x4.sub(f32x4.sub(v128.load(x + e), mv), lv), min(4, C - i));
      }
    }
  }
}

export function softmax_rows(x: usize, out: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const o = <usize>r * C << 2;
    const row = combine(row_blocks(x + o, C, out + o, Sums.NONE, 0, 0, 0, 0, 1, Infinity), Sums.NONE, 1);
    row_grad(out + o, out + o, C, 1 / row.se, 0, 0, 0, 0); // pass B: e f_b / se, no target term
  }
}

/** Unused by the softmax family's rows. */
const NO_ARGS = changetype<XentArgs>(0);

/** The blocks strided() runs for S > 1 (see BlockRows). */
function lse_block(a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32): void {
  lse_rows(x, at, b, C);
}
function log_softmax_block(a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32): void {
  log_softmax_rows(x, x, b, C);
}
function softmax_block(a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32): void {
  softmax_rows(x, x, b, C);
}

/**
 * out[n, s] = log(sum_c exp(x[n, c, s])) for an (N, C, S) tensor x; out has N*S floats.
 * For S > 1, `scratch` holds B*C floats. C >= 1.
 */
export function logsumexp_f32(x: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  if (S == 1) lse_rows(x, out, N, C);
  else strided(lse_block, x, 0, 0, out, NO_ARGS, N, C, S, scratch, B);
}

/** out = x - logsumexp(x) along the class axis; out may equal x. For S > 1, scratch holds B*C floats. */
export function log_softmax_f32(x: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  if (S == 1) log_softmax_rows(x, out, N, C);
  else strided(log_softmax_block, x, 0, out, 0, NO_ARGS, N, C, S, scratch, B);
}

/** out = exp(x - max) / sum(exp(x - max)) along the class axis; out may equal x. */
export function softmax_f32(x: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  if (S == 1) softmax_rows(x, out, N, C);
  else strided(softmax_block, x, 0, out, 0, NO_ARGS, N, C, S, scratch, B);
}
