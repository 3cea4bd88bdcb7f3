// The example page's script: plain ESM, loaded by index.html with <script type="module">, importing the
// built package directly. Query parameters: ?reps=N (timed runs per measurement, default 5).
import { mulberry32, normals } from '../../bench/random.mjs';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const REPS = Math.min(50, Math.max(1, Number.parseInt(params.get('reps') ?? '5', 10) || 5));
const N = 512, C = 32000;

$('agent').textContent = navigator.userAgent;

let xent;
try {
  xent = await import('../../dist/index.js');
} catch (e) {
  $('backend').textContent = 'not loaded';
  $('backend').className = 'big bad';
  $('reason').textContent = `could not import ../../dist/index.js (run \`npm run build\` first): ${e}`;
  $('bench-status').dataset.state = 'error';
  throw e;
}
const { crossEntropy, crossEntropyWithGrad, getBackendInfo, init, setBackend, softmax } = xent;

// 1. Backend: init() compiles the module asynchronously (the way a main thread should) and never
// rejects; if WebAssembly SIMD is missing or a Content-Security-Policy forbids compiling, it is 'js'.
const backend = await init();
const info = getBackendInfo();
$('backend').textContent = backend;
$('backend').className = `big ${backend === 'wasm' ? 'ok' : 'bad'}`;
$('reason').textContent = backend === 'wasm'
  ? 'this engine runs WebAssembly SIMD'
  : `JS fallback: ${info.wasmUnavailable ?? 'setBackend chose js'}`;
document.body.dataset.backend = backend;

// 2. The stable-vs-naive example.
{
  const x = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };
  const loss = crossEntropy(x, 3);
  const p = softmax(x)[3]; // float32, like a float32 tensor: exp(-142) is 0
  const naive = -Math.log(p);
  $('xent-loss').textContent = String(loss);
  $('xent-loss').dataset.value = String(loss);
  $('xent-check').innerHTML = loss === 142 ? '<span class="ok">exact</span>' : '<span class="bad">expected 142</span>';
  $('naive-loss').textContent = String(naive);
  $('naive-loss').dataset.value = String(naive);
  $('naive-loss').className = `big num ${Number.isFinite(naive) ? '' : 'bad'}`;
  $('naive-why').textContent = `(softmax(x)[3] = ${p} in float32)`;
}

// 3. The benchmark.
let batch;
function makeBatch() {
  const rand = mulberry32(42); // seeded: every run and every machine sees the same batch
  const data = normals(rand, N * C, 3);
  const targets = Int32Array.from({ length: N }, () => Math.floor(rand() * C));
  return { input: { data, shape: [N, C] }, targets, grad: new Float32Array(N * C) };
}

const frame = () => new Promise((r) => setTimeout(r, 0)); // let the status line paint
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const status = (text, state) => { $('bench-status').textContent = text; if (state) $('bench-status').dataset.state = state; };

// A page's clock can be coarse (0.1 ms without cross-origin isolation, 1 ms or more with privacy settings):
// each run repeats the call until the clock has moved MIN_MS, so that no run reads 0 ms (and Infinity G/s).
const MIN_MS = 20;

async function time(label, fn) {
  fn(); // warm-up
  const ms = [];
  for (let i = 0; i < REPS; i++) {
    status(`${label}: run ${i + 1} of ${REPS}…`);
    await frame();
    const t0 = performance.now();
    let calls = 0, elapsed = 0;
    do {
      fn();
      calls++;
      elapsed = performance.now() - t0;
    } while (elapsed < MIN_MS);
    ms.push(elapsed / calls);
  }
  return median(ms);
}

function cell(id, text, value) {
  const td = document.createElement('td');
  td.id = id;
  td.className = 'num';
  td.textContent = text;
  if (value !== undefined) td.dataset.value = String(value);
  return td;
}

async function bench() {
  $('run').disabled = true;
  $('speedup').textContent = '';
  const rows = $('bench-rows');
  rows.replaceChildren();
  status('generating the batch…', 'running');
  await frame();
  batch ??= makeBatch();
  const { input, targets, grad } = batch;
  const giga = (N * C) / 1e9;
  const results = {};
  for (const b of ['wasm', 'js']) {
    const tr = document.createElement('tr');
    tr.append(cell(`bench-${b}-name`, b));
    rows.append(tr);
    try {
      setBackend(b); // throws for 'wasm' where it cannot run
    } catch {
      const td = cell(`bench-${b}-ce`, 'unavailable here');
      td.colSpan = 3;
      tr.append(td);
      continue;
    }
    const loss = crossEntropy(input, targets);
    const ce = await time(`${b} crossEntropy`, () => crossEntropy(input, targets));
    const withGrad = await time(`${b} crossEntropyWithGrad`, () => crossEntropyWithGrad(input, targets, { out: grad }));
    results[b] = { ce, withGrad, loss };
    tr.append(
      cell(`bench-${b}-ce`, `${ce.toFixed(1)} ms (${(giga / (ce / 1e3)).toFixed(2)} G/s)`, ce),
      cell(`bench-${b}-grad`, `${withGrad.toFixed(1)} ms (${(giga / (withGrad / 1e3)).toFixed(2)} G/s)`, withGrad),
      cell(`bench-${b}-loss`, loss.toFixed(6), loss),
    );
  }
  setBackend('auto');
  if (results.wasm && results.js) {
    const rel = Math.abs(results.wasm.loss - results.js.loss) / Math.abs(results.js.loss);
    $('speedup').innerHTML = `wasm is <b id="speedup-ce">${(results.js.ce / results.wasm.ce).toFixed(1)}x</b> faster than js on
      crossEntropy, <b id="speedup-grad">${(results.js.withGrad / results.wasm.withGrad).toFixed(1)}x</b> with the gradient;
      the two mean losses ${rel === 0 ? 'are <span id="loss-rel" data-value="0">identical</span>' : `differ by <span id="loss-rel" class="num" data-value="${rel}">${rel.toExponential(1)}</span> (relative)`}.`;
  } else {
    $('speedup').textContent = 'Only the JS backend runs here, so there is nothing to compare it with.';
  }
  status(`done: medians of ${REPS} run${REPS > 1 ? 's' : ''}`, 'done');
  $('run').disabled = false;
}

$('run').addEventListener('click', () => bench().catch(fail));
function fail(e) {
  status(`error: ${e?.message ?? e}`, 'error');
  $('run').disabled = false;
  throw e;
}
await bench().catch(fail);
