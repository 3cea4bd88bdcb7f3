// The cost of crossEntropy's options against the plain call, on the bench shapes: temperature, zLoss,
// softcap, and half-precision (bfloat16) logits. Medians, wasm backend, all in one run; printed as
// time ratios (1.00x = as fast as the plain call). Run with `npm run bench:options` (builds first).
import { crossEntropy, crossEntropyWithGrad, init, setBackend } from '../dist/index.js';
import { mulberry32 } from './random.mjs';

const SHAPES = [[4096, 10], [2048, 1000], [512, 32000], [64, 128256], [16, 262144]];
const median = (fn, reps) => {
  const ts = [];
  for (let k = 0; k < reps; k++) {
    const t = performance.now();
    fn();
    ts.push(performance.now() - t);
  }
  return ts.sort((a, b) => a - b)[ts.length >> 1];
};

if ((await init()) !== 'wasm') throw new Error('the options bench measures the wasm backend');
setBackend('wasm');
console.log('time of each variant / time of the plain call (median), forward | with gradient');
for (const [i, [N, C]] of SHAPES.entries()) {
  const rand = mulberry32(7 + i);
  const data = Float32Array.from({ length: N * C }, () => 6 * rand() - 3);
  const bf16 = new Uint16Array(new Uint32Array(data.buffer).map((u) => u >>> 16)); // truncated to bfloat16
  const targets = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
  const out = new Float32Array(N * C);
  const reps = Math.max(9, Math.min(300, Math.floor(3e8 / (N * C))));
  const variants = [
    ['plain', { data, shape: [N, C] }, {}],
    ['temperature 0.7', { data, shape: [N, C] }, { temperature: 0.7 }],
    ['zLoss 1e-4', { data, shape: [N, C] }, { zLoss: 1e-4 }],
    ['softcap 30', { data, shape: [N, C] }, { softcap: 30 }],
    ['bfloat16 input', { data: bf16, shape: [N, C], dtype: 'bfloat16' }, {}],
  ];
  const times = variants.map(([, input, opts]) => [
    median(() => crossEntropy(input, targets, opts), reps),
    median(() => crossEntropyWithGrad(input, targets, { ...opts, out }), reps),
  ]);
  const [f0, g0] = times[0];
  console.log(`${N} x ${C} (plain: ${f0.toFixed(2)} ms, ${g0.toFixed(2)} ms)`);
  variants.slice(1).forEach(([name], k) => {
    const [f, g] = times[k + 1];
    console.log(`  ${name.padEnd(16)} ${(f / f0).toFixed(2)}x | ${(g / g0).toFixed(2)}x`);
  });
}
