// A worker thread of bench/pool.mjs that runs synchronous xent calls on arrays of its own: two such threads
// at once measure what two threads' compute gives on this machine at that moment (the bound of a 2-worker
// pool, whose workers share the cores the same way).
import { parentPort } from 'node:worker_threads';
import * as xent from '../dist/index.js';
import { mulberry32, normals } from './random.mjs';

await xent.init();
let run = null;
parentPort.on('message', ({ shape, grad, ms }) => {
  if (shape) {
    const [N, C] = shape, rand = mulberry32(N * 3 + C);
    const x = xent.allocFloat32(N * C), out = xent.allocFloat32(N * C);
    x.data.set(normals(rand, N * C, 2));
    const labels = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
    run = () => (grad ? xent.crossEntropyWithGrad({ data: x.data, shape }, labels, { out: out.data }) : xent.crossEntropy({ data: x.data, shape }, labels));
    for (let i = 0; i < 3; i++) run();
    return parentPort.postMessage('ready');
  }
  // the median call over `ms` milliseconds
  const times = [], start = performance.now();
  while (times.length < 5 || performance.now() - start < ms) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  parentPort.postMessage(times[times.length >> 1]);
});
