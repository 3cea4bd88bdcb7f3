// createPool against the synchronous calls, same run, medians (`npm run bench:pool`, or
// `path/to/node bench/pool.mjs` on a built package for another Node):
// - crossEntropy and crossEntropyWithGrad at 2048x1000, 512x32000, 64x128256, 16x262144: synchronous (zero-copy
//   arrays from xent.allocFloat32, and ordinary arrays), and through a pool of 1 and 2 workers with inputs and
//   out in pool.allocFloat32 memory (shared), and with ordinary arrays (staged into shared memory);
// - what the copying costs here: one thread's and two threads' copy bandwidth, and the staging copy of one
//   call's input on the calling thread;
// - the bound on a 2-way split at that moment: two threads each running the same synchronous calls at once
//   (bench/compute-probe.mjs), measured in each round, as the machine's cores are shared;
// - a call's fixed cost through the pool (1x1000 on a default pool runs on the calling thread; 66x1000
//   through the workers);
// - a projection for 8 and 16 workers from the 1-worker time and the fixed part;
// - how long the calling thread is still blocked by a pool call, against the synchronous call.
// Prints markdown tables.
import { Worker } from 'node:worker_threads';
import * as xent from '../dist/index.js';
import { mulberry32, normals } from './random.mjs';

const SHAPES = [[2048, 1000], [512, 32000], [64, 128256], [16, 262144]];
const ROUNDS = Number(process.env.XENT_BENCH_ROUNDS ?? 3);

/** Median milliseconds of an async fn over at least 7 runs and 0.6 s, after a warmup. */
async function median(fn) {
  for (let i = 0; i < 2; i++) await fn();
  const times = [];
  const start = performance.now();
  while (times.length < 7 || performance.now() - start < 600) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
const mid = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const f = (v, d = 2) => v.toFixed(d);

/** Two compute-probe threads (bench/compute-probe.mjs); `probe()` the median call of both at once (the
 *  slower one's), on the shape `probeShape` gave them. */
const probes = Array.from({ length: 2 }, () => new Worker(new URL('./compute-probe.mjs', import.meta.url)));
const reply = (w) => new Promise((res) => w.once('message', res));
const probeShape = (shape, grad) => Promise.all(probes.map((w) => (w.postMessage({ shape, grad }), reply(w))));
const probe = async () => Math.max(...(await Promise.all(probes.map((w) => (w.postMessage({ ms: 600 }), reply(w))))));

/** GB/s of copying 128 MB with TypedArray#set on `threads` threads at once (each its own arrays). */
async function copyBandwidth(threads) {
  const code = `const { parentPort } = require('node:worker_threads');
    const n = 32 << 20, a = new Float32Array(n).fill(1), b = new Float32Array(n);
    for (let i = 0; i < 2; i++) b.set(a);
    const t0 = performance.now(); for (let i = 0; i < 5; i++) b.set(a);
    parentPort.postMessage((performance.now() - t0) / 5);`;
  const ws = Array.from({ length: threads }, () => new Worker(code, { eval: true }));
  const ms = await Promise.all(ws.map((w) => new Promise((res) => w.once('message', res))));
  await Promise.all(ws.map((w) => w.terminate()));
  return (threads * 128) / 1024 / (Math.max(...ms) / 1000);
}

await xent.init();
const info = xent.getBackendInfo();
// syncBelow 0: every call goes to the workers (the default keeps calls below 2^22 values on this thread)
const pools = { 1: await xent.createPool({ workers: 1, syncBelow: 0 }), 2: await xent.createPool({ workers: 2, syncBelow: 0 }) };
const byDefault = await xent.createPool({ workers: 2 });
console.log(`${process.release.name} ${process.version}, backend ${info.name} (${info.build}), pool mode ${pools[2].info.mode}, ${ROUNDS} rounds, medians of the rounds' medians\n`);

const bw1 = await copyBandwidth(1), bw2 = await copyBandwidth(2);
console.log(`copy bandwidth (TypedArray#set, 128 MB): 1 thread ${f(bw1)} GB/s, 2 threads at once ${f(bw2)} GB/s in all (${f(bw2 / bw1)}x)\n`);

// the fixed cost of a call: on the calling thread below pool.syncBelow, a round trip above it
const tiny = { data: normals(mulberry32(1), 1000, 2), shape: [1, 1000] }, tinyIds = Int32Array.of(3);
const small = { data: normals(mulberry32(2), 66 * 1000, 2), shape: [66, 1000] }, smallIds = Int32Array.from({ length: 66 }, (_, i) => i);
const fixed = { s1: [], p1: [], s66: [], p66: [] };
for (let k = 0; k < ROUNDS; k++) {
  fixed.s1.push(await median(() => xent.crossEntropy(tiny, tinyIds)));
  fixed.p1.push(await median(() => byDefault.crossEntropy(tiny, tinyIds)));
  fixed.s66.push(await median(() => xent.crossEntropy(small, smallIds)));
  fixed.p66.push(await median(() => pools[2].crossEntropy(small, smallIds)));
}
console.log(`fixed cost: crossEntropy 1x1000 sync ${f(mid(fixed.s1), 3)} ms, default pool ${f(mid(fixed.p1), 3)} ms (below its syncBelow, ${byDefault.syncBelow} values: on the calling thread); ` +
  `66x1000 sync ${f(mid(fixed.s66), 3)} ms, through the workers ${f(mid(fixed.p66), 3)} ms`);
// F: the fixed part of a pool call, the 66x1000 round trip (one block: one worker) less its compute; a call
// that wakes two workers pays at least this
const F = Math.max(0, mid(fixed.p66) - mid(fixed.s66));
console.log(`fixed part of a pool call F = ${f(F, 3)} ms\n`);

console.log("bound: the sync zero-copy time over half of what a call takes in each of two threads running the same calls at once, each on arrays of its own (bench/compute-probe.mjs), measured in each round: the speed-up of a perfect 2-way split with what two threads' compute gives at that moment; with the fixed cost F: the same split plus a pool call's fixed part (the 66x1000 round trip less its compute), what a pool can reach\n");
console.log('| call | shape | sync zero-copy ms | sync ordinary ms | pool 1 worker, shared ms | pool 2 workers, shared ms | 2 workers vs sync zero-copy (>= 1.8) | bound: two threads compute | bound with the fixed cost F | vs sync ordinary | pool 2 workers, ordinary arrays ms | vs sync ordinary | staging copy of the input ms |');
console.log('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
const projection = [];
for (const [N, C] of SHAPES) {
  const rand = mulberry32(N * 3 + C);
  const logits = normals(rand, N * C, 2);
  const labels = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
  const zx = xent.allocFloat32(N * C), zo = xent.allocFloat32(N * C);
  zx.data.set(logits);
  // each pool's own memory: another pool's arrays are ordinary arrays to it (staged)
  const px = pools[2].allocFloat32(N * C), po = pools[2].allocFloat32(N * C), px1 = pools[1].allocFloat32(N * C), po1 = pools[1].allocFloat32(N * C);
  px.data.set(logits);
  px1.data.set(logits);
  const plainOut = new Float32Array(N * C), staging = new Float32Array(new SharedArrayBuffer(N * C * 4));
  for (const grad of [false, true]) {
    const run = (api, x, out) => (grad ? api.crossEntropyWithGrad({ data: x(), shape: [N, C] }, labels, { out: out() }) : api.crossEntropy({ data: x(), shape: [N, C] }, labels));
    const r = { sz: [], so: [], p1: [], p2: [], pp: [], copy: [], c2: [] };
    await probeShape([N, C], grad);
    for (let k = 0; k < ROUNDS; k++) {
      r.sz.push(await median(() => run(xent, () => zx.data, () => zo.data)));
      r.so.push(await median(() => run(xent, () => logits, () => plainOut)));
      r.p1.push(await median(() => run(pools[1], () => px1.data, () => po1.data)));
      r.p2.push(await median(() => run(pools[2], () => px.data, () => po.data)));
      r.c2.push(await probe());
      r.pp.push(await median(() => run(pools[2], () => logits, () => plainOut)));
      r.copy.push(await median(() => staging.set(logits)));
    }
    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, mid(v)]));
    const name = grad ? 'crossEntropyWithGrad' : 'crossEntropy';
    console.log(`| ${name} | ${N}x${C} | ${f(m.sz)} | ${f(m.so)} | ${f(m.p1)} | ${f(m.p2)} | ${f(m.sz / m.p2)} | ${f(m.sz / (m.c2 / 2))} | ${f(m.sz / (m.c2 / 2 + F))} | ${f(m.so / m.p2)} | ${f(m.pp)} | ${f(m.so / m.pp)} | ${f(m.copy)} |`);
    projection.push({ name, N, C, p1: m.p1, p2: m.p2, sz: m.sz, blocks: Math.ceil(N / Math.max(1, Math.floor((1 << 18) / C))) });
  }
  zx.free(); zo.free(); px.free(); po.free(); px1.free(); po1.free();
}

// T(W) = F + (T1 - F) / min(W, blocks), F the fixed part measured above: the compute-bound projection;
// memory-bound calls are capped by the memory system (two threads copied at bw2 / bw1 times one thread's
// bandwidth here)
console.log(`\nprojection, compute-bound, from the 1-worker time T1 and a fixed part F = ${f(F, 3)} ms: T(W) = F + (T1 - F) / min(W, blocks), speed-up vs sync zero-copy\n`);
console.log('| call | shape | blocks | T1 ms | measured 2 workers | projected 2 | projected 8 | projected 16 |');
console.log('|---|---|--:|--:|--:|--:|--:|--:|');
for (const p of projection) {
  const T = (W) => F + (p.p1 - F) / Math.min(W, p.blocks);
  console.log(`| ${p.name} | ${p.N}x${p.C} | ${p.blocks} | ${f(p.p1)} | ${f(p.sz / p.p2)} | ${f(p.sz / T(2))} | ${f(p.sz / T(8))} | ${f(p.sz / T(16))} |`);
}
// how long the calling thread is still blocked: at the call, then at most at a time (a 1 ms timer's lateness)
{
  const [N, C] = [512, 32000];
  const logits = normals(mulberry32(9), N * C, 2), labels = Int32Array.from({ length: N }, (_, i) => i % C);
  const px = pools[2].allocFloat32(N * C), po = pools[2].allocFloat32(N * C), plainOut = new Float32Array(N * C);
  px.data.set(logits);
  const busy = async (start) => {
    const t0 = performance.now(), p = start(), atCall = performance.now() - t0;
    let worst = 0, last = performance.now();
    const tick = setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last - 1); last = now; }, 1);
    await p;
    clearInterval(tick);
    return { atCall, worst, total: performance.now() - t0 };
  };
  console.log(`\ncalling thread blocked, ${N}x${C} crossEntropyWithGrad, 2 workers (median of 9 by total time):`);
  for (const [name, start] of [
    ['sync', async () => xent.crossEntropyWithGrad({ data: logits, shape: [N, C] }, labels, { out: plainOut })],
    ['pool, pool.allocFloat32 input and out', () => pools[2].crossEntropyWithGrad({ data: px.data, shape: [N, C] }, labels, { out: po.data })],
    ['pool, ordinary arrays', () => pools[2].crossEntropyWithGrad({ data: logits, shape: [N, C] }, labels, { out: plainOut })],
  ]) {
    const runs = [];
    for (let i = 0; i < 9; i++) runs.push(await busy(start));
    const m = runs.sort((a, b) => a.total - b.total)[4];
    console.log(`- ${name}: ${f(m.atCall, 1)} ms at the call, then at most ${f(m.worst, 1)} ms at a time; done in ${f(m.total, 1)} ms`);
  }
  px.free(); po.free();
}
await Promise.all([...Object.values(pools), byDefault].map((p) => p.close()));
await Promise.all(probes.map((w) => w.terminate()));
