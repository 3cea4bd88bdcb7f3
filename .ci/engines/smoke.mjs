// Smoke test of the built package (dist/, `npm run build` first) on one engine: Node, Deno or Bun.
// `.ci/engines/run.sh` runs it on the engines that do not run the whole vitest suite. It checks that the
// default backend is wasm, the README's stable example (142, exactly), the wasm backend against the js one
// on a larger batch, and a Float16Array input where the engine has one. Prints one line; exits 1 on a
// failure.
import { crossEntropy, crossEntropyWithGrad, getBackend, getBackendInfo, init, setBackend } from '../../dist/index.js';

const engine = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

try {
  check((await init()) === 'wasm', `init() resolved to ${getBackend()}, wasmUnavailable: ${getBackendInfo().wasmUnavailable}`);
  check(getBackend() === 'wasm', `getBackend() is ${getBackend()}, expected 'wasm'`);

  const stable = crossEntropy({ data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] }, 3);
  check(stable === 142, `crossEntropy of the stable example is ${stable}, expected 142`);

  // wasm against js (float64) on a batch that takes the vector paths: 9 rows x 131 classes
  const [N, C] = [9, 131];
  const data = Float32Array.from({ length: N * C }, (_, i) => Math.sin(i * 0.7) * 8);
  const targets = Int32Array.from({ length: N }, (_, i) => (i * 37) % C);
  const wasm = crossEntropyWithGrad({ data, shape: [N, C] }, targets, { reduction: 'none' });
  setBackend('js');
  const js = crossEntropyWithGrad({ data, shape: [N, C] }, targets, { reduction: 'none' });
  setBackend('auto');
  const far = (a, b, rtol, atol) => a.findIndex((v, i) => !(Math.abs(v - b[i]) <= atol + rtol * Math.abs(b[i])));
  let at = far(wasm.loss, js.loss, 2e-6, 2e-6);
  check(at < 0, `wasm loss[${at}] = ${wasm.loss[at]}, js ${js.loss[at]}`);
  at = far(wasm.grad, js.grad, 2e-5, 5e-7);
  check(at < 0, `wasm grad[${at}] = ${wasm.grad[at]}, js ${js.grad[at]}`);

  let f16 = 'no Float16Array';
  if (typeof globalThis.Float16Array === 'function') {
    const half = Float16Array.of(10, 92, 30, -50, 40);
    const got = crossEntropy({ data: half, shape: [5] }, 3);
    check(got === 142, `crossEntropy of the stable example as Float16Array is ${got}, expected 142`);
    const h = Float16Array.from(data.subarray(0, 3 * C));
    const a = crossEntropyWithGrad({ data: h, shape: [3, C] }, targets.subarray(0, 3), { reduction: 'none' });
    const b = crossEntropyWithGrad({ data: new Uint16Array(h.buffer), shape: [3, C], dtype: 'float16' }, targets.subarray(0, 3), { reduction: 'none' });
    check(a.loss.every((v, i) => Object.is(v, b.loss[i])) && a.grad.every((v, i) => Object.is(v, b.grad[i])),
      'a Float16Array input differs from its bits passed as float16');
    f16 = 'Float16Array ok';
  }
  if (!failures.length) console.log(`smoke ${engine}: ok (backend ${getBackend()}, 142, wasm = js, ${f16})`);
} catch (e) {
  failures.push(`threw ${e?.stack ?? e}`);
}
if (failures.length) {
  console.log(`smoke ${engine}: FAILED\n  ${failures.join('\n  ')}`);
  // Deno has process too (node compatibility), but exit through the engine's own API where there is one
  if (globalThis.Deno) Deno.exit(1);
  process.exit(1);
}
