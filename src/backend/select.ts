// Backend selection. 'auto' (the default) uses the wasm backend when the engine runs WebAssembly SIMD
// and falls back to the JS backend otherwise, remembering why. The module is compiled lazily and
// synchronously on first use, or ahead of time with `await init()` (preferable on a browser main thread).
import type { BackendName } from '../types.ts';
import { describe } from '../args.ts';
import { jsKernels } from './js.ts';
import type { Kernels } from './types.ts';
import { WasmKernels } from './wasm/kernels.ts';
import { wasmBytes } from './wasm/module.ts';

export type BackendChoice = BackendName | 'auto';

export interface BackendInfo {
  /** The backend calls use now. */
  name: BackendName;
  /** What setBackend last chose. */
  choice: BackendChoice;
  /** Why the wasm backend is not available, if it is not (undefined while it was never tried). */
  wasmUnavailable?: string;
  /** Bytes of WASM memory in use by xent (the high-water mark; wasm memory never shrinks). */
  wasmMemoryBytes?: number;
}

let choice: BackendChoice = 'auto';
let wasm: WasmKernels | null = null;
let wasmError: string | undefined;
let loading: Promise<void> | null = null;

function unavailableReason(bytes: Uint8Array<ArrayBuffer>): string | undefined {
  if (typeof WebAssembly !== 'object') return 'WebAssembly is not available in this environment';
  if (!WebAssembly.validate(bytes)) return 'this engine does not support WebAssembly SIMD';
  return undefined;
}

function settle(load: () => WebAssembly.Instance): void {
  try {
    wasm = new WasmKernels(load());
  } catch (e) {
    wasmError = e instanceof Error ? e.message : String(e);
  }
}

/** Compiles the module synchronously unless it was already tried. */
function loadSync(): WasmKernels | null {
  if (wasm || wasmError) return wasm;
  const bytes = wasmBytes();
  wasmError = unavailableReason(bytes);
  if (!wasmError) settle(() => new WebAssembly.Instance(new WebAssembly.Module(bytes), {}));
  return wasm;
}

/** @internal The wasm backend's kernels if the module loads here (whatever backend is chosen), else null. */
export function wasmKernels(): WasmKernels | null {
  return loadSync();
}

/** The kernels calls run on now. */
export function kernels(): Kernels {
  if (choice === 'js') return jsKernels;
  return loadSync() ?? jsKernels;
}

/**
 * Loads the WebAssembly module asynchronously (the way a browser main thread should) and resolves with
 * the backend in use. Calling it again returns the same answer; it never rejects: if wasm cannot load,
 * the JS backend is used and getBackendInfo() says why.
 */
export async function init(): Promise<BackendName> {
  if (!wasm && !wasmError) {
    loading ??= (async () => {
      const bytes = wasmBytes();
      wasmError = unavailableReason(bytes);
      if (wasmError) return;
      try {
        const { instance } = await WebAssembly.instantiate(bytes, {});
        settle(() => instance);
      } catch (e) {
        wasmError = e instanceof Error ? e.message : String(e);
      }
    })();
    await loading;
  }
  return getBackend();
}

/** The backend in use: 'wasm' or 'js'. */
export function getBackend(): BackendName {
  return kernels().name;
}

/**
 * Chooses the backend: 'wasm' (throws an Error if the module cannot load here), 'js', or 'auto'
 * (wasm when WebAssembly SIMD is available, else js).
 * @throws {TypeError} for any other value
 */
export function setBackend(backend: BackendChoice): void {
  if (backend !== 'wasm' && backend !== 'js' && backend !== 'auto') {
    throw new TypeError(`setBackend: expected 'wasm', 'js' or 'auto', got ${describe(backend)}`);
  }
  if (backend === 'wasm' && !loadSync()) throw new Error(`setBackend('wasm'): the wasm backend is unavailable: ${wasmError}`);
  choice = backend;
}

/** The backend in use, what was chosen, and why wasm is unavailable if it is. */
export function getBackendInfo(): BackendInfo {
  const name = getBackend();
  return { name, choice, wasmUnavailable: wasmError, wasmMemoryBytes: wasm?.memoryBytes };
}
