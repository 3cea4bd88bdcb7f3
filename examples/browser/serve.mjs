// A tiny static file server for the example page, bound to the loopback interface only.
//
//   npm run build && node examples/browser/serve.mjs [port]   # then open the URL it prints
//
// It serves the repository root (so the page's `../../dist/index.js` resolves to the built package) with
// the right MIME types, nothing else: no directory listings, no writes, no path outside the root. The
// browser tests start it through `startServer()`, optionally with extra response headers per request
// (a Content-Security-Policy, for the fallback test).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts the server on 127.0.0.1 and resolves with `{ url, close }` (`url` ends with '/').
 * @param {object} [options]
 * @param {string} [options.root] directory to serve (default: the repository root)
 * @param {number} [options.port] default 0: any free port
 * @param {(url: URL) => Record<string, string> | undefined} [options.headers] extra headers per request
 */
export function startServer({ root = REPO_ROOT, port = 0, headers } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let url;
    let path;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
      path = resolve(base, '.' + decodeURIComponent(url.pathname));
    } catch {
      return send(400, 'bad request\n');
    }
    if (path !== base && !path.startsWith(base + sep)) return send(403, 'forbidden\n');
    try {
      let info = await stat(path);
      if (info.isDirectory()) {
        if (!url.pathname.endsWith('/')) {
          res.writeHead(301, { location: url.pathname + '/' + url.search });
          return res.end();
        }
        path = join(path, 'index.html');
        info = await stat(path);
      }
      if (!info.isFile()) return send(404, 'not found\n');
      res.writeHead(200, {
        'content-type': MIME[extname(path).toLowerCase()] ?? 'application/octet-stream',
        'content-length': info.size,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...headers?.(url),
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(path).on('error', () => res.destroy()).pipe(res);
    } catch {
      send(404, 'not found\n');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      ok({
        url: `http://127.0.0.1:${actual}/`,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { url } = await startServer({ port: Number(process.argv[2] ?? 8080) });
  console.log(`serving ${REPO_ROOT} on ${url} (Ctrl-C to stop)`);
  console.log(`example page: ${url}examples/browser/`);
}
