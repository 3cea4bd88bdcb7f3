// 16-bit floats in JavaScript: the JS backend, diagnose and the .npy reader widen half-precision values
// with these (the wasm backend does it in its kernels, a chunk at a time).

/** How logits are stored. The numbers are the wasm ABI's (half_to_f32's `kind`), so a job hands them to
 *  the kernels as they are; `none` is 0, so `if (half)` reads "is half precision". */
export const Half = { none: 0, float16: 1, bfloat16: 2 } as const;
export type Half = (typeof Half)[keyof typeof Half];
/** IEEE half (float16) or bfloat16. */
export type HalfKind = Exclude<Half, typeof Half.none>;

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
  if (kind === Half.bfloat16) {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16; // bfloat16 is the top half of an f32
  } else {
    const table = float16Values();
    for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  }
  return out;
}
