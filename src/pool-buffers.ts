// Buffers that move between a pool and its workers (or, shared, stage its arguments), kept for the next call: a fresh 65 MB array per call
// costs more than the call (its pages are faulted in and zeroed). At most `max` are kept, whatever their
// sizes; the others are left to the garbage collector.
export class BufferCache {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private kept = 0;
  constructor(private readonly max: number, private readonly make: (bytes: number) => ArrayBuffer = (bytes) => new ArrayBuffer(bytes)) {}

  /** A buffer of `bytes` bytes: a kept one, or a new one. */
  take(bytes: number): ArrayBuffer {
    const list = this.free.get(bytes);
    if (list?.length) {
      this.kept--;
      return list.pop()!;
    }
    return this.make(bytes);
  }

  /** Keeps a buffer that came back (not a detached one) while there is room. */
  give(buffer: ArrayBuffer): void {
    if (this.kept >= this.max || buffer.byteLength === 0) return;
    const list = this.free.get(buffer.byteLength) ?? [];
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.kept++;
  }
}

/** The whole-buffer typed arrays in a value (itself, or its arrays and fields, one level down). */
export function ownedBuffers(value: unknown): ArrayBuffer[] {
  const found: ArrayBuffer[] = [];
  const add = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && !found.includes(v.buffer)) found.push(v.buffer);
  };
  add(value);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) Object.values(value).forEach(add);
  return found;
}
