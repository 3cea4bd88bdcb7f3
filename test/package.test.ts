// The npm package as a user gets it: `npm pack` holds only what users need, the tarball installs offline
// into a fresh project (no dependencies to fetch), imports from Node as `xent`, and its .d.ts compile in a
// strict TypeScript consumer. Node only; it runs in `npm test` because it takes about 3 s (the tarball has
// no dependencies, so nothing needs the registry). Uses the dist/ that `npm test`'s pretest just built.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as source from '../src/index.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

/** What the package must export: the sources' exports (test/api.test.ts pins that list). */
const PUBLIC = Object.keys(source).sort();

interface PackResult {
  filename: string;
  files: { path: string }[];
}

let dir: string;
let project: string;
let packed: PackResult;

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}${err.stderr ?? ''}\n${err.message}`);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xent-pack-'));
  project = join(dir, 'consumer');
  const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT);
  packed = (JSON.parse(out) as PackResult[])[0];
  run('mkdir', ['-p', project], dir);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // --offline: the install must not need the registry (zero runtime dependencies)
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed.filename)], project);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('contains only dist (.js and .d.ts), README.md, LICENSE and package.json', () => {
    const paths = packed.files.map((f) => f.path).sort();
    const other = paths.filter((p) => !/^dist\/.+\.(js|d\.ts)$/.test(p));
    expect(other).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths).toContain('dist/wasm/xent.generated.js'); // the embedded module: no .wasm file to ship
    for (const js of paths.filter((p) => p.endsWith('.js'))) expect(paths, js).toContain(js.replace(/\.js$/, '.d.ts'));
  });

  it('has zero runtime dependencies; the library imports nothing but its own files', () => {
    const pkg = join(project, 'node_modules/xent');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    for (const key of ['dependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies']) {
      expect(manifest[key], key).toBeUndefined();
    }
    // xent/tfjs's peer, optional: npm does not install it
    expect(manifest.peerDependencies).toEqual({ '@tensorflow/tfjs-core': '>=4' });
    expect(manifest.peerDependenciesMeta).toEqual({ '@tensorflow/tfjs-core': { optional: true } });
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
    expect(Object.keys(lock.packages).sort()).toEqual(['', 'node_modules/xent']);
    const importsOf = (path: string) => {
      const code = readFileSync(join(pkg, path), 'utf8');
      return [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
    };
    // everything reachable from the entry point (what a browser loads) imports only relative files
    const seen = new Set<string>();
    const walk = (path: string) => {
      if (seen.has(path)) return;
      seen.add(path);
      for (const s of importsOf(path)) {
        expect(s, `${path} imports ${s}`).toMatch(/^\.\.?\//);
        walk(join(dirname(path), s).replace(/\\/g, '/'));
      }
    };
    walk(manifest.exports['.'].default.replace(/^\.\//, ''));
    expect(seen.size).toBeGreaterThan(5);
    expect(seen.has('dist/tfjs.js')).toBe(false);
    // any other file (a CLI) may add Node's built-ins, nothing else; dist/tfjs.js (xent/tfjs) its peer
    for (const { path } of packed.files.filter((f) => f.path.endsWith('.js'))) {
      const allowed = path === 'dist/tfjs.js' ? /^(\.\.?\/|@tensorflow\/tfjs-core$)/ : /^(\.\.?\/|node:)/;
      for (const s of importsOf(path)) expect(s, `${path} imports ${s}`).toMatch(allowed);
    }
    expect(importsOf('dist/tfjs.js')).toContain('@tensorflow/tfjs-core');
  });

  it('installs into a fresh project and imports from Node as `xent`', () => {
    writeFileSync(join(project, 'consumer.mjs'), `
      import * as xent from 'xent';
      const backend = await xent.init();
      const x = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };
      const { loss, grad } = xent.crossEntropyWithGrad(x, 3);
      xent.setBackend('js');
      const js = xent.crossEntropy(x, 3);
      console.log(JSON.stringify({
        exports: Object.keys(xent).sort(), backend, loss, grad: Array.from(grad), js,
        resolved: import.meta.resolve('xent'),
      }));
    `);
    const got = JSON.parse(run(process.execPath, ['consumer.mjs'], project));
    expect(got.exports).toEqual(PUBLIC);
    expect(got.backend).toBe('wasm');
    expect(got.loss).toBe(142);
    expect(got.js).toBe(142);
    expect(got.grad[3]).toBe(-1);
    expect(got.resolved).toMatch(/\/consumer\/node_modules\/xent\/dist\/index\.js$/);
  });

  it('xent/diagnose is diagnose on its own: the same functions as xent\'s, the same check state', () => {
    writeFileSync(join(project, 'diagnose.mjs'), `
      import * as xent from 'xent';
      import * as d from 'xent/diagnose';
      const seen = [];
      d.setDiagnosticsHandler((f) => seen.push(f.code));
      const probs = { data: Float32Array.of(0.2, 0.3, 0.5, 0.1, 0.1, 0.8), shape: [2, 3] };
      xent.crossEntropy(probs, [2, 0], { check: 'warn' });
      console.log(JSON.stringify({
        exports: Object.keys(d).sort(), same: d.diagnose === xent.diagnose && d.XentCheckError === xent.XentCheckError,
        findings: d.diagnose(probs, [2, 0]).map((f) => f.code), seen,
      }));
    `);
    const got = JSON.parse(run(process.execPath, ['diagnose.mjs'], project));
    expect(got.exports).toEqual(['XentCheckError', 'diagnose', 'setDiagnosticsHandler']);
    expect(got.same).toBe(true);
    expect(got.findings).toEqual(['probabilities-as-logits']);
    expect(got.seen).toEqual(['probabilities-as-logits']);
  });

  it('xent imports without tfjs; xent/tfjs then fails to load, naming @tensorflow/tfjs-core', () => {
    writeFileSync(join(project, 'no-tfjs.mjs'), `
      const xent = await import('xent');
      let error = null;
      try { await import('xent/tfjs'); } catch (e) { error = e.code + ' ' + e.message; }
      console.log(JSON.stringify({ loss: xent.crossEntropy({ data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] }, 3), error }));
    `);
    const got = JSON.parse(run(process.execPath, ['no-tfjs.mjs'], project));
    expect(got.loss).toBe(142);
    expect(got.error).toMatch(/^ERR_MODULE_NOT_FOUND .*@tensorflow\/tfjs-core/);
  });

  it('xent/tfjs imports and trains in a project that has @tensorflow/tfjs-core (and a tfjs backend)', () => {
    // a second consumer, with tfjs-core and tfjs-backend-cpu linked from this repository's node_modules
    // (the devDependencies): npm would install them from the registry, which this test must not need
    const withTf = join(dir, 'consumer-tfjs');
    mkdirSync(join(withTf, 'node_modules', '@tensorflow'), { recursive: true });
    writeFileSync(join(withTf, 'package.json'), JSON.stringify({ name: 'consumer-tfjs', private: true, type: 'module' }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', join(dir, packed.filename)], withTf);
    for (const name of ['tfjs-core', 'tfjs-backend-cpu']) {
      symlinkSync(join(ROOT, 'node_modules', '@tensorflow', name), join(withTf, 'node_modules', '@tensorflow', name), 'dir');
    }
    writeFileSync(join(withTf, 'train.mjs'), `
      import * as tf from '@tensorflow/tfjs-core';
      import '@tensorflow/tfjs-backend-cpu';
      import { crossEntropyLoss } from 'xent/tfjs';
      await tf.setBackend('cpu');
      const x = tf.tensor2d([[1, 2, 3], [3, 2, 1]]);
      const t = tf.tensor1d([2, 0], 'int32');
      const { value, grad } = tf.valueAndGrad((x) => crossEntropyLoss(x, t))(x);
      console.log(JSON.stringify({ loss: value.dataSync()[0], grad: Array.from(grad.dataSync()),
        resolved: import.meta.resolve('xent/tfjs') }));
    `);
    const got = JSON.parse(run(process.execPath, ['train.mjs'], withTf));
    expect(got.loss).toBeCloseTo(0.40760596, 6);
    expect(got.grad[2]).toBeCloseTo((Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)) - 1) / 2, 6);
    expect(got.resolved).toMatch(/\/consumer-tfjs\/node_modules\/xent\/dist\/tfjs\.js$/);
    // and its .d.ts (xent's own checked strictly; tfjs-core's are tfjs's business: skipLibCheck)
    writeFileSync(join(withTf, 'consumer.ts'), `
      import * as tf from '@tensorflow/tfjs-core';
      import { crossEntropyLoss, init, type TfCrossEntropyOptions } from 'xent/tfjs';
      const options: TfCrossEntropyOptions = { labelSmoothing: 0.1, reduction: 'sum', weight: [1, 2, 3] };
      const loss: tf.Tensor = crossEntropyLoss(tf.zeros([2, 3]), tf.zeros([2], 'int32'), options);
      // @ts-expect-error the upstream gradient comes from tfjs
      crossEntropyLoss(tf.zeros([2, 3]), tf.zeros([2], 'int32'), { gradOutput: 2 });
      export { loss, init };
    `);
    writeFileSync(join(withTf, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
        lib: ['es2022', 'dom'], types: [], skipLibCheck: true, exactOptionalPropertyTypes: true,
      },
      files: ['consumer.ts'],
    }));
    run(TSC, ['-p', 'tsconfig.json'], withTf);
  });

  const consumerTs = `
    import {
      crossEntropy, crossEntropyWithGrad, getBackend, getBackendInfo, init, logSoftmax, logSumExp, nllLoss,
      setBackend, setWasmMemoryLimit, softmax, binaryCrossEntropyWithLogits, klDiv, klDivWithGrad,
      causalLMLoss, causalLMLossWithGrad, continuationLogProb, tokenStats,
      type BackendInfo, type BackendName, type CrossEntropyOptions, type Logits, type Target,
    } from 'xent';
    import { diagnose, XentCheckError, type Finding } from 'xent/diagnose';

    const x: Logits = { data: Float32Array.of(10, 92, 30, -50, 40), shape: [5] };
    const findings: Finding[] = diagnose(x, 3);
    const checkError: RangeError = new XentCheckError(findings);
    const target: Target = 3;
    const options: CrossEntropyOptions = { reduction: 'mean', labelSmoothing: 0.1, ignoreIndex: -100 };
    const loss: number | Float32Array = crossEntropy(x, target, options);
    const withGrad: { loss: number | Float32Array; grad: Float32Array } = crossEntropyWithGrad(x, 3, { out: new Float32Array(5) });
    const nll: number | Float32Array = nllLoss(logSoftmax(x), [3]);
    const outs: Float32Array[] = [logSoftmax(x, { dim: 0 }), softmax(x), logSumExp(x)];
    const ready: Promise<BackendName> = init();
    const name: 'wasm' | 'js' = getBackend();
    const info: BackendInfo = getBackendInfo();
    const why: string | undefined = info.wasmUnavailable;
    setBackend('auto');
    setWasmMemoryLimit(64 * 2 ** 20);
    // @ts-expect-error not a backend
    setBackend('gpu');
    // @ts-expect-error not a reduction
    crossEntropy(x, 3, { reduction: 'avg' });
    // @ts-expect-error logits must be float32
    crossEntropy({ data: [1, 2, 3], shape: [3] }, 0);
    // the result's type follows the reduction: a number when reduced (or not said), a Float32Array for 'none'
    const mean: number = crossEntropy(x, 3);
    const sum: number = nllLoss(x, 3, { reduction: 'sum' });
    const each: Float32Array = crossEntropy({ data: new Float32Array(6), shape: [2, 3] }, [0, 1], { reduction: 'none' });
    const eachGrad: Float32Array = crossEntropyWithGrad(x, 3, { reduction: 'none' }).loss;
    const meanGrad: number = crossEntropyWithGrad(x, 3).loss;
    const bce: number = binaryCrossEntropyWithLogits(Float32Array.of(1), Float32Array.of(0), { weight: [2] });
    const kl: Float32Array = klDivWithGrad(Float32Array.of(-1), Float32Array.of(0.5), { reduction: 'none' }).loss;
    const batch: number = klDiv({ data: Float32Array.of(-1), dims: [1], type: 'float32' }, Float32Array.of(0.5), { reduction: 'batchmean' });
    // @ts-expect-error a mean is a number, not a Float32Array
    const wrong: Float32Array = crossEntropy(x, 3, { reduction: 'mean' });
    // @ts-expect-error 'none' gives a Float32Array
    const wrong2: number = binaryCrossEntropyWithLogits(Float32Array.of(1), Float32Array.of(0), { reduction: 'none' });
    // language models: classes last, the causal loss, greedy flags
    const lm = { data: new Float32Array(2 * 3 * 5), shape: [2, 3, 5] };
    const ids = BigInt64Array.of(1n, 2n, 3n, 4n, 0n, 1n);
    const causal: number = causalLMLoss(lm, ids, { numItemsInBatch: 4 });
    const causalEach: Float32Array = causalLMLoss(lm, ids, { reduction: 'none' });
    const causalGrad: Float32Array = causalLMLossWithGrad(lm, ids).grad;
    const greedy: Uint8Array = tokenStats(lm, { data: ids, shape: [2, 3] }).isGreedy;
    const classesLast: number = crossEntropy(lm, { data: ids, shape: [2, 3] }, { classAxis: -1 });
    const cont = continuationLogProb(lm, ids, { start: [1, 2] });
    // @ts-expect-error classAxis is 1, -1 or 'last'
    crossEntropy(lm, ids, { classAxis: 2 });
    export { loss, withGrad, nll, outs, ready, name, why, mean, sum, each, eachGrad, meanGrad, bce, kl, batch, wrong, wrong2,
      causal, causalEach, causalGrad, greedy, classesLast, cont, checkError };
  `;
  // only where the lib declares Float16Array (esnext); elsewhere the types have no such array to take
  const float16Ts = `
    import { crossEntropy, tokenLogProbs } from 'xent';
    const half: number = crossEntropy({ data: new Float16Array(5), shape: [5] }, 3);
    const halfTagged: number = crossEntropy({ data: new Float16Array(5), shape: [5], dtype: 'float16' }, 3);
    const ort: Float32Array = tokenLogProbs({ data: new Float16Array(10), dims: [2, 5], type: 'float16' }, [1, 2]);
    // @ts-expect-error a Float16Array holds float16 values, not bfloat16 bits
    crossEntropy({ data: new Float16Array(5), shape: [5], dtype: 'bfloat16' }, 3);
    export { half, halfTagged, ort };
  `;

  function compile(lib: string[], types: string[], extra = ''): void {
    writeFileSync(join(project, 'consumer.ts'), consumerTs);
    writeFileSync(join(project, 'float16.ts'), extra || 'export {};');
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
        lib, types, typeRoots: [join(ROOT, 'node_modules/@types')],
        skipLibCheck: false, // check xent's .d.ts themselves
        exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, verbatimModuleSyntax: true,
        noImplicitOverride: true, noPropertyAccessFromIndexSignature: true,
      },
      files: ['consumer.ts', 'float16.ts'],
    }));
    run(TSC, ['-p', 'tsconfig.json'], project);
  }

  it('its .d.ts compile in a strict TypeScript project (browser libs)', () => {
    compile(['es2022', 'dom'], []);
  });

  it('its .d.ts take a Float16Array where the lib has one (lib esnext)', () => {
    compile(['esnext', 'dom'], [], float16Ts);
  });

  // The internal wasm backend class is stripped from the .d.ts (@internal + stripInternal): its constructor
  // takes a WebAssembly.Instance, a namespace neither lib es2022 nor @types/node declares.
  it('its .d.ts compile in a strict Node-only project (lib es2022 + @types/node)', () => {
    compile(['es2022'], ['node']);
  });
});
