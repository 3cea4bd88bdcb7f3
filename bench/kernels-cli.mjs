// bench/kernels.mjs as a script, for Node, Deno and Bun (`node bench/kernels-cli.mjs [NxC ...]`, on a built
// package): prints one `XENT_KERNELS {json}` line, which bench/engines.mjs reads.
import { readFileSync } from 'node:fs';
import * as xent from '../dist/index.js';
import { engineName, GRID, measure } from './kernels.mjs';

const args = (globalThis.Deno?.args ?? process.argv.slice(2)).filter((a) => /^\d+x\d+$/.test(a));
const shapes = args.length ? args.map((s) => s.split('x').map(Number)) : GRID;
const result = await measure(xent, (f) => readFileSync(new URL(`../build/${f}`, import.meta.url)), { shapes });
console.log(`XENT_KERNELS ${JSON.stringify({ engine: engineName(), ...result })}`);
