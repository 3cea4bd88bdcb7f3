// Backend selection. 'auto' (the default) uses the wasm backend when the engine runs WebAssembly SIMD
// and falls back to the JS backend otherwise, remembering why. The wasm backend comes in two builds of
// the same sources: 'relaxed-simd' (fused multiply-adds), used where the engine has relaxed SIMD (an
// 82-byte probe module validates) unless it is JavaScriptCore (where it is slower), and 'simd', the
// baseline, used elsewhere or when setBackend is given `{ relaxed: false }` (the same bits on every
// machine); `{ relaxed: true }` uses relaxed SIMD wherever the engine has it. Only the build used is
// decoded and compiled: lazily and synchronously on first use, or ahead of time with `await init()`
// (preferable on a browser main thread).
import type { BackendName, WasmBuild } from '../types.ts';
import { describe } from '../args.ts';
import { jsKernels } from './js.ts';
import type { Kernels } from './types.ts';
import { WasmKernels } from './wasm/kernels.ts';
import { hasRelaxedSimd, isJavaScriptCore, wasmBytes } from './wasm/module.ts';

export type BackendChoice = BackendName | 'auto';
export type { WasmBuild };

/** setBackend's options. */
export interface BackendOptions {
  /**
   * Not given (the default): the wasm backend uses its relaxed-SIMD build where the engine has relaxed
   * SIMD and runs it faster, i.e. everywhere but JavaScriptCore (Bun, Safari), whose fused multiply-add
   * is slower than a multiply and an add. true: the relaxed-SIMD build wherever the engine has relaxed
   * SIMD. With the relaxed build the last bits of results may differ between machines (a fused step
   * rounds once), within the library's tolerances. false: always the baseline SIMD build, whose results
   * are the same bits on every engine and machine.
   */
  relaxed?: boolean;
}

export interface BackendInfo {
  /** The backend calls use now. */
  name: BackendName;
  /** What setBackend last chose. */
  choice: BackendChoice;
  /** Why the wasm backend is not available, if it is not (undefined while it was never tried). */
  wasmUnavailable?: string;
  /** The wasm build calls use: 'relaxed-simd' or 'simd' (undefined on the JS backend). */
  build?: WasmBuild;
  /** Why that build (undefined on the JS backend). */
  buildReason?: string;
  /** Bytes of WASM memory in use by xent (the high-water mark; wasm memory never shrinks). */
  wasmMemoryBytes?: number;
}

/** One build's module: its kernels once loaded, or why it cannot load. */
interface Slot {
  kernels: WasmKernels | null;
  error?: string;
  loading: Promise<void> | null;
}

let choice: BackendChoice = 'auto';
/** setBackend's `relaxed`: undefined is the default (relaxed where it is faster). */
let relaxedWanted: boolean | undefined;
let relaxedSupported: boolean | undefined;
const slots: Record<WasmBuild, Slot> = {
  'relaxed-simd': { kernels: null, loading: null },
  simd: { kernels: null, loading: null },
};

function unavailableReason(build: WasmBuild, bytes: Uint8Array<ArrayBuffer>): string | undefined {
  if (typeof WebAssembly !== 'object') return 'WebAssembly is not available in this environment';
  if (!WebAssembly.validate(bytes)) {
    return build === 'simd' ? 'this engine does not support WebAssembly SIMD' : 'this engine does not validate the relaxed-SIMD build';
  }
  return undefined;
}

function settle(slot: Slot, load: () => WebAssembly.Instance): void {
  try {
    slot.kernels = new WasmKernels(load());
  } catch (e) {
    slot.error = e instanceof Error ? e.message : String(e);
  }
}

/** The build to use now, and why: relaxed where allowed, the engine has it (and by default runs it
 *  faster), and it did not fail to load. */
function wanted(): { build: WasmBuild; reason: string } {
  if (relaxedWanted === false) return { build: 'simd', reason: 'setBackend was given { relaxed: false }: the baseline SIMD build' };
  relaxedSupported ??= hasRelaxedSimd();
  if (!relaxedSupported) return { build: 'simd', reason: 'this engine does not support WebAssembly relaxed SIMD' };
  if (relaxedWanted === undefined && isJavaScriptCore()) {
    return { build: 'simd', reason: 'JavaScriptCore (Bun, Safari) runs relaxed SIMD slower than the baseline: the baseline SIMD build ({ relaxed: true } forces the relaxed one)' };
  }
  const failed = slots['relaxed-simd'].error;
  if (failed) return { build: 'simd', reason: `the relaxed-SIMD build failed to load: ${failed}` };
  return { build: 'relaxed-simd', reason: relaxedWanted ? 'setBackend was given { relaxed: true } and this engine supports WebAssembly relaxed SIMD' : 'this engine supports WebAssembly relaxed SIMD' };
}

/** Compiles one build synchronously unless it was already tried. */
function loadSlotSync(build: WasmBuild): WasmKernels | null {
  const slot = slots[build];
  if (slot.kernels || slot.error) return slot.kernels;
  const bytes = wasmBytes(build);
  slot.error = unavailableReason(build, bytes);
  if (!slot.error) settle(slot, () => new WebAssembly.Instance(new WebAssembly.Module(bytes), {}));
  return slot.kernels;
}

/** loadSync's answer, kept for every call until setBackend changes which builds are allowed (a load that
 *  succeeded or failed stays so): the hot path then reads one variable. */
let inUse: WasmKernels | null | undefined;

/** The wanted build, compiled synchronously if needed; the baseline if the relaxed build fails. */
function loadSync(): WasmKernels | null {
  if (inUse !== undefined) return inUse;
  if (wanted().build === 'relaxed-simd' && loadSlotSync('relaxed-simd')) return (inUse = slots['relaxed-simd'].kernels);
  return (inUse = loadSlotSync('simd'));
}

async function loadSlot(build: WasmBuild): Promise<void> {
  const slot = slots[build];
  if (slot.kernels || slot.error) return;
  slot.loading ??= (async () => {
    const bytes = wasmBytes(build);
    slot.error = unavailableReason(build, bytes);
    if (slot.error) return;
    try {
      const { instance } = await WebAssembly.instantiate(bytes, {});
      settle(slot, () => instance);
    } catch (e) {
      slot.error = e instanceof Error ? e.message : String(e);
    }
  })();
  await slot.loading;
}

/** @internal The wasm backend's kernels (of the build in use) if the module loads here (whatever backend
 *  is chosen), else null. */
export function wasmKernels(): WasmKernels | null {
  return loadSync();
}

/** The kernels calls run on now. */
export function kernels(): Kernels {
  if (choice === 'js') return jsKernels;
  return loadSync() ?? jsKernels;
}

/**
 * Loads the WebAssembly module (the build the engine and setBackend's options call for) asynchronously,
 * the way a browser main thread should, and resolves with the backend in use. Calling it again returns
 * the same answer; it never rejects: if wasm cannot load, the JS backend is used and getBackendInfo()
 * says why.
 */
export async function init(): Promise<BackendName> {
  if (choice !== 'js') {
    if (wanted().build === 'relaxed-simd') await loadSlot('relaxed-simd');
    if (wanted().build === 'simd') await loadSlot('simd');
  }
  return getBackend();
}

/** The backend in use: 'wasm' or 'js'. */
export function getBackend(): BackendName {
  return kernels().name;
}

function checkOptions(options: unknown): BackendOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`setBackend: expected options to be an object such as { relaxed: false }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'relaxed') throw new TypeError(`setBackend: unknown option ${JSON.stringify(key)} (the only option is 'relaxed')`);
  }
  const { relaxed } = options as BackendOptions;
  if (relaxed !== undefined && typeof relaxed !== 'boolean') {
    throw new TypeError(`setBackend: expected options.relaxed to be a boolean, got ${describe(relaxed)}`);
  }
  return options as BackendOptions;
}

/**
 * Chooses the backend: 'wasm' (throws an Error if the module cannot load here), 'js', or 'auto'
 * (wasm when WebAssembly SIMD is available, else js). By default the wasm backend uses its relaxed-SIMD
 * build where the engine has relaxed SIMD and runs it faster (not on JavaScriptCore); `{ relaxed: true }`
 * wherever the engine has it; `{ relaxed: false }` forces the baseline SIMD build, for results that are
 * the same bits on every machine. Options not given take their defaults.
 * @throws {TypeError} for any other backend, an unknown option or a non-boolean `relaxed`
 */
export function setBackend(backend: BackendChoice, options?: BackendOptions): void {
  if (backend !== 'wasm' && backend !== 'js' && backend !== 'auto') {
    throw new TypeError(`setBackend: expected 'wasm', 'js' or 'auto', got ${describe(backend)}`);
  }
  const relaxed = checkOptions(options).relaxed;
  const before = relaxedWanted;
  relaxedWanted = relaxed;
  inUse = undefined;
  if (backend === 'wasm' && !loadSync()) {
    relaxedWanted = before;
    inUse = undefined;
    throw new Error(`setBackend('wasm'): the wasm backend is unavailable: ${slots.simd.error}`);
  }
  choice = backend;
}

/** The backend in use, what was chosen, which wasm build and why, and why wasm is unavailable if it is. */
export function getBackendInfo(): BackendInfo {
  const k = kernels();
  const info: BackendInfo = { name: k.name, choice, wasmUnavailable: slots.simd.error };
  const w = wanted();
  if (k instanceof WasmKernels) {
    info.build = k === slots['relaxed-simd'].kernels ? 'relaxed-simd' : 'simd';
    info.buildReason = w.reason;
  }
  info.wasmMemoryBytes = (slots[w.build].kernels ?? slots.simd.kernels ?? slots['relaxed-simd'].kernels)?.memoryBytes;
  return info;
}
