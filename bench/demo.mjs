// xent demo: which backend runs, why the stable formulation matters, and how fast it is.
// Run with `npm run demo` (builds first). Plain ESM over the compiled dist/, so no TS runtime is needed.
import {
  crossEntropy, crossEntropyWithGrad, getBackendInfo, init, logSoftmax, setBackend, softmax,
} from '../dist/index.js';
import { mulberry32, normals } from './random.mjs';

const line = (label, value) => console.log(`  ${label.padEnd(36)} ${value}`);
const heading = (title) => console.log(`\n${title}`);
let failed = false;
const check = (ok, what) => {
  if (!ok) { failed = true; console.log(`  !! ${what}`); }
  return ok ? 'ok' : 'MISMATCH';
};

// 1. Backend ------------------------------------------------------------------------------------------
heading('1. Backend');
const backend = await init();
const info = getBackendInfo();
line('in use', backend);
if (backend === 'js') line('why not wasm', info.wasmUnavailable ?? 'setBackend chose js');
else line('wasm memory', `${(info.wasmMemoryBytes / 2 ** 20).toFixed(1)} MiB`);
const hasWasm = backend === 'wasm';

// 2. Stable vs naive ----------------------------------------------------------------------------------
heading('2. Stable vs naive cross-entropy');
{
  const x = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };
  const target = 3;
  const loss = crossEntropy(x, target);
  // softmax is float32, like a float32 tensor: p[3] = exp(-142) ~ 2e-62 is below float32's smallest
  // subnormal (1.4e-45), so it is 0 and the textbook -log(p) is Infinity.
  const p = softmax(x)[target];
  line('logits', '[10, 92, 30, -50, 40], target 3');
  line('xent crossEntropy', `${loss}  (${check(loss === 142, 'expected exactly 142')})`);
  line('naive -log(softmax(x)[3]) in f32', `${-Math.log(p)}  (softmax(x)[3] = ${p})`);
  line('logSoftmax(x)[3]', `${logSoftmax(x)[target]}`);
}
{
  // A widely copied write-up claims 2.0871 for this example; that is wrong. PyTorch's
  // F.cross_entropy(torch.tensor([1.2, 4.7, 3.1, 0.5, 2.9]), torch.tensor(2)) gives 1.9453.
  const loss = crossEntropy({ data: Float32Array.of(1.2, 4.7, 3.1, 0.5, 2.9), shape: [5] }, 2);
  line('logits', '[1.2, 4.7, 3.1, 0.5, 2.9], target 2');
  line('xent crossEntropy', `${loss.toFixed(4)}  (${check(Math.abs(loss - 1.9453) < 5e-5, 'expected 1.9453')}; PyTorch 1.9453)`);
}

// 3. A 512 x 32000 batch ------------------------------------------------------------------------------
const N = 512, C = 32000;
heading(`3. Batch of ${N} x ${C} (LLM-vocabulary logits, normal with sd 3, seeded)`);

const rand = mulberry32(42);
const logits = normals(rand, N * C, 3);
const targets = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
const input = { data: logits, shape: [N, C] };
// A training loop reuses its gradient buffer; passing `out` keeps a 64 MB allocation out of the timing.
const gradOut = new Float32Array(N * C);

const backends = hasWasm ? ['wasm', 'js'] : ['js'];
const mean = {};
for (const b of backends) {
  setBackend(b);
  mean[b] = crossEntropy(input, targets);
  line(`mean loss (${b})`, mean[b].toFixed(7));
}
if (hasWasm) {
  const rel = Math.abs(mean.wasm - mean.js) / Math.abs(mean.js);
  line('relative difference', `${rel.toExponential(2)}  (${check(rel <= 1e-6, 'wasm and js disagree beyond 1e-6')})`);
}

/** Median wall time in ms of `reps` calls, after one untimed warm-up call. */
function medianMs(fn, reps) {
  fn();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[reps >> 1];
}

const ops = [
  ['crossEntropy', () => crossEntropy(input, targets)],
  ['crossEntropyWithGrad', () => crossEntropyWithGrad(input, targets, { out: gradOut })],
];
const reps = { wasm: 7, js: 3 }; // js is ~3x slower: fewer runs keep the demo short
console.log(`\n  ${'op'.padEnd(22)} ${'backend'.padEnd(7)} ${'median ms'.padStart(10)} ${'G logits/s'.padStart(11)}   wasm/js`);
for (const [name, fn] of ops) {
  const ms = {};
  for (const b of backends) {
    setBackend(b);
    ms[b] = medianMs(fn, reps[b]);
    const ratio = b === 'js' && hasWasm ? `${(ms.js / ms.wasm).toFixed(2)}x` : '';
    const rate = (N * C) / (ms[b] / 1e3) / 1e9;
    console.log(`  ${name.padEnd(22)} ${b.padEnd(7)} ${ms[b].toFixed(1).padStart(10)} ${rate.toFixed(3).padStart(11)}   ${ratio}`);
  }
}
console.log(`  (median of ${backends.map((b) => `${reps[b]} ${b}`).join(' / ')} runs; wasm/js = how many times faster wasm is)`);
setBackend('auto');
if (failed) process.exitCode = 1;
