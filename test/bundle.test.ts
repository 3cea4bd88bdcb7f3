// Tree-shaking as a user's bundler does it (rolldown, vite's bundler, on dist/ as `import ... from 'xent'`
// resolves): an app carries the modules of the functions it imports, and diagnose only when it imports
// diagnose or a function with the `check` option. Each bundle also runs and gives the unbundled value.
// Node only; uses the dist/ that `npm test`'s pretest just built. Sizes: `npm run size`.
import { describe, expect, it } from 'vitest';
import { APPS, bundleApp, runBundle } from '../bench/bundle.mjs';
import * as xent from '../src/index.ts';

const names = Object.keys(APPS) as (keyof typeof APPS)[];
/** What each app computes, unbundled, from the sources. */
function unbundled(name: keyof typeof APPS): unknown {
  const fn = new Function(...Object.keys(xent), APPS[name].replace('export const value = ', 'return '));
  return fn(...Object.values(xent));
}

describe('bundles of apps that import part of xent', () => {
  for (const name of names) {
    it(`${name}: runs bundled and gives the unbundled value`, async () => {
      const b = await bundleApp(name);
      expect(b.chunks).toBe(1);
      expect(await runBundle(b.code)).toEqual(unbundled(name));
    }, 30_000);
  }

  for (const name of ['logSumExp', 'softmax', 'binaryCrossEntropyWithLogits', 'klDiv'] as const) {
    it(`${name}: carries none of diagnose (no check option)`, async () => {
      const { modules } = await bundleApp(name, { minify: false });
      expect(Object.keys(modules).filter((m) => m.startsWith('diagnose/'))).toEqual([]);
      expect(modules['wasm/xent.generated.js']).toBeGreaterThan(50_000);
    }, 30_000);
  }

  it('crossEntropy carries diagnose: its check option runs it synchronously', async () => {
    const { modules } = await bundleApp('crossEntropy', { minify: false });
    expect(modules['diagnose/check.js']).toBeGreaterThan(0);
    expect(modules['diagnose/diagnose.js']).toBeGreaterThan(0);
  }, 30_000);

  it('diagnose alone carries no kernels and no embedded wasm', async () => {
    const { modules } = await bundleApp('diagnose', { minify: false });
    expect(Object.keys(modules).filter((m) => m.startsWith('wasm/') || m.startsWith('backend/'))).toEqual([]);
  }, 30_000);
});
