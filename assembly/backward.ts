// The backward of the softmax family over the class axis of an (N, C, S) tensor, as PyTorch's:
//   log_softmax: dx = g - exp(y) sum(g)       y = log_softmax(x)  (_log_softmax_backward_data)
//   softmax:     dx = y (g - sum(g y))        y = softmax(x)      (_softmax_backward_data)
//   logsumexp:   dx = g exp(x - logsumexp(x)) g one value per position
// and softmin, softmax(-x). Sums are row_dot's (blocked, f64 between blocks); NaN and inf propagate as
// PyTorch's formulas make them.
import { row_blocks, combine, row_grad, Sums, load_part, store_part } from "./blocks";
import { row_dot, row_max } from "./rows";
import { strided } from "./strided";
import { softmax_f32 } from "./softmax";
import { XentArgs } from "./xent-args";
import { exp_any, exp_k, expneg_k } from "./vmath";

/** dx = g - exp(y) sum(g) over R contiguous rows of C (out may be g or y). */
export function log_softmax_backward_rows(g: usize, y: usize, out: usize, R: i32, C: i32): void {
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8);
  const zero = f32x4.splat(0);
  for (let r = 0; r < R; r++) {
    const o = <usize>r * C << 2;
    const sv = f32x4.splat(<f32>row_dot(g + o, 0, C));
    for (let i = 0; i < C; i += 4) {
      const e = o + (<usize>i << 2), yv = v128.load(y + e);
      // a log-softmax output is <= 0: expneg; exp_any (a division) only for a vector that is not
      let p = expneg_k(yv, k0, k1, k2, k3, k4, k5, k6, k7, k8);
      if (v128.any_true(f32x4.gt(yv, zero))) p = exp_any(yv, zero);
      store_part(out + e, f32x4.sub(v128.load(g + e), f32x4.mul(p, sv)), min(4, C - i));
    }
  }
}

/** dx = y (g - sum(g y)) over R contiguous rows of C (out may be g or y). */
export function softmax_backward_rows(g: usize, y: usize, out: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const o = <usize>r * C << 2;
    const sv = f32x4.splat(<f32>row_dot(g + o, y + o, C));
    for (let i = 0; i < C; i += 4) {
      const e = o + (<usize>i << 2);
      store_part(out + e, f32x4.mul(v128.load(y + e), f32x4.sub(v128.load(g + e), sv)), min(4, C - i));
    }
  }
}

/** dx = g[r] softmax(x) over R contiguous rows of C; out must not be x. A row whose max is not finite takes
 *  PyTorch's g exp(x - lse) as it is: with lse = +inf, NaN at the +inf entries and 0 elsewhere; with
 *  lse = -inf (all -inf) or NaN, NaN throughout. */
export function logsumexp_backward_rows(g: usize, x: usize, out: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const o = <usize>r * C << 2, gr = load<f32>(g + (<usize>r << 2));
    const row = combine(row_blocks(x + o, C, out + o, Sums.NONE, 0, 0, 0, 0, 1, Infinity), Sums.NONE, 1);
    if (isFinite(row.M)) {
      row_grad(out + o, out + o, C, gr / row.se, 0, 0, 0, 0); // e f_b g / se
      continue;
    }
    const lse = isNaN(row_max(x + o, C)) ? NaN : row.M;
    for (let i = 0; i < C; i++) {
      const e = o + (<usize>i << 2), d = load<f32>(x + e) - lse;
      store<f32>(out + e, gr * (d == -Infinity ? 0 : NaN)); // d is -inf or NaN here
    }
  }
}

/** Unused by these rows. */
const NO_ARGS = changetype<XentArgs>(0);

/** The blocks strided() runs for S > 1 (see BlockRows). */
function log_softmax_backward_block(a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32): void {
  log_softmax_backward_rows(x, t, x, b, C);
}
function softmax_backward_block(a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32): void {
  softmax_backward_rows(x, t, x, b, C);
}
function logsumexp_backward_block(a: XentArgs, x: usize, t: usize, g: usize, at: usize, b: i32, C: i32): void {
  logsumexp_backward_rows(at, x, t, b, C);
}

/** The backward of log_softmax along the class axis; out may equal g or y. For S > 1, scratch holds 2*B*C floats. */
export function log_softmax_backward_f32(g: usize, y: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  if (S == 1) log_softmax_backward_rows(g, y, out, N, C);
  else strided(log_softmax_backward_block, g, y, out, 0, NO_ARGS, N, C, S, scratch, B);
}

/** The backward of softmax along the class axis; out may equal g or y. For S > 1, scratch holds 2*B*C floats. */
export function softmax_backward_f32(g: usize, y: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  if (S == 1) softmax_backward_rows(g, y, out, N, C);
  else strided(softmax_backward_block, g, y, out, 0, NO_ARGS, N, C, S, scratch, B);
}

/** The backward of logsumexp: g has N*S floats, x and out are (N, C, S); out must not be x. With lse (N*S
 *  floats, the forward's result) it is PyTorch's g exp(x - lse) elementwise; without, the rows' softmax is
 *  computed (for S > 1, scratch holds 2*B*C floats). */
export function logsumexp_backward_f32(g: usize, x: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32, lse: usize): void {
  if (lse) logsumexp_backward_given(g, x, lse, out, N, C, S);
  else if (S == 1) logsumexp_backward_rows(g, x, out, N, C);
  else strided(logsumexp_backward_block, x, 0, out, g, NO_ARGS, N, C, S, scratch, B, true);
}

/** g exp(x - lse) at each element, g and lse one value per position: with the forward's result saved, one
 *  pass with no reduction (what autograd runs). Vectors run along the classes (S == 1) or the positions. */
function logsumexp_backward_given(g: usize, x: usize, lse: usize, out: usize, N: i32, C: i32, S: i32): void {
  const k0 = exp_k(0), k1 = exp_k(1), k2 = exp_k(2), k3 = exp_k(3), k4 = exp_k(4), k5 = exp_k(5), k6 = exp_k(6), k7 = exp_k(7), k8 = exp_k(8);
  const zero = f32x4.splat(0);
  if (S == 1) {
    for (let n = 0; n < N; n++) {
      const o = <usize>n * C << 2, p = <usize>n << 2;
      const gv = f32x4.splat(load<f32>(g + p)), lv = f32x4.splat(load<f32>(lse + p));
      for (let i = 0; i < C; i += 4) {
        const e = o + (<usize>i << 2), d = f32x4.sub(v128.load(x + e), lv);
        // x <= logsumexp(x): expneg; exp_any (a division) only for a vector that is not
        let p = expneg_k(d, k0, k1, k2, k3, k4, k5, k6, k7, k8);
        if (v128.any_true(f32x4.gt(d, zero))) p = exp_any(d, zero);
        store_part(out + e, f32x4.mul(gv, p), min(4, C - i));
      }
    }
    return;
  }
  for (let n = 0; n < N; n++) {
    const p = <usize>n * S << 2;
    for (let c = 0; c < C; c++) {
      const o = (<usize>n * C + c) * S << 2;
      for (let s = 0; s < S; s += 4) {
        const k = min(4, S - s), e = o + (<usize>s << 2), q = p + (<usize>s << 2);
        const d = f32x4.sub(load_part(x + e, k, 0), load_part(lse + q, k, 0));
        store_part(out + e, f32x4.mul(load_part(g + q, k, 0), exp_any(d, zero)), k);
      }
    }
  }
}

/** softmin(x) = softmax(-x) along the class axis: -x into out, then softmax there (out may equal x). */
export function softmin_f32(x: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  const n = N * C * S; // the runner's chunk: at most 2^30 floats
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), f32x4.neg(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), -load<f32>(x + (<usize>i << 2)));
  softmax_f32(out, out, N, C, S, scratch, B);
}
