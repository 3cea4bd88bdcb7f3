// Seeded data for tests: a small PRNG (mulberry32) and the generators built on it.

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function randomLogits(rand: () => number, n: number, scale = 3): Float32Array {
  return Float32Array.from({ length: n }, () => randn(rand) * scale);
}

/** Class indices in [0, C), with roughly `ignoredShare` of them set to ignoreIndex. */
export function randomIndices(rand: () => number, n: number, C: number, ignoreIndex = -100, ignoredShare = 0): Int32Array {
  return Int32Array.from({ length: n }, () => (rand() < ignoredShare ? ignoreIndex : Math.floor(rand() * C)));
}

/** Probability rows along the class axis of an (N, C, S) layout (each position's classes sum to 1). */
export function randomProbs(rand: () => number, N: number, C: number, S: number): Float32Array {
  const p = new Float32Array(N * C * S);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const e = Array.from({ length: C }, () => Math.exp(randn(rand) * 2));
      const z = e.reduce((a, b) => a + b, 0);
      e.forEach((v, c) => (p[(n * C + c) * S + s] = v / z));
    }
  }
  return p;
}
