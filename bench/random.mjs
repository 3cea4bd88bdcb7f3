// Seeded inputs shared by the demo, the bench and the examples, so every run (and every machine) sees the
// same data. Plain ESM, because these run on dist/ with no TypeScript runtime (and the browser example loads
// it as served). The tests have the same generator in test/helpers/random.ts, where it is typed.

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n normal deviates with standard deviation sd, two per pair of draws (Box-Muller). */
export function normals(rand, n, sd) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = sd * Math.sqrt(-2 * Math.log(1 - rand())), a = 2 * Math.PI * rand();
    out[i] = r * Math.cos(a);
    out[i + 1] = r * Math.sin(a);
  }
  return out;
}
