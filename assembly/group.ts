// Rows are finished four at a time: each row leaves its loss as A + B * log(se) (A, B in f64, se the
// row's sum of exponentials, passed as se - 1 for an accurate log1p) and one f32x4 log1p then serves the
// four rows. A log costs about as much as
// the whole rest of a 10-class row, so this matters for small C. finish() adds each row's loss to the
// running total in row order, so the f64 total does not depend on how the rows were chunked or grouped.
import { log1p_f32x4 } from "./vmath";

export const GROUP: i32 = 4;
let SE1: usize = memory.data(16, 16); // f32 x 4: se - 1
let LOGS: usize = memory.data(16, 16); // f32 x 4
let A: usize = memory.data(32, 16); // f64 x 4
let B: usize = memory.data(32, 16); // f64 x 4

/** Bytes of this module's scratch, for place_group. */
export const GROUP_SCRATCH: usize = 96;
/** Moves SE1, LOGS, A and B to p (scratch.ts); returns the end of the region. */
export function place_group(p: usize): usize {
  SE1 = p;
  LOGS = p + 16;
  A = p + 32;
  B = p + 64;
  return p + GROUP_SCRATCH;
}

/** Row j of the group leaves l = a + b * log1p(se1), se1 = se - 1. Rows with no log term pass b = 0, se1 = 0. */
// @ts-ignore: decorator
@inline export function leave(j: i32, a: f64, b: f64, se1: f32): void {
  store<f64>(A + (<usize>j << 3), a);
  store<f64>(B + (<usize>j << 3), b);
  store<f32>(SE1 + (<usize>j << 2), se1);
}

/** The a that row j left. */
// @ts-ignore: decorator
@inline export function left(j: i32): f64 {
  return load<f64>(A + (<usize>j << 3));
}

/** Takes the four logs at once; then logged(j) is log(se) of row j. */
// @ts-ignore: decorator
@inline export function take_logs(): void {
  v128.store(LOGS, log1p_f32x4(v128.load(SE1)));
}

// @ts-ignore: decorator
@inline export function logged(j: i32): f32 {
  return load<f32>(LOGS + (<usize>j << 2));
}

/** Finishes the n rows of a group: writes each value a + b * log(se) to out (if out != 0, f32) and
 *  returns the running f64 total plus each value, added one row at a time. A row with b = 0 is a exactly
 *  (its log is not used: no 0 * inf). */
// @ts-ignore: decorator
@inline export function finish(n: i32, out: usize, total: f64): f64 {
  take_logs();
  for (let j = 0; j < n; j++) {
    const b = load<f64>(B + (<usize>j << 3));
    let l = load<f64>(A + (<usize>j << 3));
    if (b != 0) l += b * <f64>logged(j);
    if (out) store<f32>(out + (<usize>j << 2), <f32>l);
    total += l;
  }
  return total;
}
