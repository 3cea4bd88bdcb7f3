// Class-strided inputs (N, C, d1..dK) keep the classes of one position S = d1*...*dK floats apart. The
// kernels run them through strided(): a block of at most B positions at a time is gathered into B
// contiguous rows of C classes, the row kernel runs there, and its row-shaped output is scattered back.
// The S == 1 path calls the row kernels directly and never comes here.
import { gather_rows, scatter_rows, slab_offset, pos_offset } from "./layout";
import { XentArgs } from "./xent-args";

/** A row kernel on a gathered block of b rows of C: x the rows, t the second half of scratch (the second
 *  input's rows, when there is one), g the output's rows (x, or 0 when there is no output), at the byte
 *  offset of the block's first position plus the per-position pointer (pos; cross-entropy passes 0 and
 *  offsets a's arrays by it). */
export type BlockRows = (a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32) => void;

/**
 * Runs `rows` over an (N, C, S) tensor x, S > 1, one block of b <= B positions at a time:
 * - x, and t when not 0 (probability targets, or the second input of a backward op, laid out like x),
 *   are gathered into scratch (B*C floats each, t's after x's);
 * - the kernel runs on the b gathered rows, in place;
 * - when out is not 0, the rows it left in scratch (log_softmax, softmax, the gradient) are scattered to
 *   out, laid out like x; with outOfT (logsumexp's backward, which reads x again for a row whose max is
 *   infinite) they are the ones it left in t's place.
 * `rows` is a constant at every call site, called through the function table: one indirect call per block
 * of B positions (binaryen keeps it indirect; measured 0.97 to 1.06x the former switch).
 */
// @ts-ignore: decorator
@inline export function strided(
  rows: BlockRows, x: usize, t: usize, out: usize, pos: usize, a: XentArgs, N: i32, C: i32, S: i32, scratch: usize, B: i32,
  outOfT: bool = false,
): void {
  const ts = scratch + (<usize>B * C << 2);
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += B) {
      const b = min(B, S - s0), o = slab_offset(n, s0, C, S), q = pos_offset(n, s0, S);
      gather_rows(x + o, scratch, C, S, b);
      if (t) gather_rows(t + o, ts, C, S, b);
      rows(a, scratch, ts, out ? scratch : 0, pos + q, b, C);
      if (out) scatter_rows(outOfT ? ts : scratch, out + o, C, S, b);
    }
  }
}
