// `npm run test:browser`: the parity suites (both backends), every other suite that is not Node-only, and
// the browser-only suites (test/browser/)
// in real headless Chromium, Debian's /usr/bin/chromium (never a browser downloaded by a test tool),
// through vitest browser mode and Playwright. XENT_CHROMIUM overrides the executable.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { configDefaults, defineConfig } from 'vitest/config';
import { commands } from './test/browser/commands.ts';

const executablePath = process.env.XENT_CHROMIUM ?? '/usr/bin/chromium';

/** Suites that only make sense under Node stay out: those importing Node built-ins (`node:fs` for
 *  build/testing.wasm in the ulp sweeps, `node:child_process` for npm and tsc in the package test, ...),
 *  found by reading the sources, and test/api.test.ts, whose fallback cases need vi.resetModules to give
 *  a fresh module graph, which it does not in a browser (test/browser/fallback.test.ts covers them there,
 *  with workers), and test/tfjs.test.ts (xent/tfjs on tfjs's cpu and wasm backends: tfjs's wasm backend
 *  loads its .wasm files from node_modules under Node, which a browser page would need served and
 *  located with setWasmPaths), and test/bundle.test.ts (it runs a bundler). Everything else runs in
 *  Chromium too. */
const NODE_ONLY = [
  'test/api.test.ts',
  'test/tfjs.test.ts',
  'test/bundle.test.ts',
  ...readdirSync('test', { recursive: true, encoding: 'utf8' })
    .map((f) => join('test', f).replaceAll('\\', '/'))
    .filter((f) => f.endsWith('.test.ts') && !f.startsWith('test/browser/'))
    .filter((f) => /\bfrom\s+['"]node:|\bimport\(\s*['"]node:/.test(readFileSync(f, 'utf8'))),
];

/** The pages of the pool suite's second run: cross-origin isolated (COOP/COEP), where workers can share
 *  memory. */
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

const browser = (name: string) => ({
  enabled: true,
  headless: true,
  screenshotFailures: false,
  provider: playwright({
    launchOptions: {
      executablePath,
      // root in a container: no sandbox; no GPU; and no background traffic to Google's services
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
      ],
    },
  }),
  instances: [{ browser: 'chromium' as const, name }],
  commands,
});

export default defineConfig({
  test: {
    globalSetup: ['test/browser/global-setup.ts'],
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'page', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...NODE_ONLY], browser: browser('chromium') } },
      // the pool again, on a cross-origin isolated page: memory shared, a call's rows split over the workers
      { extends: true, server: { headers: ISOLATED }, test: { name: 'isolated-page', include: ['test/pool.test.ts', 'test/pool-split.test.ts'], browser: browser('chromium-isolated') } },
    ],
  },
});
