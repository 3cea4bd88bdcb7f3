// The module's ABI: pointers into this module's memory, sizes and scalars only; no allocation.
// The TypeScript side owns the memory layout; src/backend/wasm/abi.ts lists each export's parameters in
// order, and the loader checks their number.

/** Bumped whenever an export's signature or meaning changes; checked by the loader, which reads the value
 *  expected from this line (assembly/embed.mjs): keep it `export const ABI_VERSION: i32 = <integer>;`. */
export const ABI_VERSION: i32 = 15;

/** First free byte after the module's static data: the caller's arena starts here. */
export function heap_base(): usize {
  return __heap_base;
}

export { scratch_bytes, place_scratch } from "./scratch";
export { logsumexp_f32, log_softmax_f32, softmax_f32 } from "./softmax";
export { xent_index_f32, xent_prob_f32 } from "./xent";
export { bce_logits_f32, BCE_BLOCK } from "./bce";
export { kl_div_f32 } from "./kl";
export { distill_f32 } from "./distill";
export { log_softmax_backward_f32, softmax_backward_f32, logsumexp_backward_f32, softmin_f32 } from "./backward";
