// Buffers that move between a pool and its workers (or, shared, stage its arguments), kept for the next
// call: a fresh 65 MB array per call costs more than the call (its pages are faulted in and zeroed). At
// most `max` are kept, whatever their sizes (the oldest go first); the others are left to the garbage
// collector.
export class BufferCache {
  /** The kept buffers, the oldest first. */
  private readonly kept: ArrayBuffer[] = [];
  constructor(private readonly max: number, private readonly make: (bytes: number) => ArrayBuffer = (bytes) => new ArrayBuffer(bytes)) {}

  /** A buffer of `bytes` bytes: a kept one (the newest), or a new one. */
  take(bytes: number): ArrayBuffer {
    for (let i = this.kept.length - 1; i >= 0; i--) if (this.kept[i].byteLength === bytes) return this.kept.splice(i, 1)[0];
    return this.make(bytes);
  }

  /** Keeps a buffer that came back (not a detached one); when full, the oldest kept one goes, so that the
   *  cache follows the sizes in use. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0) return;
    if (this.kept.length >= this.max) this.kept.shift();
    this.kept.push(buffer);
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
