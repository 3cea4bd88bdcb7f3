// A module worker that first takes WebAssembly away (or its SIMD, or the right to compile), then imports a
// fresh xent (a worker has its own module graph) and reports what it chose, why, and the workload's
// numbers. Message in: { scenario }; message out: { init, info, wasmError, result } or { error }.
import { runWorkload } from './workload.ts';

export type Scenario = 'none' | 'no-webassembly' | 'no-simd' | 'compile-refused';

const WA = WebAssembly;
const refused = () => new WA.CompileError(
  "WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source of script",
);

function simulate(scenario: Scenario): void {
  const g = globalThis as { WebAssembly?: unknown };
  if (scenario === 'no-webassembly') g.WebAssembly = undefined;
  if (scenario === 'no-simd') g.WebAssembly = { ...WA, validate: () => false };
  if (scenario === 'compile-refused') {
    g.WebAssembly = {
      ...WA,
      validate: WA.validate, // SIMD is there: validation passes, compiling is what is refused
      Module: function Module() { throw refused(); },
      Instance: function Instance() { throw refused(); },
      compile: () => Promise.reject(refused()),
      instantiate: () => Promise.reject(refused()),
    };
  }
}

self.onmessage = async (e: MessageEvent<{ scenario: Scenario }>) => {
  try {
    simulate(e.data.scenario);
    const xent = await import('../../src/index.ts');
    const init = await xent.init();
    const info = xent.getBackendInfo();
    let wasmError: string | null = null;
    try {
      xent.setBackend('wasm');
    } catch (err) {
      wasmError = String(err);
    }
    self.postMessage({ init, info, wasmError, result: runWorkload(xent) });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
