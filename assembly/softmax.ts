// logsumexp, log_softmax and softmax over the class axis of an (N, C, S) tensor.
import { log_f32, exp_f32x4, exp_f32 } from "./vmath";
import { row_max, row_sumexp } from "./rows";
import { gather_rows, scatter_rows, slab_offset, pos_offset } from "./layout";

// NaN rules follow PyTorch: log_softmax/softmax subtract the row max, so a +inf entry or an all -inf
// row gives NaN; logsumexp shifts by 0 when the max is infinite, so it returns +inf or -inf instead.

function lse_rows(x: usize, out: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const p = x + (<usize>r * C << 2);
    let m = row_max(p, C);
    if (Mathf.abs(m) == Infinity) m = 0;
    store<f32>(out + (<usize>r << 2), m + log_f32(row_sumexp(p, C, m)));
  }
}

function log_softmax_rows(x: usize, out: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const o = <usize>r * C << 2;
    const m = row_max(x + o, C);
    const L = log_f32(row_sumexp(x + o, C, m));
    const mv = f32x4.splat(m), lv = f32x4.splat(L);
    let i = 0;
    for (; i + 4 <= C; i += 4) {
      const e = o + (<usize>i << 2);
      v128.store(out + e, f32x4.sub(f32x4.sub(v128.load(x + e), mv), lv));
    }
    for (; i < C; i++) {
      const e = o + (<usize>i << 2);
      store<f32>(out + e, (load<f32>(x + e) - m) - L);
    }
  }
}

function softmax_rows(x: usize, out: usize, R: i32, C: i32): void {
  for (let r = 0; r < R; r++) {
    const o = <usize>r * C << 2;
    const m = row_max(x + o, C);
    const inv: f32 = 1 / row_sumexp(x + o, C, m);
    const mv = f32x4.splat(m), iv = f32x4.splat(inv);
    let i = 0;
    for (; i + 4 <= C; i += 4) {
      const e = o + (<usize>i << 2);
      v128.store(out + e, f32x4.mul(exp_f32x4(f32x4.sub(v128.load(x + e), mv)), iv));
    }
    for (; i < C; i++) {
      const e = o + (<usize>i << 2);
      store<f32>(out + e, exp_f32(load<f32>(x + e) - m) * inv);
    }
  }
}

/**
 * out[n, s] = log(sum_c exp(x[n, c, s])) for an (N, C, S) tensor x; out has N*S floats.
 * For S > 1, `scratch` holds B*C floats. C >= 1.
 */
export function logsumexp_f32(x: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  if (S == 1) return lse_rows(x, out, N, C);
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += B) {
      const b = min(B, S - s0);
      gather_rows(x + slab_offset(n, s0, C, S), scratch, C, S, b);
      lse_rows(scratch, out + pos_offset(n, s0, S), b, C);
    }
  }
}

/** out = x - logsumexp(x) along the class axis; out may equal x. For S > 1, scratch holds B*C floats. */
export function log_softmax_f32(x: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  if (S == 1) return log_softmax_rows(x, out, N, C);
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += B) {
      const b = min(B, S - s0), o = slab_offset(n, s0, C, S);
      gather_rows(x + o, scratch, C, S, b);
      log_softmax_rows(scratch, scratch, b, C);
      scatter_rows(scratch, out + o, C, S, b);
    }
  }
}

/** out = exp(x - max) / sum(exp(x - max)) along the class axis; out may equal x. */
export function softmax_f32(x: usize, out: usize, N: i32, C: i32, S: i32, scratch: usize, B: i32): void {
  if (S == 1) return softmax_rows(x, out, N, C);
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += B) {
      const b = min(B, S - s0), o = slab_offset(n, s0, C, S);
      gather_rows(x + o, scratch, C, S, b);
      softmax_rows(scratch, scratch, b, C);
      scatter_rows(scratch, out + o, C, S, b);
    }
  }
}
