// The WebAssembly backend: loads the embedded module, copies each job into the module's memory (in
// chunks of positions when a job is larger than the memory limit), calls one kernel per chunk and copies
// the results out. Views of the memory are re-derived whenever it has grown.
import { WASM_BASE64 } from '../wasm/xent.generated.ts';
import { IGNORED } from '../problem.ts';
import type { ClassOp, Kernels, XentJob } from './types.ts';

/** Must match ABI_VERSION in assembly/index.ts. */
export const ABI_VERSION = 1;

interface Exports {
  memory: WebAssembly.Memory;
  ABI_VERSION: WebAssembly.Global;
  heap_base(): number;
  logsumexp_f32(x: number, out: number, N: number, C: number, S: number, scratch: number, B: number): void;
  log_softmax_f32(x: number, out: number, N: number, C: number, S: number, scratch: number, B: number): void;
  softmax_f32(x: number, out: number, N: number, C: number, S: number, scratch: number, B: number): void;
  xent_index_f32(
    x: number, target: number, weight: number, loss: number, grad: number, scales: number,
    N: number, C: number, S: number, scratch: number, B: number,
    ignoreIndex: number, eps: number, wsum: number, gscale: number, logProbs: number,
  ): number;
  xent_prob_f32(
    x: number, target: number, weight: number, loss: number, grad: number, scales: number,
    N: number, C: number, S: number, scratch: number, B: number,
    eps: number, gscale: number, logProbs: number,
  ): number;
}

const PAGE = 65536;
/** Floats of scratch for K-dim inputs: blocks of B positions are gathered into B rows of C classes. */
const SCRATCH_FLOATS = 1 << 14;

let memoryLimit = 256 * 2 ** 20;

/** Caps the WASM memory xent grows to (bytes, default 256 MiB); larger jobs run in chunks of rows. A
 *  single row (C * d1 * ... * dK floats) larger than the cap still runs, in a memory just large enough. */
export function setWasmMemoryLimit(bytes: number): void {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < PAGE) {
    throw new RangeError(`setWasmMemoryLimit: expected an integer number of bytes >= ${PAGE}, got ${String(bytes)}`);
  }
  memoryLimit = bytes;
}

export function wasmBytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(WASM_BASE64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

const align16 = (n: number) => (n + 15) & ~15;

/** Lays out consecutive 16-byte aligned regions of the given byte sizes from `start`; returns their
 *  offsets followed by the end offset. */
function regions(start: number, ...sizes: number[]): number[] {
  const out: number[] = [];
  let p = align16(start);
  for (const s of sizes) {
    out.push(p);
    p = align16(p + s);
  }
  out.push(p);
  return out;
}

export class WasmKernels implements Kernels {
  readonly name = 'wasm' as const;
  private readonly ex: Exports;
  private readonly base: number;
  private f32 = new Float32Array(0);
  private i32 = new Int32Array(0);

  constructor(instance: WebAssembly.Instance) {
    this.ex = instance.exports as unknown as Exports;
    const abi = this.ex.ABI_VERSION?.value;
    if (abi !== ABI_VERSION) throw new Error(`xent.wasm ABI version ${abi} does not match the loader's ${ABI_VERSION}`);
    this.base = align16(this.ex.heap_base());
  }

  /** Current size of the module's memory in bytes (it never shrinks: wasm memory cannot). */
  get memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /** Grows memory to hold `end` bytes and re-derives the views if the buffer changed. */
  private reserve(end: number): void {
    const mem = this.ex.memory;
    const have = mem.buffer.byteLength;
    if (end > have) mem.grow(Math.ceil((end - have) / PAGE));
    if (this.f32.buffer !== mem.buffer) {
      this.f32 = new Float32Array(mem.buffer);
      this.i32 = new Int32Array(mem.buffer);
    }
  }

  /** Rows (units of n) per chunk so that fixed + rows * perRow bytes stays under the limit. */
  private rowsPerChunk(N: number, fixed: number, perRow: number): number {
    return Math.max(1, Math.min(N, Math.floor((memoryLimit - fixed) / perRow)));
  }

  private blockSize(C: number, S: number): number {
    return S === 1 ? 1 : Math.min(S, Math.max(4, Math.floor(SCRATCH_FLOATS / C)));
  }

  xent(job: XentJob): number {
    const { x, N, C, S, index, prob, weight, loss, grad, scales } = job;
    if (N * S === 0) return 0;
    const slab = C * S; // floats per n
    const B = this.blockSize(C, S);
    const scratchBytes = S === 1 ? 0 : B * C * 4 * (prob ? 2 : 1);
    const [wp, sp, chunkStart] = regions(this.base, C * 4, scratchBytes);
    const perRow = 4 * (slab * (prob ? 2 : 1) + S * ((index ? 1 : 0) + (loss ? 1 : 0) + (scales ? 1 : 0))) + 5 * 16;
    const rows = this.rowsPerChunk(N, chunkStart, perRow);
    let wsum = 0;
    for (let c = 0; c < C; c++) wsum += weight ? weight[c] : 1;
    let total = 0;
    for (let n0 = 0; n0 < N; n0 += rows) {
      const r = Math.min(rows, N - n0);
      const [xp, tp, lp, gp, end] = regions(chunkStart, r * slab * 4, r * (prob ? slab : S) * 4, loss ? r * S * 4 : 0, scales ? r * S * 4 : 0);
      this.reserve(end);
      const { f32, i32 } = this;
      if (weight) f32.set(weight, wp >> 2);
      else f32.fill(1, wp >> 2, (wp >> 2) + C);
      f32.set(x.subarray(n0 * slab, (n0 + r) * slab), xp >> 2);
      if (index) i32.set(index.subarray(n0 * S, (n0 + r) * S), tp >> 2);
      else f32.set(prob!.subarray(n0 * slab, (n0 + r) * slab), tp >> 2);
      if (scales) f32.set(scales.subarray(n0 * S, (n0 + r) * S), gp >> 2);
      const gradPtr = grad ? xp : 0; // the gradient overwrites the logits' copy
      const logProbs = job.logProbs ? 1 : 0;
      total += index
        ? this.ex.xent_index_f32(xp, tp, wp, loss ? lp : 0, gradPtr, scales ? gp : 0, r, C, S, sp, B, IGNORED, job.eps, wsum, job.gscale, logProbs)
        : this.ex.xent_prob_f32(xp, tp, wp, loss ? lp : 0, gradPtr, scales ? gp : 0, r, C, S, sp, B, job.eps, job.gscale, logProbs);
      if (loss) loss.set(f32.subarray(lp >> 2, (lp >> 2) + r * S), n0 * S);
      if (grad) grad.set(f32.subarray(xp >> 2, (xp >> 2) + r * slab), n0 * slab);
    }
    return total;
  }

  classOp(op: ClassOp, x: Float32Array, N: number, C: number, S: number, out: Float32Array): void {
    if (N * S === 0 || C === 0) return;
    const slab = C * S;
    const B = this.blockSize(C, S);
    const [sp, chunkStart] = regions(this.base, S === 1 ? 0 : B * C * 4);
    const reduce = op === 'logsumexp';
    const rows = this.rowsPerChunk(N, chunkStart, 4 * (slab + (reduce ? S : 0)) + 32);
    const kernel = reduce ? this.ex.logsumexp_f32 : op === 'log_softmax' ? this.ex.log_softmax_f32 : this.ex.softmax_f32;
    for (let n0 = 0; n0 < N; n0 += rows) {
      const r = Math.min(rows, N - n0);
      const [xp, op_, end] = regions(chunkStart, r * slab * 4, reduce ? r * S * 4 : 0);
      this.reserve(end);
      this.f32.set(x.subarray(n0 * slab, (n0 + r) * slab), xp >> 2);
      const outPtr = reduce ? op_ : xp; // log_softmax and softmax run in place
      kernel(xp, outPtr, r, C, S, sp, B);
      const width = reduce ? S : slab;
      out.set(this.f32.subarray(outPtr >> 2, (outPtr >> 2) + r * width), n0 * width);
    }
  }
}
