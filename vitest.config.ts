// `npm test`: every suite under Node. The browser-only suites (test/browser/) run in Chromium through
// vitest.browser.config.ts (`npm run test:browser`), never here.
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/browser/**'],
    // the 2M-row mean takes ~2.5 s alone and twice that on a busy 2-core machine; no test asserts a time
    testTimeout: 30_000,
  },
});
