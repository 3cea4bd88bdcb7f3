// Every op in one table (test/helpers/op-table.ts: its public function, a seeded random-case generator
// with the float64 reference of each output, and a bad call). The same properties run over every row on
// every backend: the reference, the gradient against central differences of the reference loss, results
// independent of the chunking and of where the input lives (allocFloat32), arguments left as they were,
// and refusals that leave the module as it was. Adding an op adds a row there.
import { afterEach, describe, expect, it } from 'vitest';
import * as xent from '../src/index.ts';
import { allocatedFloat32Bytes } from '../src/memory.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, expectSameBits, TOL } from './helpers/close.ts';
import { OPS, TOLERANCE, type Out } from './helpers/op-table.ts';
import { rng } from './helpers/random.ts';

/** The outputs as Float32Arrays, for bit comparisons. */
function bits(out: Record<string, Out>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, typeof v === 'number' ? Float32Array.of(v) : Float32Array.from(v)]));
}

/** A deep copy of the typed arrays reachable from the arguments, to see that a call changed none. */
function snapshot(args: unknown[]): number[][] {
  const seen: number[][] = [];
  const walk = (v: unknown) => {
    if (ArrayBuffer.isView(v)) seen.push(Array.from(v as unknown as ArrayLike<number | bigint>, Number));
    else if (Array.isArray(v)) seen.push(v.map(Number));
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  args.forEach(walk);
  return seen;
}

const CASES = 12;
/** The rows whose outputs include a gradient. */
const OPS_WITH_GRAD = new Set(['crossEntropyWithGrad', 'nllLossWithGrad', 'causalLMLossWithGrad', 'binaryCrossEntropyWithLogitsWithGrad', 'klDivWithGrad']);

describe.each(BACKENDS)('every op on %s', (backend) => {
  useBackend(backend);
  afterEach(() => xent.setWasmMemoryLimit(256 * 2 ** 20));

  describe.each(OPS)('$name', (op) => {
    it('matches its float64 reference, and leaves its arguments as they were', () => {
      const rand = rng(0x5eed ^ op.name.length);
      for (let k = 0; k < CASES; k++) {
        const c = op.gen(rand, false);
        const before = snapshot(c.args);
        const got = op.run(c.args);
        expect(Object.keys(got).sort(), `case ${k}`).toEqual(Object.keys(c.want).sort());
        for (const [name, want] of Object.entries(c.want)) expectClose(got[name], want, TOLERANCE[name], `${op.name} case ${k} ${name}`);
        expect(snapshot(c.args), `case ${k}: the arguments`).toEqual(before);
      }
    });

    it('the same bits whatever the chunking and wherever the input lives', () => {
      const c = op.gen(rng(7 + op.name.length), true);
      const plain = bits(op.run(c.args));
      xent.setWasmMemoryLimit(65536); // the smallest limit: many chunks
      expect(bits(op.run(c.args))).toEqual(plain);
      xent.setWasmMemoryLimit(256 * 2 ** 20);
      const block = xent.allocFloat32(c.args[0].data.length);
      block.data.set(c.args[0].data);
      const [input, ...rest] = c.args;
      const inBlock = bits(op.run([{ data: block.data, shape: input.shape }, ...rest]));
      block.free();
      for (const [name, v] of Object.entries(plain)) expectSameBits(inBlock[name], v, `${op.name} ${name} from allocFloat32`);
      expect(allocatedFloat32Bytes()).toBe(0);
    });

    it('refuses its bad call before any work, and the next call is unchanged', () => {
      const c = op.gen(rng(99), false);
      const first = bits(op.run(c.args));
      const memory = xent.getBackendInfo().wasmMemoryBytes;
      expect(() => op.run(op.bad.args)).toThrow(op.bad.error);
      expect(() => op.run(op.bad.args)).toThrow(op.bad.message);
      // a wrong kind of input names the argument
      expect(() => op.run(['logits', ...c.args.slice(1)])).toThrow(TypeError);
      expect(() => op.run(['logits', ...c.args.slice(1)])).toThrow(new RegExp(`^${op.first ?? 'input'}\\b`));
      expect(xent.getBackendInfo().wasmMemoryBytes).toBe(memory);
      expect(bits(op.run(c.args))).toEqual(first);
    });

    it.skipIf(!OPS_WITH_GRAD.has(op.name))('its gradient: the reference against central differences, the op against the reference', () => {
      const rand = rng(3);
      let checked = 0;
      for (let k = 0; k < 40 && checked < 4; k++) {
        const c = op.gen(rand, false);
        if (!c.loss64 || c.args[0].data.length > 60) continue;
        const x = Float64Array.from(c.args[0].data), g = c.want.grad as Float64Array, h = 1e-6;
        for (let i = 0; i < x.length; i++) {
          const up = x.slice(), down = x.slice();
          up[i] += h;
          down[i] -= h;
          const fd = (c.loss64(up) - c.loss64(down)) / (2 * h);
          expect(Math.abs(fd - g[i]), `case ${k} logit ${i}: ${fd} vs ${g[i]}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(g[i]));
        }
        expectClose(op.run(c.args).grad, g, TOL.grad, `${op.name} case ${k} grad`);
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    });
  });
});

it('the table covers every public function that computes', () => {
  const computing = Object.entries(xent).filter(([, v]) => typeof v === 'function').map(([k]) => k)
    .filter((k) => !['diagnose', 'setDiagnosticsHandler', 'XentCheckError', 'init', 'getBackend', 'setBackend', 'getBackendInfo', 'setWasmMemoryLimit', 'allocFloat32', 'createPool'].includes(k));
  expect(OPS.map((o) => o.name).sort()).toEqual(computing.sort());
});
