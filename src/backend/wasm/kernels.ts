// The WebAssembly backend's jobs: each job is copied into the module's memory in chunks of rows (cache-sized,
// and never more than the memory limit), one kernel call per chunk, the results copied out; arrays that
// already live in the module's memory are used where they are.
import { checkInteger } from '../../args.ts';
import { IGNORED, type BceJob, type ClassOp, type JobResult, type Kernels, type XentJob } from '../types.ts';
import { PAGE, regions, WasmHeap } from './heap.ts';
import { exportsOf, type Exports } from './module.ts';

/** Floats of scratch for K-dim inputs: blocks of B positions are gathered into B rows of C classes. */
const SCRATCH_FLOATS = 1 << 14;

let memoryLimit = 256 * 2 ** 20;
/** Bytes of input per kernel call: small enough that the chunk just copied in is still in L2 when the
 *  kernel reads it, so the copy costs little more than the read it replaces. */
const CHUNK_BYTES = 512 * 1024;

/** Caps the WASM memory xent grows to (bytes, default 256 MiB); larger jobs run in chunks of rows. A
 *  single row (C * d1 * ... * dK floats) larger than the cap still runs, in a memory just large enough. */
export function setWasmMemoryLimit(bytes: number): void {
  checkInteger('setWasmMemoryLimit: bytes', bytes);
  if (bytes < PAGE) throw new RangeError(`setWasmMemoryLimit: expected an integer number of bytes >= ${PAGE}, got ${bytes}`);
  memoryLimit = bytes;
}

/** f32[to + k] = src[(start + k) % src.length] for k < count: a last-axis array as bce_logits_f32 reads it. */
function setPeriodic(f32: Float32Array, to: number, src: Float32Array, start: number, count: number): void {
  for (let k = 0; k < count;) {
    const s = (start + k) % src.length, c = Math.min(count - k, src.length - s);
    f32.set(src.subarray(s, s + c), to + k);
    k += c;
  }
}

/** @internal The wasm backend; not part of the published types (they must not need WebAssembly's). */
export class WasmKernels implements Kernels {
  readonly name = 'wasm' as const;
  private readonly ex: Exports;
  /** The module's memory: allocFloat32's blocks (memory.ts) and the per-call arena. */
  readonly heap: WasmHeap;

  constructor(instance: WebAssembly.Instance) {
    this.ex = exportsOf(instance);
    this.heap = new WasmHeap(this.ex.memory, this.ex.heap_base());
  }

  /** Current size of the module's memory in bytes (it never shrinks: wasm memory cannot). */
  get memoryBytes(): number {
    return this.heap.memoryBytes;
  }

  /** Rows (units of n) per chunk so that fixed + rows * perRow bytes stays under the limits. */
  private rowsPerChunk(N: number, fixed: number, perRow: number): number {
    // the limit caps the per-call arena, which starts after the caller's allocF32 blocks
    const budget = Math.min(memoryLimit - (fixed - this.heap.base), CHUNK_BYTES);
    return Math.max(1, Math.min(N, Math.floor(budget / perRow)));
  }

  private blockSize(C: number, S: number): number {
    return S === 1 ? 1 : Math.min(S, Math.max(4, Math.floor(SCRATCH_FLOATS / C)));
  }

  xent(job: XentJob): JobResult {
    const { x, N, C, S, index, prob, weight, loss, grad, scales } = job;
    const stats = index && job.lse && job.entropy ? { lse: job.lse, entropy: job.entropy } : null;
    if (N * S === 0) return { total: 0, zTotal: 0, grad };
    const slab = C * S; // floats per n
    // arrays already in module memory are used where they are; the others are copied a chunk at a time
    // half-precision logits are copied as they are and widened into an f32 chunk by the kernel
    const half = job.half;
    const xDirect = !half && this.heap.inMemory(x as Float32Array), pDirect = this.heap.inMemory(prob), gDirect = this.heap.inMemory(grad);
    // addresses now: growing the memory below detaches these views, and a detached view's byteOffset is 0
    const xAt = x.byteOffset, pAt = prob?.byteOffset ?? 0, gAt = grad?.byteOffset ?? 0, gLen = grad?.length ?? 0;
    const gradInPlace = grad !== null && (grad === x || (!gDirect && !xDirect)); // overwrite x's chunk copy
    const gradRegion = grad !== null && !gDirect && !gradInPlace;
    const B = this.blockSize(C, S);
    const scratchBytes = S === 1 ? 0 : B * C * 4 * (prob ? 2 : 1);
    // the call's totals come back at tot: f64 loss total, f64 z total
    const [wp, sp, tot, chunkStart] = regions(this.heap.base, C * 4, scratchBytes, 16);
    const { softcap } = job; // the capped logits go to a region of their own: the gradient needs them
    const perRow = 4 * (slab * ((xDirect ? 0 : 1) + (prob && !pDirect ? 1 : 0) + (gradRegion ? 1 : 0) + (half ? 0.5 : 0) + (softcap ? 1 : 0)) +
      S * ((index ? 1 : 0) + (loss ? 1 : 0) + (scales ? 1 : 0) + (stats ? 2 : 0))) + 9 * 16;
    const rows = this.rowsPerChunk(N, chunkStart, perRow);
    let wsum = 0;
    for (let c = 0; c < C; c++) wsum += weight ? weight[c] : 1;
    const logProbs = job.logProbs ? 1 : 0;
    let total = 0, zTotal = 0;
    const { invT, zLoss } = job;
    for (let n0 = 0; n0 < N; n0 += rows) {
      const r = Math.min(rows, N - n0);
      const [xc, tc, pc, lp, sc, gc, hc, cc, ec, hp, end] = regions(
        chunkStart, xDirect ? 0 : r * slab * 4, index ? r * S * 4 : 0, prob && !pDirect ? r * slab * 4 : 0,
        loss ? r * S * 4 : 0, scales ? r * S * 4 : 0, gradRegion ? r * slab * 4 : 0, half ? r * slab * 2 : 0,
        softcap ? r * slab * 4 : 0, stats ? r * S * 4 : 0, stats ? r * S * 4 : 0,
      );
      this.heap.reserve(end);
      const { f32, i32 } = this.heap;
      if (n0 === 0) { // the weights stay where they are for every chunk (growth keeps memory's contents)
        if (weight) f32.set(weight, wp / 4);
        else f32.fill(1, wp / 4, (wp / 4) + C);
      }
      let xp = xc;
      if (half) {
        this.heap.u16.set(x.subarray(n0 * slab, (n0 + r) * slab) as Uint16Array, hc / 2);
        this.ex.half_to_f32(hc, xc, r * slab, half);
      } else if (xDirect) xp = xAt + n0 * slab * 4;
      else f32.set(x.subarray(n0 * slab, (n0 + r) * slab) as Float32Array, xc / 4);
      let tp = tc;
      if (index) i32.set(index.subarray(n0 * S, (n0 + r) * S), tc / 4);
      else if (pDirect) tp = pAt + n0 * slab * 4;
      else f32.set(prob!.subarray(n0 * slab, (n0 + r) * slab), (tp = pc) / 4);
      if (scales) f32.set(scales.subarray(n0 * S, (n0 + r) * S), sc / 4);
      const gp = !grad ? 0 : gDirect ? gAt + n0 * slab * 4 : gradInPlace ? xp : gc;
      // soft-capping (with the temperature folded in) makes the capped copy the kernel's input
      const kx = softcap ? (this.ex.softcap_f32(xp, cc, r * slab, softcap, invT), cc) : xp;
      const kT = softcap ? 1 : invT;
      // the running totals go into each call, which adds its rows in order: the sums do not depend on the chunks
      if (index) {
        this.ex.xent_index_f32(
          kx, tp, wp, loss ? lp : 0, gp, scales ? sc : 0, r, C, S, sp, B, IGNORED, job.eps, wsum, job.gscale, logProbs, kT, zLoss,
          stats ? ec : 0, stats ? hp : 0, total, zTotal, tot,
        );
      } else this.ex.xent_prob_f32(kx, tp, wp, loss ? lp : 0, gp, scales ? sc : 0, r, C, S, sp, B, job.eps, job.gscale, logProbs, kT, zLoss, total, zTotal, tot);
      const totals = new Float64Array(this.heap.buffer, tot, 2);
      total = totals[0];
      zTotal = totals[1];
      if (softcap && grad) this.ex.softcap_grad_f32(cc, gp, r * slab, softcap, invT);
      if (loss) loss.set(f32.subarray(lp / 4, (lp / 4) + r * S), n0 * S);
      if (stats) {
        stats.lse.set(f32.subarray(ec / 4, (ec / 4) + r * S), n0 * S);
        stats.entropy.set(f32.subarray(hp / 4, (hp / 4) + r * S), n0 * S);
      }
      if (grad && !gDirect) grad.set(f32.subarray(gp / 4, (gp / 4) + r * slab), n0 * slab);
    }
    return { total, zTotal, grad: this.heap.live(grad, gDirect, gAt, gLen) };
  }

  bce(job: BceJob): JobResult {
    const { x, y, R, L, weight, wMode, posWeight, loss, grad, scales } = job;
    const n = R * L;
    if (n === 0) return { total: 0, zTotal: 0, grad };
    const gDirect = this.heap.inMemory(grad), gAt = grad?.byteOffset ?? 0, gLen = grad?.length ?? 0;
    // BCE is elementwise: chunks of whole summation blocks, whatever the shape
    const block = this.ex.BCE_BLOCK.value;
    const axisArrays = (wMode === 1 ? 1 : 0) + (posWeight ? 1 : 0); // indexed by the last-axis position
    const perElem = 4 * (2 + (wMode === 2 ? 1 : 0) + (loss ? 1 : 0) + (scales ? 1 : 0) + axisArrays);
    const per = block * this.rowsPerChunk(Math.ceil(n / block), this.heap.base, perElem * block + 8 * 16);
    // last-axis arrays no longer than a chunk are written once (periodically extended: the kernel reads 4 at
    // a time from any position); longer ones, a chunk's window at a time
    const once = L <= per;
    const [wp, pp, chunkStart] = regions(this.heap.base, once && wMode === 1 ? (L + 3) * 4 : 0, once && posWeight ? (L + 3) * 4 : 0);
    let total = 0;
    for (let at = 0; at < n; at += per) {
      const m = Math.min(per, n - at), win = once ? 0 : (m + 3) * 4;
      const [xc, yc, wc, lc, sc, wwin, pwin, end] = regions(
        chunkStart, m * 4, m * 4, wMode === 2 ? m * 4 : 0, loss ? m * 4 : 0, scales ? m * 4 : 0,
        wMode === 1 ? win : 0, posWeight ? win : 0,
      );
      this.heap.reserve(end);
      const { f32 } = this.heap;
      if (once && at === 0) { // written once: they stay where they are for every chunk
        if (wMode === 1) setPeriodic(f32, wp / 4, weight!, 0, L + 3);
        if (posWeight) setPeriodic(f32, pp / 4, posWeight, 0, L + 3);
      } else if (!once) {
        if (wMode === 1) setPeriodic(f32, wwin / 4, weight!, at % L, m + 3);
        if (posWeight) setPeriodic(f32, pwin / 4, posWeight, at % L, m + 3);
      }
      f32.set(x.subarray(at, at + m), xc / 4);
      f32.set(y.subarray(at, at + m), yc / 4);
      if (wMode === 2) f32.set(weight!.subarray(at, at + m), wc / 4);
      if (scales) f32.set(scales.subarray(at, at + m), sc / 4);
      const gp = !grad ? 0 : gDirect ? gAt + at * 4 : xc; // the gradient overwrites the logits' copy
      total = this.ex.bce_logits_f32(
        xc, yc, wMode === 0 ? 0 : wMode === 1 ? (once ? wp : wwin) : wc, posWeight ? (once ? pp : pwin) : 0,
        loss ? lc : 0, gp, scales ? sc : 0, m, L, once ? at % L : 0, wMode, job.gscale, total,
      );
      if (loss) loss.set(this.heap.f32.subarray(lc / 4, (lc / 4) + m), at);
      if (grad && !gDirect) grad.set(this.heap.f32.subarray(xc / 4, (xc / 4) + m), at);
    }
    return { total, zTotal: 0, grad: this.heap.live(grad, gDirect, gAt, gLen) };
  }

  classOp(op: ClassOp, x: Float32Array, N: number, C: number, S: number, out: Float32Array): Float32Array {
    if (N * S === 0 || C === 0) return out;
    const slab = C * S;
    const reduce = op === 'logsumexp';
    const width = reduce ? S : slab; // output floats per n
    const xDirect = this.heap.inMemory(x), oDirect = this.heap.inMemory(out);
    const xAt = x.byteOffset, oAt = out.byteOffset, oLen = out.length; // before any growth detaches the views
    const B = this.blockSize(C, S);
    const [sp, chunkStart] = regions(this.heap.base, S === 1 ? 0 : B * C * 4);
    // log_softmax and softmax run in place over the chunk's copy of x when there is one
    const outRegion = !oDirect && (reduce || xDirect);
    const rows = this.rowsPerChunk(N, chunkStart, 4 * ((xDirect ? 0 : slab) + (outRegion ? width : 0)) + 32);
    const kernel = reduce ? this.ex.logsumexp_f32 : op === 'log_softmax' ? this.ex.log_softmax_f32 : this.ex.softmax_f32;
    for (let n0 = 0; n0 < N; n0 += rows) {
      const r = Math.min(rows, N - n0);
      const [xc, oc, end] = regions(chunkStart, xDirect ? 0 : r * slab * 4, outRegion ? r * width * 4 : 0);
      this.heap.reserve(end);
      const xp = xDirect ? xAt + n0 * slab * 4 : (this.heap.f32.set(x.subarray(n0 * slab, (n0 + r) * slab), xc / 4), xc);
      const outPtr = oDirect ? oAt + n0 * width * 4 : outRegion ? oc : xp;
      kernel(xp, outPtr, r, C, S, sp, B);
      if (!oDirect) out.set(this.heap.f32.subarray(outPtr / 4, (outPtr / 4) + r * width), n0 * width);
    }
    return this.heap.live(out, oDirect, oAt, oLen)!;
  }
}
