// The module's ABI: pointers into this module's memory, sizes and scalars only; no allocation.
// The TypeScript side (src/backend/wasm.ts) owns the memory layout and must match these signatures.

/** Bumped whenever an export's signature or meaning changes; checked by the loader, which reads the value
 *  expected from this line (assembly/embed.mjs): keep it `export const ABI_VERSION: i32 = <integer>;`. */
export const ABI_VERSION: i32 = 9;

/** First free byte after the module's static data: the caller's arena starts here. */
export function heap_base(): usize {
  return __heap_base;
}

export { logsumexp_f32, log_softmax_f32, softmax_f32 } from "./softmax";
export { xent_index_f32, xent_prob_f32 } from "./xent";
export { half_to_f32 } from "./layout";
export { softcap_f32, softcap_grad_f32 } from "./softcap";
export { bce_logits_f32, BCE_BLOCK } from "./bce";
