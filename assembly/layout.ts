// Layout helpers: the gather and scatter of class-strided blocks (strided.ts), and the widening of
// half-precision logits.

/** dst[s*C + c] = src[c*S + s] for c < C, s < B; src points at the block's first position. */
export function gather_rows(src: usize, dst: usize, C: i32, S: i32, B: i32): void {
  const stride = <usize>S << 2;
  for (let c = 0; c < C; c++) {
    const from = src + <usize>c * stride;
    const to = dst + (<usize>c << 2);
    for (let s = 0; s < B; s++) store<f32>(to + (<usize>s * C << 2), load<f32>(from + (<usize>s << 2)));
  }
}

/** dst[c*S + s] = src[s*C + c]: the inverse of gather_rows. */
export function scatter_rows(src: usize, dst: usize, C: i32, S: i32, B: i32): void {
  const stride = <usize>S << 2;
  for (let c = 0; c < C; c++) {
    const from = src + (<usize>c << 2);
    const to = dst + <usize>c * stride;
    for (let s = 0; s < B; s++) store<f32>(to + (<usize>s << 2), load<f32>(from + (<usize>s * C << 2)));
  }
}

/** Byte offset of position (n, s0) in a (N, C, S) tensor. */
// @ts-ignore: decorator
@inline export function slab_offset(n: i32, s0: i32, C: i32, S: i32): usize {
  return (<usize>n * C * S + s0) << 2;
}

/** Byte offset of position (n, s0) in a per-position (N, S) array. */
// @ts-ignore: decorator
@inline export function pos_offset(n: i32, s0: i32, S: i32): usize {
  return (<usize>n * S + s0) << 2;
}

/** f16_f32x4's constants (0x7fff, 2^112, 0x0f800000, 0x7f800000, 0x8000), loaded before the loop: V8 >= 12
 *  re-materialises inline v128.consts inside loops (vmath.ts). */
const HALFK: usize = memory.data<i32>([0x7fff, 0x77800000, 0x0f800000, 0x7f800000, 0x8000]);

/** Tail scratch for half_to_f32: two vectors. */
let TAIL: usize = memory.data(32, 16);

/** Bytes of this module's scratch (TAIL), for place_layout. */
export const LAYOUT_SCRATCH: usize = 32;
/** Moves TAIL to p (scratch.ts); returns the end of the region. */
export function place_layout(p: usize): usize {
  TAIL = p;
  return p + LAYOUT_SCRATCH;
}

/**
 * float16 bits (low 16 bits of each i32 lane) to f32: exponent and mantissa shifted into place and
 * multiplied by 2^112 to rebias (which also normalises subnormals exactly), exponent 31 (inf, NaN)
 * raised to 255, then the sign.
 */
// @ts-ignore: decorator
@inline function f16_f32x4(h: v128, h0: v128, h1: v128, h2: v128, h3: v128, h4: v128): v128 {
  const em = i32x4.shl(v128.and(h, h0), 13);
  let f = f32x4.mul(em, h1); // 2^112
  f = v128.or(f, v128.and(i32x4.ge_s(em, h2), h3));
  return v128.or(f, i32x4.shl(v128.and(h, h4), 16));
}

/**
 * dst[i] = the f32 value of the 16-bit float src[i], for i < n: kind 1 is IEEE half (float16), kind 2
 * bfloat16 (the top half of an f32). Half-precision logits (as onnxruntime-web returns them) are widened
 * a chunk at a time, so no f32 copy of the whole input is made. Reads whole vectors: src needs 14
 * readable bytes past n.
 */
export function half_to_f32(src: usize, dst: usize, n: i32, kind: i32): void {
  const h0 = v128.load32_splat(HALFK), h1 = v128.load32_splat(HALFK, 4), h2 = v128.load32_splat(HALFK, 8);
  const h3 = v128.load32_splat(HALFK, 12), h4 = v128.load32_splat(HALFK, 16);
  for (let i = 0; i < n; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    const lo = i32x4.extend_low_i16x8_u(h), hi = i32x4.extend_high_i16x8_u(h);
    const a = kind == 1 ? f16_f32x4(lo, h0, h1, h2, h3, h4) : i32x4.shl(lo, 16);
    const b = kind == 1 ? f16_f32x4(hi, h0, h1, h2, h3, h4) : i32x4.shl(hi, 16);
    const o = dst + (<usize>i << 2);
    if (i + 8 <= n) {
      v128.store(o, a);
      v128.store(o, b, 16);
    } else { // the last, partial group of eight: only the valid floats are written
      v128.store(TAIL, a);
      v128.store(TAIL, b, 16);
      memory.copy(o, TAIL, <usize>(n - i) << 2);
    }
  }
}
