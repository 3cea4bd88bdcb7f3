// The per-engine kernel suite (tinybench): each kernel of the wasm backend on each build the engine runs
// ('simd'; 'relaxed-simd' where the engine has relaxed SIMD), next to the exp-sum ceiling of the same
// build. Engine-neutral: bench/engines.mjs runs it on Node, Deno and Bun through bench/kernels-cli.mjs and
// in Chromium through bench/engines.html.
import { Bench } from 'tinybench';
import { mulberry32 } from './random.mjs';

export const GRID = [[4096, 10], [2048, 1000], [512, 32000], [64, 128256], [16, 262144]];
/** The shape of the kernels timed at one shape only (the softmax family and its backward, token scoring,
 *  BCE, KL, distillation). */
const WIDE = [512, 32000];
const BUILDS = { simd: 'testing.wasm', 'relaxed-simd': 'testing-relaxed.wasm' };

/** Logits uniform in [-3, 3), uniform class targets, probabilities for BCE and KL targets. */
function inputs(N, C, seed) {
  const rand = mulberry32(seed);
  const logits = Float32Array.from({ length: N * C }, () => 6 * rand() - 3);
  const targets = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
  const probs = Float32Array.from({ length: N * C }, () => rand());
  return { N, C, logits, targets, probs };
}

/** The timed calls at one shape: [name, () => result]. Outputs are reused (`out`), as a training loop does. */
function calls(x, { N, C, logits, targets, probs }, wide) {
  const input = { data: logits, shape: [N, C] }, out = new Float32Array(N * C), lse = new Float32Array(N);
  const list = [
    ['crossEntropy', () => x.crossEntropy(input, targets)],
    ['crossEntropyWithGrad', () => x.crossEntropyWithGrad(input, targets, { out })],
    ['logSumExp', () => x.logSumExp(input, { out: lse })],
  ];
  if (!wide) return list;
  const flat = { data: logits, shape: [N * C] }, p = { data: probs, shape: [N * C] };
  const teacher = { data: probs.map((v) => 6 * v - 3), shape: [N, C] };
  const y = {
    logSoftmax: { data: x.logSoftmax(input), shape: [N, C] }, softmax: { data: x.softmax(input), shape: [N, C] },
    lse: { data: x.logSumExp(input), shape: [N] },
  };
  return list.concat([
    ['logSoftmax', () => x.logSoftmax(input, { out })],
    ['softmax', () => x.softmax(input, { out })],
    ['tokenLogProbs', () => x.tokenLogProbs(input, targets)],
    ['binaryCrossEntropyWithLogits', () => x.binaryCrossEntropyWithLogits(flat, p)],
    ['binaryCrossEntropyWithLogitsWithGrad', () => x.binaryCrossEntropyWithLogitsWithGrad(flat, p, { out })],
    ['klDiv', () => x.klDiv(flat, p)],
    ['klDivWithGrad', () => x.klDivWithGrad(flat, p, { out })],
    // the backward ops take the forward's output (its input for logSumExp) and an upstream gradient
    ['logSoftmaxBackward', () => x.logSoftmaxBackward(input, y.logSoftmax, { out })],
    ['softmaxBackward', () => x.softmaxBackward(input, y.softmax, { out })],
    ['logSumExpBackward', () => x.logSumExpBackward(y.lse, input, { out })],
    ['logSumExpBackward given result', () => x.logSumExpBackward(y.lse, input, { out, result: y.lse })],
    ['distillationLossWithGrad', () => x.distillationLossWithGrad(input, teacher, { temperature: 2, out })],
  ]);
}

/** exp_sum_f32 of a build's test module (build/testing*.wasm) over the rows minus their maxima: the
 *  plainest exp-and-sum loop over all N*C floats (no max pass, no per-row work), the ceiling of logsumexp. */
export function ceiling(bytes, { N, C, logits }) {
  const { memory, heap_base: heapBase, exp_sum_f32: expSum } = new WebAssembly.Instance(
    new WebAssembly.Module(bytes), { env: { abort() { throw new Error('abort'); } } }).exports;
  const ptr = (heapBase() + 15) & ~15;
  const missing = ptr + logits.byteLength - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
  const shifted = new Float32Array(memory.buffer, ptr, N * C);
  for (let n = 0; n < N; n++) {
    const row = logits.subarray(n * C, (n + 1) * C);
    let max = -Infinity;
    for (const v of row) max = v > max ? v : max;
    for (let c = 0; c < C; c++) shifted[n * C + c] = row[c] - max;
  }
  return () => expSum(ptr, N * C);
}

/**
 * Times every call on every build at `shapes`: rows of { op, N, C, build, ms (median per call), samples }.
 * `xent` is the package (dist/index.js), `readTesting(file)` the bytes of build/<file>. A sample runs a
 * call often enough to take about 2 ms, so that a browser's coarse clock (0.1 ms) does not show.
 */
export async function measure(xent, readTesting, { shapes = GRID, time = 300 } = {}) {
  if ((await xent.init()) !== 'wasm') throw new Error(`no wasm backend: ${xent.getBackendInfo().wasmUnavailable}`);
  const builds = [];
  for (const build of Object.keys(BUILDS)) {
    xent.setBackend('wasm', { relaxed: build !== 'simd' });
    if (xent.getBackendInfo().build === build) builds.push({ build, testing: await readTesting(BUILDS[build]) });
  }
  xent.setBackend('auto');
  const picked = xent.getBackendInfo().build;
  const rows = [];
  let sink = 0;
  for (const [i, [N, C]] of shapes.entries()) {
    const data = inputs(N, C, 1234 + i);
    const wide = N === WIDE[0] && C === WIDE[1];
    const reps = Math.max(1, Math.round(2e6 / (N * C)));
    for (const [op, call] of calls(xent, data, wide).concat([['exp-sum ceiling', null]])) {
      for (const { build, testing } of builds) { // the builds of an op one after the other, close in time
        xent.setBackend('wasm', { relaxed: build !== 'simd' });
        const f = call ?? ceiling(testing, data);
        const bench = new Bench({ time, warmupTime: 50, iterations: 5, warmupIterations: 2, throws: true });
        bench.add(op, () => { for (let r = 0; r < reps; r++) { const v = f(); sink += typeof v === 'number' ? v : v.loss ?? v[0]; } });
        await bench.run();
        const { latency, state } = bench.tasks[0].result;
        if (state !== 'completed') throw new Error(`${op} ${N}x${C} ${build}: ${state}`);
        rows.push({ op, N, C, build, ms: latency.p50 / reps, samples: latency.samplesCount });
      }
    }
  }
  xent.setBackend('auto');
  return { picked, builds: builds.map((b) => b.build), rows, sink };
}

/** The engine running this script, e.g. 'node 24.22.3', 'deno 2.9.6', 'bun 1.4.5'. */
export function engineName() {
  if (globalThis.Deno) return `deno ${Deno.version.deno}`;
  if (globalThis.Bun) return `bun ${Bun.version}`;
  if (globalThis.process?.versions?.node) return `node ${process.versions.node}`;
  return navigator.userAgent.match(/(Chrom\w+)\/([\d.]+)/)?.slice(1).join(' ') ?? navigator.userAgent;
}
