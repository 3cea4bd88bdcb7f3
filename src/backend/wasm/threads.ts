// The threads build of the module (build/xent-threads*.wasm: the same sources on an imported shared
// memory), for the pool's workers only: each worker's instance imports the memory the pool shares, so
// its kernels read and write the pool's arrays where they are. Instances that share a memory must not
// share their scratch (assembly/scratch.ts): before each request a worker moves its own into the arena
// the calling thread allocated for it, and runs the request's chunks in the rest.
import type { WasmBuild } from '../../types.ts';
import { WASM_THREADS_BASE64, WASM_THREADS_RELAXED_BASE64 } from '../../wasm/xent-threads.generated.ts';
import { WasmKernels } from './kernels.ts';
import { decode } from './module.ts';

export class ThreadKernels {
  readonly kernels: WasmKernels;
  /** Where the calling thread may start allocating: after the static data. */
  readonly heapBase: number;
  /** Bytes of an arena that go to the kernels' scratch. */
  readonly scratchBytes: number;
  private readonly place: (p: number) => void;

  constructor(memory: WebAssembly.Memory, build: WasmBuild) {
    const bytes = decode(build === 'relaxed-simd' ? WASM_THREADS_RELAXED_BASE64 : WASM_THREADS_BASE64);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    this.kernels = new WasmKernels(instance);
    const ex = instance.exports as unknown as { heap_base(): number; scratch_bytes(): number; place_scratch(p: number): void };
    this.heapBase = ex.heap_base();
    this.scratchBytes = ex.scratch_bytes();
    this.place = ex.place_scratch;
  }

  /** Takes the arena [at, at + bytes) of shared memory for the next calls: scratch, then chunks. */
  useArena(at: number, bytes: number): void {
    this.place(at);
    this.kernels.heap.arena = { at: at + this.scratchBytes, bytes: bytes - this.scratchBytes };
  }
}
