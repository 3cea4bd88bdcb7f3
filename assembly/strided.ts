// Class-strided inputs (N, C, d1..dK) keep the classes of one position S = d1*...*dK floats apart. The
// kernels run them through strided(): a block of at most B positions at a time is gathered into B
// contiguous rows of C classes, the row kernel runs there, and its row-shaped output is scattered back.
// The S == 1 path calls the row kernels directly and never comes here.
import { gather_rows, scatter_rows, slab_offset, pos_offset } from "./layout";
import { lse_rows, log_softmax_rows, softmax_rows } from "./softmax";
import { xent_index_rows, xent_prob_rows, XentArgs } from "./xent";
import { log_softmax_backward_rows, softmax_backward_rows, logsumexp_backward_rows } from "./backward";

/** The row kernels strided() runs on a gathered block. */
export const enum Row {
  LOGSUMEXP,
  LOG_SOFTMAX,
  SOFTMAX,
  XENT_INDEX,
  XENT_PROB,
  LOG_SOFTMAX_BACKWARD,
  SOFTMAX_BACKWARD,
  LOGSUMEXP_BACKWARD,
}

/**
 * Runs `row` over an (N, C, S) tensor x, S > 1, one block of b <= B positions at a time:
 * - x, and t when not 0 (probability targets, or the second input of a backward op, laid out like x),
 *   are gathered into scratch (B*C floats each, t's after x's);
 * - the kernel runs on the b gathered rows, in place: its per-position arrays (pos, and a's) are offset
 *   to the block's first position;
 * - when out is not 0, the rows it left in scratch (log_softmax, softmax, the gradient) are scattered to
 *   out, laid out like x; logsumexp's backward, which reads x again for a row whose max is infinite,
 *   leaves them in t's place instead.
 * `row` is a constant at every call site, so each inlined copy keeps only its own kernel.
 */
// @ts-ignore: decorator
@inline export function strided(
  row: Row, x: usize, t: usize, out: usize, pos: usize, a: XentArgs, N: i32, C: i32, S: i32, scratch: usize, B: i32,
): void {
  const ts = scratch + (<usize>B * C << 2);
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += B) {
      const b = min(B, S - s0), o = slab_offset(n, s0, C, S), q = pos_offset(n, s0, S);
      gather_rows(x + o, scratch, C, S, b);
      if (t) gather_rows(t + o, ts, C, S, b);
      const g = out ? scratch : 0;
      switch (row) {
        case Row.LOGSUMEXP: lse_rows(scratch, pos + q, b, C); break;
        case Row.LOG_SOFTMAX: log_softmax_rows(scratch, scratch, b, C); break;
        case Row.SOFTMAX: softmax_rows(scratch, scratch, b, C); break;
        case Row.XENT_INDEX: xent_index_rows(a, scratch, g, q, b, C); break;
        case Row.XENT_PROB: xent_prob_rows(a, scratch, ts, g, q, b, C); break;
        case Row.LOG_SOFTMAX_BACKWARD: log_softmax_backward_rows(scratch, ts, scratch, b, C); break;
        case Row.SOFTMAX_BACKWARD: softmax_backward_rows(scratch, ts, scratch, b, C); break;
        case Row.LOGSUMEXP_BACKWARD: logsumexp_backward_rows(pos + q, scratch, ts, b, C); break;
      }
      if (out) scatter_rows(row == Row.LOGSUMEXP_BACKWARD ? ts : scratch, out + o, C, S, b);
    }
  }
}
