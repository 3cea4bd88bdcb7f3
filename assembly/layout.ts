// Class-strided inputs (N, C, d1..dK) keep the classes of one position S = d1*...*dK floats apart.
// The kernels handle them a block of B positions at a time: gather the block into B contiguous rows
// of C classes, run the row kernel there, and scatter the gradient or output back.

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
