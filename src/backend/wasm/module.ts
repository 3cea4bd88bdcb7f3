// The embedded module, in two builds of the same sources: its bytes, its exports (the ABI, the same in
// both) and the check that they are the ones this loader was written for.
import type { WasmBuild } from '../../types.ts';
import type { Exports } from './abi.ts';
import { ABI_VERSION, WASM_BASE64, WASM_RELAXED_BASE64 } from '../../wasm/xent.generated.ts';
// the builds: 'relaxed-simd' is build/xent-relaxed.wasm, 'simd' build/xent.wasm

/** The ABI version the loader expects: assembly/index.ts's, written next to the module by assembly/embed.mjs. */
export { ABI_VERSION };

/** A module of one function using f32x4.relaxed_madd (82 bytes): WebAssembly.validate on it tells whether
 *  the engine has relaxed SIMD without decoding the relaxed build. */
const V128_ZERO = [0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const RELAXED_PROBE = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, // magic, version
  1, 5, 1, 0x60, 0, 1, 0x7b, // types: () -> v128
  3, 2, 1, 0, // one function of type 0
  10, 0x3d, 1, 0x3b, 0, ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd(0, 0, 0)
);

/** Whether this engine runs relaxed SIMD (validates the probe; false without WebAssembly). */
export function hasRelaxedSimd(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
}

/** Whether this engine is JavaScriptCore (Bun; Safari and every iOS browser, by their user agent), where
 *  relaxed_madd runs slower than a multiply and an add: measured on Bun 1.4.5 (2026-12-02, AVX2), the
 *  relaxed build took 1.5x the baseline's time for cross-entropy and 2.7x for the exp-sum loop. */
export function isJavaScriptCore(): boolean {
  const g = globalThis as { Bun?: unknown; navigator?: { userAgent?: unknown } };
  if (g.Bun !== undefined) return true;
  const ua = g.navigator?.userAgent;
  // Chromium's agent string names AppleWebKit too, and Chrome/ (HeadlessChrome/ headless), Chromium/,
  // Edg/ or OPR/; WebKit's does not (iOS Chrome says CriOS/: it is WebKit)
  return typeof ua === 'string' && ua.includes('AppleWebKit/') && !/(Chrome|Chromium|Edg|OPR)\//.test(ua);
}

/** The bytes of one build, decoded from base64 when asked for (the loader decodes only the one it uses). */
export function wasmBytes(build: WasmBuild = 'simd'): Uint8Array<ArrayBuffer> {
  return decode(build === 'relaxed-simd' ? WASM_RELAXED_BASE64 : WASM_BASE64);
}

/** Base64 to bytes. */
export function decode(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
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
