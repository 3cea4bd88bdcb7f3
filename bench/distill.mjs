// The distillation and backward ops against their references, one thread, medians (`npm run bench:distill`;
// XENT_NODE as for npm run bench is not needed: run it with the Node to measure):
// - distillationLossWithGrad (T 2, beta 0) vs the same step in PyTorch 1.13 (bench/torch_distill.py) and
//   vs crossEntropyWithGrad on the same shape (it reads one row instead of two), each with a reused `out`;
// - each backward op of the softmax family vs its forward.
// Prints a markdown table; the ratios are the figures issue-style targets are stated in.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as xent from '../dist/index.js';
import { mulberry32, normals } from './random.mjs';

const SHAPES = [[512, 32000], [64, 128256]];
const ROUNDS = Number(process.env.XENT_BENCH_ROUNDS ?? 3);

/** Median milliseconds of fn over at least 5 runs and 1.5 s, after a warmup. */
function median(fn) {
  for (let i = 0; i < 2; i++) fn();
  const times = [];
  const start = performance.now();
  while (times.length < 5 || performance.now() - start < 1500) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
const mid = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

await xent.init();
const info = xent.getBackendInfo();
console.log(`${process.release.name} ${process.version}, backend ${info.name} (${info.build}), ${ROUNDS} rounds, medians of the rounds' medians\n`);
console.log('| shape | distill+grad ms | PyTorch ms | vs PyTorch (>= 3) | CE+grad ms | distill / CE (<= 1.6) | backward / forward: logSoftmax, softmax, logSumExp (<= 1.3) |');
console.log('|---|--:|--:|--:|--:|--:|---|');
const dir = mkdtempSync(join(tmpdir(), 'xent-distill-'));
try {
  for (const [N, C] of SHAPES) {
    const rand = mulberry32(N * 7 + C);
    const s = normals(rand, N * C, 2), t = normals(rand, N * C, 2);
    const labels = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
    const student = { data: s, shape: [N, C] }, teacher = { data: t, shape: [N, C] };
    const out = new Float32Array(N * C), out2 = new Float32Array(N * C), lse = new Float32Array(N);
    const g = { data: normals(rand, N * C, 1), shape: [N, C] }, gl = { data: normals(rand, N, 1), shape: [N] };
    const ls = { data: xent.logSoftmax(student), shape: [N, C] }, sm = { data: xent.softmax(student), shape: [N, C] };
    writeFileSync(join(dir, 's.f32'), s);
    writeFileSync(join(dir, 't.f32'), t);
    const rounds = { d: [], torch: [], ce: [], bw: [[], [], []] };
    let loss = 0, torchLoss = 0;
    for (let r = 0; r < ROUNDS; r++) {
      rounds.d.push(median(() => { loss = xent.distillationLossWithGrad(student, teacher, { temperature: 2, out }).loss; }));
      rounds.ce.push(median(() => xent.crossEntropyWithGrad(student, labels, { out })));
      const pairs = [
        [() => xent.logSoftmax(student, { out: out2 }), () => xent.logSoftmaxBackward(g, ls, { out })],
        [() => xent.softmax(student, { out: out2 }), () => xent.softmaxBackward(g, sm, { out })],
        [() => xent.logSumExp(student, { out: lse }), () => xent.logSumExpBackward(gl, student, { out })],
      ];
      pairs.forEach(([f, b], i) => rounds.bw[i].push(median(b) / median(f)));
      const py = JSON.parse(execFileSync('/usr/bin/python3', [new URL('./torch_distill.py', import.meta.url).pathname, N, C, 2, join(dir, 's.f32'), join(dir, 't.f32')], { encoding: 'utf8' }));
      rounds.torch.push(py.fwd_bwd_ms);
      torchLoss = py.loss;
    }
    if (Math.abs(loss - torchLoss) > 1e-4 * Math.abs(torchLoss)) throw new Error(`distill ${N}x${C}: xent ${loss} vs PyTorch ${torchLoss}`);
    const d = mid(rounds.d), pt = mid(rounds.torch), ce = mid(rounds.ce);
    const bw = rounds.bw.map((r) => mid(r).toFixed(2)).join(', ');
    console.log(`| ${N} x ${C} | ${d.toFixed(1)} | ${pt.toFixed(1)} | ${(pt / d).toFixed(2)} | ${ce.toFixed(1)} | ${(d / ce).toFixed(2)} | ${bw} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
