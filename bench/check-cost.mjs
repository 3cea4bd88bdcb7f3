// The cost of crossEntropy's `check` option: 'warn' (diagnose() runs first) against 'off' (the default,
// no extra pass), and diagnose() alone, on the bench shapes, wasm backend. Medians (tinybench p50).
// Run: npm run build && node bench/check-cost.mjs [--quick]
import { Bench } from 'tinybench';
import { crossEntropy, crossEntropyWithGrad, diagnose, getBackend, setDiagnosticsHandler } from '../dist/index.js';

const SHAPES = [[4096, 10], [2048, 1000], [512, 32000], [64, 128256], [16, 262144]];
const quick = process.argv.includes('--quick');

// deterministic logits like a half-trained model's: N(0, 2) noise, the target 3 above the rest
function problem(N, C) {
  let s = 0x9e3779b9;
  const rand = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 4294967296);
  const data = new Float32Array(N * C);
  for (let i = 0; i < data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rand() + 1e-12));
    const a = 2 * Math.PI * rand();
    data[i] = 2 * r * Math.cos(a);
    if (i + 1 < data.length) data[i + 1] = 2 * r * Math.sin(a);
  }
  const target = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    target[n] = Math.floor(rand() * C);
    data[n * C + target[n]] += 3;
  }
  return { input: { data, shape: [N, C] }, target };
}

setDiagnosticsHandler(() => {}); // findings (there should be none) must not print
let sink = 0;
const consume = (v) => { sink += typeof v === 'number' ? v : v.loss; };
const rows = [];
for (const [N, C] of SHAPES) {
  const { input, target } = problem(N, C);
  const findings = diagnose(input, target);
  if (findings.length) throw new Error(`${N}x${C}: unexpected findings ${findings.map((f) => f.code)}`);
  const out = new Float32Array(N * C);
  const bench = new Bench({ time: quick ? 200 : 1000, warmupTime: quick ? 50 : 200 });
  bench.add('off', () => consume(crossEntropy(input, target)));
  bench.add('warn', () => consume(crossEntropy(input, target, { check: 'warn' })));
  bench.add('grad off', () => consume(crossEntropyWithGrad(input, target, { out })));
  bench.add('grad warn', () => consume(crossEntropyWithGrad(input, target, { out, check: 'warn' })));
  bench.add('diagnose', () => { sink += diagnose(input, target).length; });
  process.stderr.write(`  ${N} x ${C}... `);
  await bench.run();
  process.stderr.write('done\n');
  const p50 = Object.fromEntries(bench.tasks.map((t) => {
    if (t.result.state !== 'completed') throw new Error(`${t.name}: ${t.result.state}`);
    return [t.name, t.result.latency.p50];
  }));
  rows.push({ N, C, ...p50 });
}

const ms = (v) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
console.log(`\ncheck cost, backend ${getBackend()}, Node ${process.version}, medians (p50)\n`);
console.log('| shape (N x C) | crossEntropy off | warn | warn / off | WithGrad off | warn | warn / off | diagnose alone |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.N} x ${r.C} | ${ms(r.off)} | ${ms(r.warn)} | ${(r.warn / r.off).toFixed(2)}x | ` +
    `${ms(r['grad off'])} | ${ms(r['grad warn'])} | ${(r['grad warn'] / r['grad off']).toFixed(2)}x | ${ms(r.diagnose)} |`);
}
if (Number.isNaN(sink)) console.log('(sink NaN)');
