// The pool's buffer cache (src/pool-buffers.ts): it hands back kept buffers of the asked size, keeps at
// most its bound whatever comes back (so a pool's memory stays flat), the newest first (so it follows the
// sizes in use), and never keeps a detached buffer.
import { describe, expect, it } from 'vitest';
import { BufferCache, ownedBuffers } from '../src/pool-buffers.ts';

describe('BufferCache', () => {
  it('reuses kept buffers by size, and keeps at most its bound, the newest', () => {
    const cache = new BufferCache(3);
    const a = new ArrayBuffer(64), b = new ArrayBuffer(128);
    cache.give(a);
    cache.give(b);
    expect(cache.take(64)).toBe(a);
    expect(cache.take(64)).not.toBe(a); // none left of that size: a new one
    const many = Array.from({ length: 10 }, () => new ArrayBuffer(32));
    many.forEach((m) => cache.give(m));
    const back = Array.from({ length: 10 }, () => cache.take(32));
    // the last three given filled its 3 places: b, the oldest, went (the cache follows the sizes in use)
    expect(back.filter((m) => many.includes(m))).toEqual([many[9], many[8], many[7]]);
    expect(cache.take(128)).not.toBe(b);
    cache.give(new ArrayBuffer(0)); // a detached buffer reads as 0 bytes: not kept
    expect(cache.take(0)).not.toBe(undefined);
  });

  it('ownedBuffers finds whole-buffer arrays in a result, not views into a larger buffer', () => {
    const grad = new Float32Array(8), view = new Float32Array(new ArrayBuffer(64), 16, 4);
    expect(ownedBuffers({ loss: 1, grad, view })).toEqual([grad.buffer]);
    expect(ownedBuffers(grad)).toEqual([grad.buffer]);
    expect(ownedBuffers(3)).toEqual([]);
  });
});
