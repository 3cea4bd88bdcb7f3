// What an app pays in bundle size for the functions it imports: each app below imports a few names from
// the package entry (dist/index.js, as `import { ... } from 'xent'` resolves) and is bundled by rolldown,
// vite's bundler, minified, as a user's production build would be. `npm run size` prints the table;
// test/bundle.test.ts checks which modules each app carries.
import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rolldown } from 'rolldown';

const ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/** Apps by what they import; each exports `value`, computed on a small input, so a test can run it. */
export const APPS = {
  logSumExp: `export const value = Array.from(logSumExp({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] }));`,
  softmax: `export const value = Array.from(softmax({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] }));`,
  binaryCrossEntropyWithLogits: `export const value = binaryCrossEntropyWithLogits(new Float32Array([1, -2, 3]), new Float32Array([1, 0, 0]));`,
  klDiv: `export const value = klDiv(new Float32Array([-1, -2, -0.5]), new Float32Array([0.2, 0.3, 0.5]), { reduction: 'sum' });`,
  crossEntropy: `export const value = crossEntropy({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] }, [2, 0]);`,
  // rows that sum to 1: the softmax-before-the-loss finding
  diagnose: `export const value = diagnose({ data: new Float32Array([0.2, 0.3, 0.5, 0.1, 0.1, 0.8]), shape: [2, 3] }, [2, 0]).map((f) => f.code);`,
};

/** The app's source: its import line and its code. */
export function appSource(name) {
  return `import { ${name} } from ${JSON.stringify(ENTRY)};\n${APPS[name]}\n`;
}

/**
 * Bundles one app: its code, minified size and gzip size in bytes, and the package modules it carries
 * with their rendered bytes (paths relative to dist/, e.g. 'diagnose/check.js').
 */
export async function bundleApp(name, { minify = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'xent-bundle-'));
  try {
    const input = join(dir, `${name}.mjs`);
    writeFileSync(input, appSource(name));
    const build = await rolldown({ input, logLevel: 'silent' });
    const { output } = await build.generate({ format: 'es', minify });
    await build.close();
    const chunk = output[0];
    const modules = {};
    for (const [id, info] of Object.entries(chunk.modules)) {
      if (id.startsWith(DIST) && info.renderedLength > 0) modules[id.slice(DIST.length)] = info.renderedLength;
    }
    return { code: chunk.code, bytes: Buffer.byteLength(chunk.code), gzip: gzipSync(chunk.code, { level: 9 }).length, modules, chunks: output.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a bundle's code as a module and returns its `value`. */
export async function runBundle(code) {
  const dir = mkdtempSync(join(tmpdir(), 'xent-bundle-run-'));
  try {
    const file = join(dir, 'app.mjs');
    writeFileSync(file, code);
    return (await import(pathToFileURL(file).href)).value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function kB(bytes) {
  return (bytes / 1000).toFixed(1);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`rolldown ${(await import('rolldown/package.json', { with: { type: 'json' } })).default.version}, minified; kB = 1000 bytes\n`);
  console.log('| app imports | minified kB | gzip kB | of which the embedded wasm kB | diagnose modules kB (before minifying) |');
  console.log('|---|--:|--:|--:|--:|');
  for (const name of Object.keys(APPS)) {
    const b = await bundleApp(name);
    const share = (re) => Object.entries(b.modules).filter(([m]) => re.test(m)).reduce((s, [, n]) => s + n, 0);
    console.log(`| \`${name}\` | ${kB(b.bytes)} | ${kB(b.gzip)} | ${kB(share(/^wasm\//))} | ${kB(share(/^diagnose\//))} |`);
  }
}
