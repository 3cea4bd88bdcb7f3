// node bench/builds.mjs [dist/index.js] : interleaved medians (ms), baseline build vs relaxed build, in one process (Node 24;
// Node 20 with --experimental-wasm-relaxed-simd). Run npm run build first.
const m = await import(process.argv[2] ?? new URL('../dist/index.js', import.meta.url).href);
const shapes = [[2048, 1000], [512, 32000], [64, 128256]];
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const med = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];
const use = (relaxed) => { m.setBackend('wasm', { relaxed }); return m.getBackendInfo().build; };
if (use(true) !== 'relaxed-simd') throw new Error('no relaxed build on this engine: ' + m.getBackendInfo().buildReason);
const rows = [];
for (const [N, C] of shapes) {
  const data = Float32Array.from({ length: N * C }, () => (rnd() - 0.5) * 8);
  const t = Int32Array.from({ length: N }, () => Math.floor(rnd() * C));
  const out = new Float32Array(N * C), x = { data, shape: [N, C] };
  const ops = { crossEntropy: () => m.crossEntropy(x, t), 'crossEntropyWithGrad (out)': () => m.crossEntropyWithGrad(x, t, { out }), logSumExp: () => m.logSumExp(x) };
  for (const [name, f] of Object.entries(ops)) {
    const ta = [], tb = [];
    const reps = Math.max(1, Math.round(2e6 / (N * C)));
    for (const r of [false, true]) { use(r); f(); f(); }
    for (let k = 0; k < 21; k++) for (const [r, arr] of [[false, ta], [true, tb]]) {
      use(r);
      const t0 = performance.now(); for (let i = 0; i < reps; i++) f(); arr.push((performance.now() - t0) / reps);
    }
    rows.push(`| ${N} x ${C} | ${name} | ${med(ta).toFixed(3)} | ${med(tb).toFixed(3)} | ${(med(tb) / med(ta)).toFixed(3)} |`);
  }
}
console.log(process.version + '\n| shape | op | simd ms | relaxed ms | relaxed/simd |\n|---|---|---|---|---|\n' + rows.join('\n'));
