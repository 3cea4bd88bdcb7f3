// `npm test`: every suite under Node. The browser-only suites (test/browser/) run in Chromium through
// vitest.browser.config.ts (`npm run test:browser`), never here. test/large.test.ts (about 4.5 GiB of RAM
// and a minute) runs only through `npm run test:large`, which sets XENT_LARGE; its short variant,
// test/large-smoke.test.ts, is part of `npm test` (it checks the free memory itself).
// The wasm suites run on both builds (test/helpers/backends.ts) where the engine has relaxed SIMD: Node 24
// does; Node 20 does with --experimental-wasm-relaxed-simd, passed on to the workers from vitest's own
// command line (`npm run test:relaxed`).
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/browser/**', ...(process.env.XENT_LARGE ? [] : ['test/large.test.ts'])],
    // the 2M-row mean takes ~2.5 s alone and twice that on a busy 2-core machine; no test asserts a time
    testTimeout: 30_000,
    // --expose-gc: the pool's memory test measures what stays alive after a collection
    execArgv: [...process.execArgv.filter((a) => a === '--experimental-wasm-relaxed-simd'), '--expose-gc'],
  },
});
