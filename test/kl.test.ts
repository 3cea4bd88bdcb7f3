// klDiv and its gradient against PyTorch's F.kl_div (test/fixtures/torch-kl.json, written by gen_kl.py:
// float64 with autograd), on every backend: every reduction, log targets, 0 log 0, -inf log-probabilities.
import { describe, expect, it } from 'vitest';
import { klDiv, klDivWithGrad } from '../src/index.ts';
import kl from './fixtures/torch-kl.json';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';

type Reduction = 'mean' | 'batchmean' | 'sum' | 'none';
const cases = (kl as { cases: Array<Record<string, any>> }).cases.map((c) => ({
  name: c.name as string,
  input: { data: decodeArray(c.input.data) as Float32Array, shape: c.input.shape as number[] },
  target: { data: decodeArray(c.target.data) as Float32Array, shape: c.target.shape as number[] },
  options: { reduction: c.options.reduction as Reduction, logTarget: c.options.logTarget as boolean },
  gradOutput: Array.from(decodeArray(c.gradOutput)),
  out64: Array.from(decodeArray(c.expected.out64), Math.fround),
  grad: Array.from(decodeArray(c.expected.grad)),
}));

const asArray = (v: number | Float32Array) => (typeof v === 'number' ? [v] : Array.from(v));

describe.each(BACKENDS)('klDiv on %s', (backend) => {
  useBackend(backend);

  it(`${cases.length} PyTorch cases: loss and gradient, every reduction, log targets, 0 log 0, -inf inputs`, () => {
    expect(cases.length).toBe(25);
    for (const c of cases) {
      expectClose(asArray(klDiv(c.input, c.target, c.options)), c.out64, TOL.loss, `${c.name} loss`);
      const gradOutput = c.options.reduction === 'none' ? Float32Array.from(c.gradOutput) : c.gradOutput[0];
      const r = klDivWithGrad(c.input, c.target, { ...c.options, gradOutput });
      expectClose(asArray(r.loss), c.out64, TOL.loss, `${c.name} loss (with grad)`);
      expectClose(r.grad, c.grad, TOL.grad, `${c.name} grad`);
    }
  });

  it('matches PyTorch where it gives NaN or 0: a zero target on a -inf input, 0 log 0, subnormal targets', () => {
    const x = Float32Array.of(-Infinity, -Infinity, Math.log(0.5)), shape = [3];
    // F.kl_div([-inf, -inf, log .5], [0.5, 0, 0.5], reduction='none') = [inf, nan, 0.5 log 0.5 - 0.5 log 0.5 = 0]
    const none = klDiv({ data: x, shape }, { data: Float32Array.of(0.5, 0, 0.5), shape }, { reduction: 'none' }) as Float32Array;
    expect(none[0]).toBe(Infinity);
    expect(none[1]).toBeNaN();
    expect(Math.abs(none[2])).toBeLessThan(1e-7); // 0 up to the rounding of log(0.5) to float32
    // 0 log 0 = 0 on a finite input; a subnormal target's y log y is tiny but right (log of a subnormal)
    const tiny = 1e-40;
    const sub = klDiv(Float32Array.of(-3, -1), Float32Array.of(0, tiny), { reduction: 'none' }) as Float32Array;
    expect(sub[0]).toBe(0);
    expectClose(sub[1], Math.fround(tiny) * Math.log(Math.fround(tiny)) + Math.fround(tiny), { rtol: 1e-5, atol: 0 });
  });
});
