// The embedded module: its bytes, its exports (the ABI) and the check that they are the ones this loader
// was written for.
import { ABI_VERSION, WASM_BASE64 } from '../../wasm/xent.generated.ts';

/** The ABI version the loader expects: assembly/index.ts's, written next to the module by assembly/embed.mjs. */
export { ABI_VERSION };

/** The module's exports, as assembly/index.ts declares them. */
export interface Exports {
  memory: WebAssembly.Memory;
  ABI_VERSION: WebAssembly.Global;
  heap_base(): number;
  logsumexp_f32(x: number, out: number, N: number, C: number, S: number, scratch: number, B: number): void;
  log_softmax_f32(x: number, out: number, N: number, C: number, S: number, scratch: number, B: number): void;
  softmax_f32(x: number, out: number, N: number, C: number, S: number, scratch: number, B: number): void;
  xent_index_f32(
    x: number, target: number, weight: number, loss: number, grad: number, scales: number,
    N: number, C: number, S: number, scratch: number, B: number,
    ignoreIndex: number, eps: number, wsum: number, gscale: number, logProbs: number, invT: number, zLoss: number,
    lseOut: number, entOut: number, total: number, zTotal: number, totals: number,
  ): void;
  xent_prob_f32(
    x: number, target: number, weight: number, loss: number, grad: number, scales: number,
    N: number, C: number, S: number, scratch: number, B: number,
    eps: number, gscale: number, logProbs: number, invT: number, zLoss: number, total: number, zTotal: number, totals: number,
  ): void;
  half_to_f32(src: number, dst: number, n: number, kind: number): void;
  softcap_f32(src: number, dst: number, n: number, c: number, s: number): void;
  softcap_grad_f32(xs: number, g: number, n: number, c: number, s: number): void;
  bce_logits_f32(
    x: number, y: number, w: number, pw: number, loss: number, grad: number, scales: number,
    n: number, L: number, j0: number, wMode: number, gscale: number, total: number,
  ): number;
  BCE_BLOCK: WebAssembly.Global;
}

export function wasmBytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(WASM_BASE64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The exports of an instance of the module, after checking its ABI version. */
export function exportsOf(instance: WebAssembly.Instance): Exports {
  const ex = instance.exports as unknown as Exports;
  const abi = ex.ABI_VERSION?.value;
  if (abi !== ABI_VERSION) throw new Error(`xent.wasm ABI version ${abi} does not match the loader's ${ABI_VERSION}`);
  return ex;
}
