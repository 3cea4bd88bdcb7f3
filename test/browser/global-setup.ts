// Starts the static server (examples/browser/serve.mjs, 127.0.0.1 only) for the browser run and gives
// its URL to the tests as inject('serverUrl'). A request with `?csp=strict` is answered with a
// Content-Security-Policy that allows the page's own scripts but not WebAssembly compilation (no
// 'wasm-unsafe-eval'), as many sites ship.
import type { TestProject } from 'vitest/node';
import { startServer } from '../../examples/browser/serve.mjs';

export const STRICT_CSP = "script-src 'self'";

export default async function setup(project: TestProject) {
  const server = await startServer({
    headers: (url: URL) => (url.searchParams.get('csp') === 'strict' ? { 'content-security-policy': STRICT_CSP } : undefined),
  });
  project.provide('serverUrl', server.url);
  return () => server.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
  }
}
