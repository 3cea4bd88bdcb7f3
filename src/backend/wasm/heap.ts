// The module's memory: the caller's allocFloat32 blocks, the per-call arena after them, and typed views
// that are re-derived whenever the memory has grown (growth detaches the old ones).
export const PAGE = 65536;
/** wasm32's address space: 65536 pages of 64 KiB. */
const MAX_BYTES = 2 ** 32;
/** The memory a pool shares with its workers' instances of the threads build (asconfig.json's threads
 *  targets): it may grow to wasm32's 4 GiB, and starts at the build's minimum. */
export const SHARED_MAX_PAGES = 65536;
export const SHARED_MIN_PAGES = 16;

// Byte offsets reach 4 GiB: plain arithmetic, never 32-bit integer operators (| & >> turn 2^31 negative)
const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** A block of module memory handed to the caller (allocF32), with 16 bytes of slack after it: the
 *  kernels read whole vectors, so the last row of an input may be read up to 12 bytes past its end. */
interface Block {
  ptr: number;
  bytes: number;
}

export class WasmHeap {
  f32 = new Float32Array(0);
  i32 = new Int32Array(0);
  u16 = new Uint16Array(0);
  f64 = new Float64Array(0);
  /** Live caller allocations, sorted by address; the per-call arena starts after the last one. */
  private readonly blocks: Block[] = [];
  private readonly heapBase: number;
  /** A pool worker's region of a shared memory (the calling thread allocated it): the per-call arena
   *  stays inside it, and the memory is never grown from here. Null: the arena follows the blocks. */
  arena: { at: number; bytes: number } | null = null;
  /** The buffers this memory has had: a shared memory's grows into a new SharedArrayBuffer while views
   *  of the older ones stay valid (a non-shared one detaches them). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(private readonly memory: WebAssembly.Memory, heapBase: number) {
    this.heapBase = align16(heapBase);
  }

  /** Current size of the module's memory in bytes (it never shrinks: wasm memory cannot). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** The module's memory, for callers that keep arrays in it (allocF32). */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** Where the per-call arena starts: after the caller's allocations. */
  get base(): number {
    if (this.arena) return align16(this.arena.at);
    const last = this.blocks[this.blocks.length - 1];
    return last ? align16(last.ptr + last.bytes + 16) : this.heapBase;
  }

  /** Grows memory to hold `end` bytes (plus the read slack) and re-derives the views if it grew. Called
   *  before anything is written: a memory that cannot grow leaves every array as it was. */
  reserve(end: number): void {
    const mem = this.memory;
    const have = mem.buffer.byteLength;
    if (this.arena && end + 16 > this.arena.at + this.arena.bytes) {
      throw new Error(`xent pool: a call needs ${end + 16 - this.arena.at} bytes of its worker's arena of ${this.arena.bytes}`);
    }
    if (end + 16 > have) {
      const want = end + 16;
      try {
        if (want > MAX_BYTES) throw new RangeError('beyond the 4 GiB of wasm32');
        mem.grow(Math.ceil((want - have) / PAGE));
      } catch (e) {
        throw new RangeError(
          `xent: cannot grow WASM memory from ${have} to ${want} bytes (${e instanceof Error ? e.message : String(e)}); ` +
          'free allocFloat32 arrays, or lower setWasmMemoryLimit so that calls run in smaller chunks',
        );
      }
    }
    if (this.f32.buffer !== mem.buffer) {
      this.buffers.add(mem.buffer);
      this.f32 = new Float32Array(mem.buffer);
      this.i32 = new Int32Array(mem.buffer);
      this.u16 = new Uint16Array(mem.buffer);
      this.f64 = new Float64Array(mem.buffer);
    }
  }

  /** Allocates `bytes` of module memory for the caller: the first gap between live blocks that fits,
   *  else after the last. Returns the byte offset. */
  alloc(bytes: number): number {
    let at = this.heapBase;
    let i = 0;
    for (; i < this.blocks.length; i++) {
      if (this.blocks[i].ptr >= at + bytes + 16) break;
      at = align16(this.blocks[i].ptr + this.blocks[i].bytes + 16);
    }
    this.reserve(at + bytes);
    this.blocks.splice(i, 0, { ptr: at, bytes });
    return at;
  }

  free(ptr: number): void {
    const i = this.blocks.findIndex((b) => b.ptr === ptr);
    if (i >= 0) this.blocks.splice(i, 1);
  }

  /** Whether bytes [at, at + bytes) of the memory lie inside one live block (allocF32). */
  inBlock(at: number, bytes: number): boolean {
    return this.blocks.some((b) => at >= b.ptr && at + bytes <= b.ptr + b.bytes);
  }

  /** `a`, a view of the module's memory at byte `at` of `length` floats, or, when the memory has grown
   *  since (detaching it), a fresh view of the same floats. */
  live(a: Float32Array, at: number, length: number): Float32Array {
    return a.buffer !== this.memory.buffer ? new Float32Array(this.memory.buffer, at, length) : a;
  }

  /** True when `a` is a view of the module's memory: the kernels can then use it in place. */
  inMemory(a: ArrayBufferView | null): boolean {
    // no view of the module's memory starts at 0 (its static data does), and reading .buffer of a small
    // array V8 keeps on its heap allocates an ArrayBuffer: the offset is checked first
    return a !== null && a.byteOffset !== 0 && (a.buffer === this.memory.buffer || (this.buffers.has(a.buffer) && a.buffer instanceof SharedArrayBuffer));
  }
}
