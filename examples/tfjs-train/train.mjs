// Trains a two-layer MLP with tf.train.adam on seeded Gaussian clusters, twice from the same initial
// weights and batches: once with tfjs's own loss (tf.losses.softmaxCrossEntropy on one-hot labels) and
// once with xent/tfjs's crossEntropyLoss (class indices, xent's fused gradient). Prints how closely the
// two loss curves agree step by step and the median time per step of the loss (forward + gradient
// w.r.t. the logits) and of the whole training step, and writes build/tfjs-train-curves.svg (with --update:
// curves.svg next to this file, the README's).
//
//   npm run example:tfjs                  (builds, then runs on tfjs's wasm backend)
//   node examples/tfjs-train/train.mjs cpu
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { crossEntropyLoss, init } from '../../dist/tfjs.js';
import { mulberry32 } from '../../bench/random.mjs';

const BACKEND = process.argv[2] ?? 'wasm';
const PROBLEMS = [
  // classes, features, hidden units, training points, batch, steps, learning rate
  { C: 10, D: 32, H: 64, points: 4096, batch: 256, steps: 120, lr: 0.01, spread: 1.5 },
  { C: 1000, D: 64, H: 256, points: 8192, batch: 512, steps: 60, lr: 0.003, spread: 1.0 },
];

/** mulberry32, and normal deviates from it (Box-Muller): the same data and weights on every machine. */
function rng(seed) {
  const next = mulberry32(seed);
  next.normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return next;
}

/** C Gaussian clusters in D dimensions: centres ~ N(0, 1), points = centre + spread * N(0, 1) / sqrt(D)... */
function clusters({ C, D, points, spread }, seed) {
  const r = rng(seed);
  const centres = Float32Array.from({ length: C * D }, () => r.normal());
  const x = new Float32Array(points * D);
  const y = new Int32Array(points);
  for (let i = 0; i < points; i++) {
    const c = Math.floor(r() * C);
    y[i] = c;
    for (let d = 0; d < D; d++) x[i * D + d] = centres[c * D + d] + spread * r.normal();
  }
  return { x, y };
}

/** Glorot-uniform weights and zero biases, as plain arrays (each run makes its own variables). */
function initialWeights({ C, D, H }, seed) {
  const r = rng(seed);
  const glorot = (fanIn, fanOut) => {
    const a = Math.sqrt(6 / (fanIn + fanOut));
    return Float32Array.from({ length: fanIn * fanOut }, () => (r() * 2 - 1) * a);
  };
  return { w1: glorot(D, H), b1: new Float32Array(H), w2: glorot(H, C), b2: new Float32Array(C) };
}

const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };

function train(problem, data, weights, lossName) {
  const { C, D, H, points, batch, steps, lr } = problem;
  const w1 = tf.variable(tf.tensor2d(weights.w1, [D, H]));
  const b1 = tf.variable(tf.tensor1d(weights.b1));
  const w2 = tf.variable(tf.tensor2d(weights.w2, [H, C]));
  const b2 = tf.variable(tf.tensor1d(weights.b2));
  const model = (xb) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(xb, w1), b1)), w2), b2);
  const lossOf = lossName === 'xent'
    ? (logits, yb) => crossEntropyLoss(logits, yb)
    : (logits, yb) => tf.losses.softmaxCrossEntropy(tf.oneHot(yb, C), logits);
  const optimizer = tf.train.adam(lr);
  const losses = [], stepMs = [], lossMs = [];
  let tensorsAfterFirstStep = 0;
  for (let step = 0; step < steps; step++) {
    const start = ((step * batch) % points);
    const xb = tf.tensor2d(data.x.subarray(start * D, (start + batch) * D), [batch, D]);
    const yb = tf.tensor1d(data.y.subarray(start, start + batch), 'int32');
    // the loss step alone: forward + gradient w.r.t. these logits (what the loss costs inside a step)
    tf.tidy(() => {
      const logits = model(xb);
      const t0 = performance.now();
      const { value, grad } = tf.valueAndGrad((l) => lossOf(l, yb))(logits);
      value.dataSync();
      lossMs.push(performance.now() - t0);
      tf.dispose([value, grad]);
    });
    // the whole training step
    const t0 = performance.now();
    const loss = tf.tidy(() => optimizer.minimize(() => lossOf(model(xb), yb), true).dataSync()[0]);
    stepMs.push(performance.now() - t0);
    losses.push(loss);
    tf.dispose([xb, yb]);
    if (step === 0) tensorsAfterFirstStep = tf.memory().numTensors; // the optimizer's state now exists
  }
  // every step ran in tf.tidy: the later steps left no tensor behind
  const leaked = tf.memory().numTensors - tensorsAfterFirstStep;
  optimizer.dispose();
  tf.dispose([w1, b1, w2, b2]);
  return { losses, lossMs: median(lossMs.slice(2)), stepMs: median(stepMs.slice(2)), leaked };
}

function svgPanel(x0, y0, w, h, problem, runs) {
  const all = runs.flatMap((r) => r.losses);
  const max = Math.max(...all) * 1.05, min = Math.min(0, Math.min(...all));
  const n = runs[0].losses.length;
  const px = (i) => x0 + 50 + (i / (n - 1)) * (w - 70);
  const py = (v) => y0 + 20 + (1 - (v - min) / (max - min)) * (h - 60);
  const path = (l) => l.map((v, i) => `${i ? 'L' : 'M'}${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => min + f * (max - min));
  return [
    `<text x="${x0 + w / 2}" y="${y0 + 12}" text-anchor="middle" font-weight="bold">${problem.C} classes: ` +
      `MLP ${problem.D}-${problem.H}-${problem.C}, batch ${problem.batch}, adam ${problem.lr}</text>`,
    `<line x1="${px(0)}" y1="${py(min)}" x2="${px(n - 1)}" y2="${py(min)}" stroke="#444"/>`,
    `<line x1="${px(0)}" y1="${py(min)}" x2="${px(0)}" y2="${py(max)}" stroke="#444"/>`,
    ...ticks.map((v) => `<text x="${px(0) - 6}" y="${py(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(2)}</text>`),
    `<text x="${px(0)}" y="${py(min) + 16}" font-size="11">0</text>`,
    `<text x="${px(n - 1)}" y="${py(min) + 16}" text-anchor="end" font-size="11">step ${n}</text>`,
    `<path d="${path(runs[0].losses)}" fill="none" stroke="#e8710a" stroke-width="5" stroke-opacity="0.45"/>`,
    `<path d="${path(runs[1].losses)}" fill="none" stroke="#1a73e8" stroke-width="1.5"/>`,
    `<text x="${x0 + w - 20}" y="${y0 + 40}" text-anchor="end" font-size="12">max |diff| ${runs.maxDiff.toExponential(1)} ` +
      `(relative ${runs.maxRel.toExponential(1)})</text>`,
    `<text x="${x0 + w - 20}" y="${y0 + 58}" text-anchor="end" font-size="12">loss step: tfjs ${runs[0].lossMs.toFixed(2)} ms, ` +
      `xent ${runs[1].lossMs.toFixed(2)} ms</text>`,
  ].join('\n');
}

await init();
await tf.setBackend(BACKEND);
await tf.ready();
if (BACKEND === 'cpu') tf.backend().firstUse = false; // silences tfjs-cpu's advert for tfjs-node
console.log(`xent/tfjs training example | tfjs ${tf.version.tfjs}, backend ${tf.getBackend()} | Node ${process.version}`);
const results = [];
let ok = true;
for (const [k, problem] of PROBLEMS.entries()) {
  const data = clusters(problem, 100 + k);
  const weights = initialWeights(problem, 200 + k);
  const runs = [train(problem, data, weights, 'tfjs'), train(problem, data, weights, 'xent')];
  let maxDiff = 0, maxRel = 0;
  for (let i = 0; i < runs[0].losses.length; i++) {
    const d = Math.abs(runs[0].losses[i] - runs[1].losses[i]);
    maxDiff = Math.max(maxDiff, d);
    maxRel = Math.max(maxRel, d / Math.abs(runs[0].losses[i]));
  }
  Object.assign(runs, { maxDiff, maxRel });
  const agree = maxRel < 1e-4;
  ok &&= agree && runs.every((r) => r.leaked === 0);
  console.log(`\n${problem.C} classes, ${problem.steps} steps (MLP ${problem.D}-${problem.H}-${problem.C}, batch ${problem.batch}):`);
  console.log(`  loss  step 1 ${runs[0].losses[0].toFixed(4)} -> step ${problem.steps} ${runs[0].losses.at(-1).toFixed(4)} (tfjs), ` +
    `${runs[1].losses[0].toFixed(4)} -> ${runs[1].losses.at(-1).toFixed(4)} (xent)`);
  console.log(`  curves: max |diff| ${maxDiff.toExponential(2)}, max relative ${maxRel.toExponential(2)} ${agree ? 'agree' : 'DISAGREE'}`);
  console.log(`  median loss step (forward + grad): tfjs ${runs[0].lossMs.toFixed(3)} ms, xent ${runs[1].lossMs.toFixed(3)} ms ` +
    `(${(runs[0].lossMs / runs[1].lossMs).toFixed(1)}x)`);
  console.log(`  median whole step:                 tfjs ${runs[0].stepMs.toFixed(3)} ms, xent ${runs[1].stepMs.toFixed(3)} ms ` +
    `(${(runs[0].stepMs / runs[1].stepMs).toFixed(2)}x)`);
  console.log(`  tensors left by steps 2 to ${problem.steps} (tfjs, xent): ${runs.map((r) => r.leaked).join(', ')}` +
    `${runs.some((r) => r.leaked) ? ' LEAK' : ''}`);
  results.push({ problem, runs });
}

const W = 900, P = 420;
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${P + 50}" viewBox="0 0 ${W} ${P + 50}" ` +
    `font-family="sans-serif" font-size="13">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  ...results.map(({ problem, runs }, k) => svgPanel(k * (W / 2), 10, W / 2, P, problem, runs)),
  `<line x1="280" y1="${P + 30}" x2="310" y2="${P + 30}" stroke="#e8710a" stroke-width="5" stroke-opacity="0.45"/>`,
  `<text x="316" y="${P + 34}">tf.losses.softmaxCrossEntropy</text>`,
  `<line x1="530" y1="${P + 30}" x2="560" y2="${P + 30}" stroke="#1a73e8" stroke-width="1.5"/>`,
  `<text x="566" y="${P + 34}">xent/tfjs crossEntropyLoss</text>`,
  `<text x="${W / 2}" y="${P + 8}" text-anchor="middle" font-size="11" fill="#555">training loss per step, same ` +
    `initial weights and batches (tfjs ${tf.version.tfjs}, ${tf.getBackend()} backend)</text>`,
  '</svg>',
].join('\n');
// the committed chart (the README's) only with --update (npm run example:tfjs:update); otherwise an
// ignored path, so that a run leaves the working tree as it was
const out = process.argv.includes('--update')
  ? new URL('./curves.svg', import.meta.url)
  : new URL('../../build/tfjs-train-curves.svg', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, svg + '\n');
console.log(`\nwrote ${out.pathname}`);
if (!ok) process.exitCode = 1;
