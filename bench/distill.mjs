// The distillation and backward ops against their references, one thread, medians (`npm run bench:distill`,
// or `path/to/node bench/distill.mjs` on a built package for another Node):
// - distillationLossWithGrad (T 2, beta 0) vs the same step in PyTorch 1.13 (bench/torch_distill.py) and
//   vs crossEntropyWithGrad on the same shape (it reads one row instead of two), each with a reused `out`;
// - each backward op of the softmax family vs its forward;
// with ordinary arrays (copied in and out of WASM memory) and zero-copy (allocFloat32). Prints a markdown table.
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
console.log(`${process.release.name} ${process.version}, backend ${info.name} (${info.build}), ${ROUNDS} rounds, medians of the rounds' medians`);
console.log('copy: ordinary Float32Arrays (copied into WASM memory and out each call); zero-copy: every array from allocFloat32\n');
console.log('| shape | inputs | distill+grad ms | PyTorch ms | vs PyTorch (>= 3) | CE+grad ms | distill / CE (<= 1.6) | backward / forward: logSoftmax, softmax, logSumExp, logSumExp given its result (<= 1.3) |');
console.log('|---|---|--:|--:|--:|--:|--:|---|');
const dir = mkdtempSync(join(tmpdir(), 'xent-distill-'));
try {
  for (const [N, C] of SHAPES) {
    const rand = mulberry32(N * 7 + C);
    const host = { s: normals(rand, N * C, 2), t: normals(rand, N * C, 2), g: normals(rand, N * C, 1), gl: normals(rand, N, 1) };
    const labels = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
    host.ls = xent.logSoftmax({ data: host.s, shape: [N, C] });
    host.sm = xent.softmax({ data: host.s, shape: [N, C] });
    writeFileSync(join(dir, 's.f32'), host.s);
    writeFileSync(join(dir, 't.f32'), host.t);
    const torch = [];
    let torchLoss = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const py = JSON.parse(execFileSync('/usr/bin/python3', [new URL('./torch_distill.py', import.meta.url).pathname, N, C, 2, join(dir, 's.f32'), join(dir, 't.f32')], { encoding: 'utf8' }));
      torch.push(py.fwd_bwd_ms);
      torchLoss = py.loss;
    }
    const pt = mid(torch);
    for (const zeroCopy of [false, true]) {
      const blocks = [];
      const arr = (a) => {
        if (!zeroCopy) return a;
        const b = xent.allocFloat32(a.length);
        b.data.set(a);
        blocks.push(b);
        return b;
      };
      const held = Object.fromEntries(Object.entries(host).map(([k, v]) => [k, arr(v)]));
      const out = arr(new Float32Array(N * C)), out2 = arr(new Float32Array(N * C)), lse = new Float32Array(N);
      // a block's data is re-read at each call: WASM memory may grow and detach older views
      const d = (k) => (zeroCopy ? held[k].data : held[k]);
      const T = (k, shape = [N, C]) => ({ data: d(k), shape });
      const o = (b) => (zeroCopy ? b.data : b);
      const rounds = { d: [], ce: [], bw: [[], [], [], []] };
      let loss = 0;
      for (let r = 0; r < ROUNDS; r++) {
        rounds.d.push(median(() => { loss = xent.distillationLossWithGrad(T('s'), T('t'), { temperature: 2, out: o(out) }).loss; }));
        rounds.ce.push(median(() => xent.crossEntropyWithGrad(T('s'), labels, { out: o(out) })));
        const pairs = [
          [() => xent.logSoftmax(T('s'), { out: o(out2) }), () => xent.logSoftmaxBackward(T('g'), T('ls'), { out: o(out) })],
          [() => xent.softmax(T('s'), { out: o(out2) }), () => xent.softmaxBackward(T('g'), T('sm'), { out: o(out) })],
          [() => xent.logSumExp(T('s'), { out: lse }), () => xent.logSumExpBackward(T('gl', [N]), T('s'), { out: o(out) })],
          // given the forward's result, as autograd saves it
          [() => xent.logSumExp(T('s'), { out: lse }), () => xent.logSumExpBackward(T('gl', [N]), T('s'), { out: o(out), result: lse })],
        ];
        pairs.forEach(([f, b], i) => rounds.bw[i].push(median(b) / median(f)));
      }
      for (const b of blocks) b.free();
      if (Math.abs(loss - torchLoss) > 1e-4 * Math.abs(torchLoss)) throw new Error(`distill ${N}x${C}: xent ${loss} vs PyTorch ${torchLoss}`);
      const dm = mid(rounds.d), ce = mid(rounds.ce);
      const bw = rounds.bw.map((r) => mid(r).toFixed(2)).join(', ');
      console.log(`| ${N} x ${C} | ${zeroCopy ? 'zero-copy' : 'copy'} | ${dm.toFixed(1)} | ${pt.toFixed(1)} | ${(pt / dm).toFixed(2)} | ${ce.toFixed(1)} | ${(dm / ce).toFixed(2)} | ${bw} |`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
