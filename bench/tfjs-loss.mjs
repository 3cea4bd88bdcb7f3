// `npm run bench:tfjs`: the loss step of a tfjs training loop, forward + gradient w.r.t. the logits
// through tf.valueAndGrad, with xent/tfjs's crossEntropyLoss vs tfjs's own tf.losses.softmaxCrossEntropy
// (one-hot labels; its hand-written gradient is tfjs's fastest), on the tfjs wasm backend, in one run.
// xent's time includes every copy between tfjs and xent (logits out of tfjs's WASM heap, the gradient
// back in). Medians; prints the ratio tfjs / xent per shape and PASS/FAIL against the 10x target.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Bench } from 'tinybench';
import { crossEntropyLoss, init } from '../dist/tfjs.js';
import { mulberry32 } from './random.mjs';

const SHAPES = process.argv.length > 2 ? process.argv.slice(2).map((s) => s.split('x').map(Number)) : [[2048, 1000], [512, 32000]];
const NEED = 10;
const OPTIONS = { time: 1000, warmupTime: 200, iterations: 5, warmupIterations: 2, throws: true };

await init();
await tf.setBackend('wasm');
await tf.ready();
console.log(`xent/tfjs loss step bench | tfjs ${tf.version.tfjs} backend ${tf.getBackend()} | Node ${process.version}`);
let failed = false;
const rows = [];
for (const [N, C] of SHAPES) {
  const rand = mulberry32(N * 31 + C);
  const logits = new Float32Array(N * C);
  for (let i = 0; i < logits.length; i++) logits[i] = rand() * 6 - 3;
  const targets = new Int32Array(N);
  for (let i = 0; i < N; i++) targets[i] = Math.floor(rand() * C);
  const x = tf.tensor2d(logits, [N, C]);
  const t = tf.tensor1d(targets, 'int32');
  const oneHot = tf.tidy(() => tf.oneHot(t, C).toFloat());
  const xentStep = tf.valueAndGrad((x) => crossEntropyLoss(x, t));
  const tfStep = tf.valueAndGrad((x) => tf.losses.softmaxCrossEntropy(oneHot, x));
  // read back the loss; the gradient stays a tensor, as an optimizer uses it (wasm ops run eagerly, so it
  // is complete when valueAndGrad returns)
  const run = (step) => tf.tidy(() => { const { value } = step(x); value.dataSync(); });
  const before = tf.memory().numTensors;
  const bench = new Bench(OPTIONS);
  bench.add('xent/tfjs', () => run(xentStep));
  bench.add('tfjs softmaxCrossEntropy', () => run(tfStep));
  await bench.run();
  if (tf.memory().numTensors !== before) throw new Error(`leaked ${tf.memory().numTensors - before} tensors`);
  const [xent, tfjs] = bench.tasks.map((task) => task.result.latency.p50);
  const ratio = tfjs / xent;
  const ok = ratio >= NEED;
  failed ||= !ok;
  rows.push({ N, C, xent, tfjs, ratio });
  console.log(`${N} x ${C}: xent/tfjs ${xent.toFixed(2)} ms, tfjs ${tfjs.toFixed(2)} ms, ratio ${ratio.toFixed(1)}x ` +
    `(target ${NEED}x) ${ok ? 'PASS' : 'FAIL'}`);
  tf.dispose([x, t, oneHot]);
}
console.log('\n| N x C | xent/tfjs step (ms) | tfjs softmaxCrossEntropy step (ms) | ratio |\n|---|--:|--:|--:|');
for (const r of rows) console.log(`| ${r.N} x ${r.C} | ${r.xent.toFixed(2)} | ${r.tfjs.toFixed(1)} | ${r.ratio.toFixed(1)}x |`);
if (failed) process.exitCode = 1;
