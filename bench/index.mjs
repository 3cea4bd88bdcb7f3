// xent benchmark suite (tinybench 6): ops x shapes x implementations, medians (p50) and throughput.
// Run with `npm run bench` (builds first). Raw results go to bench/results/latest.json.
//
// An implementation is { name, setup({ N, C, logits, targets }) -> ops }, where ops may define
// forward() (mean cross-entropy), withGrad() (mean cross-entropy and its gradient), logSumExp() and
// logSoftmax() over the last axis; an op it leaves out is skipped. Peers (tfjs, a PyTorch server, ...)
// are added by appending to IMPLEMENTATIONS.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Bench } from 'tinybench';
import {
  crossEntropy, crossEntropyWithGrad, getBackendInfo, init, logSoftmax, logSumExp, setBackend,
} from '../dist/index.js';

const SHAPES = [[4096, 10], [2048, 1000], [512, 32000], [64, 128256], [16, 262144]];
const OPS = [
  { name: 'crossEntropy', key: 'forward' },
  { name: 'crossEntropyWithGrad', key: 'withGrad' },
  { name: 'logSumExp', key: 'logSumExp' },
  { name: 'logSoftmax', key: 'logSoftmax' },
];
// Per task: at least `time` ms and `iterations` calls, whichever takes longer. The slowest task (js
// crossEntropyWithGrad at 512 x 32000, ~0.6 s a call) thus gets 7 samples and the fast ones hundreds;
// the whole grid takes ~2 min on 2 cores.
const BENCH_OPTIONS = { time: 2000, warmupTime: 200, iterations: 7, warmupIterations: 2, throws: true };

/** xent on one backend. setBackend is called inside each op (a cheap flag) because tasks of different
 *  backends are interleaved, so that each wasm/js pair is measured close together in time. */
function xent(backend) {
  return {
    name: `xent-${backend}`,
    setup({ N, C, logits, targets }) {
      const input = { data: logits, shape: [N, C] };
      // A training loop reuses its gradient buffer; passing `out` keeps an allocation of the size of
      // the logits out of the timing. (logSoftmax has no `out` option and allocates its result.)
      const out = new Float32Array(N * C);
      return {
        forward: () => (setBackend(backend), crossEntropy(input, targets)),
        withGrad: () => (setBackend(backend), crossEntropyWithGrad(input, targets, { out })),
        logSumExp: () => (setBackend(backend), logSumExp(input)),
        logSoftmax: () => (setBackend(backend), logSoftmax(input)),
      };
    },
  };
}

// mulberry32: a tiny seeded PRNG, so that every run sees the same inputs.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Logits uniform in [-3, 3) and uniform class targets. */
function makeInputs(N, C, seed) {
  const rand = mulberry32(seed);
  const logits = new Float32Array(N * C);
  for (let i = 0; i < logits.length; i++) logits[i] = 6 * rand() - 3;
  const targets = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
  return { N, C, logits, targets };
}

// Every result feeds the sink, printed at the end, so no call can be optimised away.
let sink = 0;
function consume(r) {
  if (typeof r === 'number') sink += r;
  else if (r instanceof Float32Array) sink += r[0];
  else sink += r.loss + r.grad[0];
}

const backend = await init();
const IMPLEMENTATIONS = backend === 'wasm' ? [xent('wasm'), xent('js')] : [xent('js')];
const BASELINE = 'xent-wasm'; // the speedup column compares every other implementation with this one

const env = {
  node: process.version,
  v8: process.versions.v8,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  platform: `${os.platform()} ${os.arch()}`,
  date: new Date().toISOString(),
  xent: getBackendInfo(),
  tinybench: JSON.parse(readFileSync(new URL('../node_modules/tinybench/package.json', import.meta.url), 'utf8')).version,
  options: BENCH_OPTIONS,
};
console.log(`xent bench | Node ${env.node} | ${env.cpu} (${env.cores} cores) | ${env.date}`);
if (backend !== 'wasm') console.log(`wasm unavailable (${env.xent.wasmUnavailable}); benchmarking js only`);

const results = [];
const started = performance.now();
for (const [i, [N, C]] of SHAPES.entries()) {
  // One Bench per shape, so that only one shape's inputs are alive at a time.
  const inputs = makeInputs(N, C, 1234 + i);
  const bench = new Bench({ name: `${N}x${C}`, ...BENCH_OPTIONS });
  const meta = new Map();
  const impls = IMPLEMENTATIONS.map((impl) => ({ name: impl.name, ops: impl.setup(inputs) }));
  for (const op of OPS) {
    for (const impl of impls) {
      const fn = impl.ops[op.key];
      if (!fn) continue;
      const name = `${op.name} ${N}x${C} ${impl.name}`;
      meta.set(name, { op: op.name, N, C, impl: impl.name });
      bench.add(name, () => consume(fn()));
    }
  }
  process.stderr.write(`  running ${N} x ${C} (${bench.tasks.length} tasks)... `);
  await bench.run();
  process.stderr.write(`${((performance.now() - started) / 1e3).toFixed(0)} s elapsed\n`);
  for (const task of bench.tasks) {
    const { latency, state } = task.result;
    if (state !== 'completed') throw new Error(`${task.name}: ${state}`);
    results.push({
      ...meta.get(task.name),
      p50: latency.p50, mean: latency.mean, samples: latency.samplesCount, rme: latency.rme,
      gLogitsPerSec: (N * C) / (latency.p50 / 1e3) / 1e9,
    });
  }
}

setBackend('auto');
env.xent = getBackendInfo(); // after the runs: wasmMemoryBytes is a high-water mark

// Table --------------------------------------------------------------------------------------------------
const cols = [
  ['op', 20, (r) => r.op],
  ['shape', 12, (r) => `${r.N}x${r.C}`],
  ['impl', 10, (r) => r.impl],
  ['median ms', 10, (r) => r.p50.toFixed(3)],
  ['G logits/s', 10, (r) => r.gLogitsPerSec.toFixed(3)],
  ['±%', 6, (r) => r.rme.toFixed(1)],
  ['n', 6, (r) => String(r.samples)],
  [`${BASELINE.replace('xent-', '')} x faster`, 13, (r) => {
    const base = results.find((b) => b.impl === BASELINE && b.op === r.op && b.N === r.N && b.C === r.C);
    return base && r !== base ? `${(r.p50 / base.p50).toFixed(2)}x` : '';
  }],
];
const row = (cells) => cells.map((c, j) => (j < 3 ? c.padEnd(cols[j][1]) : c.padStart(cols[j][1]))).join('  ');
console.log();
console.log(row(cols.map((c) => c[0])));
console.log(row(cols.map((c) => '-'.repeat(c[1]))));
for (const op of OPS) {
  for (const r of results.filter((x) => x.op === op.name)) console.log(row(cols.map((c) => c[2](r))));
}
console.log(`\nmedian = p50 latency per call; ±% = relative margin of error of the mean; n = samples;`);
console.log(`${BASELINE.replace('xent-', '')} x faster = that implementation's median / ${BASELINE}'s.`);
console.log(`total ${((performance.now() - started) / 1e3).toFixed(1)} s (sink ${sink.toPrecision(3)})`);

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('latest.json', dir), `${JSON.stringify({ env, results }, null, 2)}\n`);
console.log('raw results: bench/results/latest.json');
