// Smoke test of the built package (dist/, `npm run build` first) on one engine: Node, Deno or Bun.
// `.ci/engines/run.sh` runs it on the engines that do not run the vitest suite (Deno, Bun). It checks that
// the default backend is wasm, and on each wasm build the engine runs (relaxed-simd, simd): the README's
// stable example (142, exactly), every kernel against the js backend on a batch that takes the vector
// paths, and a Float16Array input where the engine has one. Prints one line; exits 1 on a failure.
import {
  binaryCrossEntropyWithLogitsWithGrad, crossEntropy, crossEntropyWithGrad, getBackend, getBackendInfo, init, klDivWithGrad,
  logSoftmax, logSumExp, setBackend, softmax, tokenStats,
} from '../../dist/index.js';

const engine = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

try {
  check((await init()) === 'wasm', `init() resolved to ${getBackend()}, wasmUnavailable: ${getBackendInfo().wasmUnavailable}`);
  check(getBackend() === 'wasm', `getBackend() is ${getBackend()}, expected 'wasm'`);

  let f16 = 'no Float16Array';
  const builds = [];
  let ops = 0;
  for (const build of ['relaxed-simd', 'simd']) {
    const use = () => setBackend('wasm', { relaxed: build !== 'simd' });
    use();
    if (getBackendInfo().build !== build) continue; // no relaxed SIMD here
    builds.push(build);
    const stable = crossEntropy({ data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] }, 3);
    check(stable === 142, `${build}: crossEntropy of the stable example is ${stable}, expected 142`);

    // wasm against js (float64) on a batch that takes the vector paths: 9 rows x 131 classes
    const [N, C] = [9, 131];
    const data = Float32Array.from({ length: N * C }, (_, i) => Math.sin(i * 0.7) * 8);
    const targets = Int32Array.from({ length: N }, (_, i) => (i * 37) % C);
    const x = { data, shape: [N, C] }, flat = { data, shape: [N * C] };
    const probs = { data: data.map((v) => 0.5 + v / 17), shape: [N * C] };
    const none = { reduction: 'none' };
    const calls = {
      crossEntropyWithGrad: () => crossEntropyWithGrad(x, targets, none),
      logSumExp: () => ({ loss: logSumExp(x) }),
      softmax: () => ({ loss: softmax(x) }),
      logSoftmax: () => ({ loss: logSoftmax(x) }),
      tokenStats: () => ({ loss: tokenStats(x, targets).entropy }),
      binaryCrossEntropyWithLogitsWithGrad: () => binaryCrossEntropyWithLogitsWithGrad(flat, probs, none),
      klDivWithGrad: () => klDivWithGrad(flat, probs, none),
    };
    const far = (a, b, rtol, atol) => a.findIndex((v, i) => !(Math.abs(v - b[i]) <= atol + rtol * Math.abs(b[i])));
    for (const [name, call] of Object.entries(calls)) {
      const wasm = call();
      setBackend('js');
      const js = call();
      use();
      let at = far(wasm.loss, js.loss, 2e-6, 2e-6);
      check(at < 0, `${build} ${name}: wasm [${at}] = ${wasm.loss[at]}, js ${js.loss[at]}`);
      if (js.grad) {
        at = far(wasm.grad, js.grad, 2e-5, 5e-7);
        check(at < 0, `${build} ${name}: wasm grad[${at}] = ${wasm.grad[at]}, js ${js.grad[at]}`);
      }
    }

    if (typeof globalThis.Float16Array === 'function') {
      const half = Float16Array.of(10, 92, 30, -50, 40);
      const got = crossEntropy({ data: half, shape: [5] }, 3);
      check(got === 142, `${build}: crossEntropy of the stable example as Float16Array is ${got}, expected 142`);
      const h = Float16Array.from(data.subarray(0, 3 * C));
      const a = crossEntropyWithGrad({ data: h, shape: [3, C] }, targets.subarray(0, 3), { reduction: 'none' });
      const b = crossEntropyWithGrad({ data: new Uint16Array(h.buffer), shape: [3, C], dtype: 'float16' }, targets.subarray(0, 3), { reduction: 'none' });
      check(a.loss.every((v, i) => Object.is(v, b.loss[i])) && a.grad.every((v, i) => Object.is(v, b.grad[i])),
        'a Float16Array input differs from its bits passed as float16');
      f16 = 'Float16Array ok';
    }
    ops = Object.keys(calls).length;
  }
  setBackend('auto');
  if (!failures.length) console.log(`smoke ${engine}: ok (backend ${getBackend()}; builds ${builds.join(', ')}: 142, ${ops} ops wasm = js, ${f16})`);
} catch (e) {
  failures.push(`threw ${e?.stack ?? e}`);
}
if (failures.length) {
  console.log(`smoke ${engine}: FAILED\n  ${failures.join('\n  ')}`);
  // Deno has process too (node compatibility), but exit through the engine's own API where there is one
  if (globalThis.Deno) Deno.exit(1);
  process.exit(1);
}
