// 16-bit floats in JavaScript: the JS backend and diagnose widen half-precision logits with these (the
// wasm backend does it in its kernels, a chunk at a time).

/** 1: IEEE half (float16), 2: bfloat16. */
export type HalfKind = 1 | 2;

let f16Table: Float32Array | null = null;

/** The f32 value of every float16 bit pattern (256 KiB, built on first use). */
function float16Values(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 31, man = h & 1023;
      f16Table[h] = exp === 0 ? sign * man * 2 ** -24 : exp === 31 ? (man ? NaN : sign * Infinity) : sign * (1 + man / 1024) * 2 ** (exp - 15);
    }
  }
  return f16Table;
}

/** The f32 values of 16-bit float bit patterns. */
export function halfToFloat32(bits: Uint16Array, kind: HalfKind): Float32Array {
  const out = new Float32Array(bits.length);
  if (kind === 2) {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16; // bfloat16 is the top half of an f32
  } else {
    const table = float16Values();
    for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  }
  return out;
}
