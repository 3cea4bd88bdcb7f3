// crossEntropy's temperature and zLoss options against PyTorch (test/fixtures/torch-llm.json, written by
// gen_llm.py: F.cross_entropy(x / T) + zLoss * logsumexp(x / T)^2, float64, autograd gradients), on both
// backends; and their argument checks.
import { describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad, nllLoss } from '../src/index.ts';
import type { Target } from '../src/index.ts';
import llm from './fixtures/torch-llm.json';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';

interface Encoded { dtype: 'f32' | 'f64' | 'i64'; b64: string }

function decode(a: Encoded): Float32Array | Float64Array | BigInt64Array {
  const bin = atob(a.b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return a.dtype === 'f32' ? new Float32Array(bytes.buffer) : a.dtype === 'f64' ? new Float64Array(bytes.buffer) : new BigInt64Array(bytes.buffer);
}

const cases = (llm as { cases: Array<Record<string, any>> }).cases.map((c) => ({
  name: c.name as string,
  input: { data: decode(c.input.data) as Float32Array, shape: c.input.shape as number[] },
  target: (c.target.kind === 'index'
    ? { data: decode(c.target.data) as BigInt64Array, shape: c.target.shape }
    : { data: decode(c.target.data) as Float32Array, shape: c.target.shape }) as Target,
  options: {
    weight: c.options.weight ? (decode(c.options.weight) as Float32Array) : undefined,
    ignoreIndex: c.options.ignoreIndex as number,
    reduction: c.options.reduction as 'mean' | 'sum' | 'none',
    labelSmoothing: c.options.labelSmoothing as number,
    temperature: c.options.temperature as number,
    zLoss: c.options.zLoss as number,
  },
  gradOutput: Array.from(decode(c.gradOutput) as Float64Array),
  out64: Array.from(decode(c.expected.out64) as Float64Array, Math.fround),
  zloss64: Array.from(decode(c.expected.zloss64) as Float64Array, Math.fround),
  grad64: Array.from(decode(c.expected.grad64) as Float64Array, Math.fround),
}));

const asArray = (v: number | Float32Array) => (typeof v === 'number' ? [v] : Array.from(v));

describe.each(BACKENDS)('temperature and z-loss against PyTorch on %s', (backend) => {
  useBackend(backend);

  it(`${cases.length} cases: loss, gradient, and the z-loss part`, () => {
    for (const c of cases) {
      expectClose(asArray(crossEntropy(c.input, c.target, c.options)), c.out64, TOL.loss, `${c.name} loss`);
      const none = c.options.reduction === 'none';
      const gradOutput = none ? Float32Array.from(c.gradOutput) : c.gradOutput[0];
      const r = crossEntropyWithGrad(c.input, c.target, { ...c.options, gradOutput });
      expectClose(asArray(r.loss), c.out64, TOL.loss, `${c.name} loss (with grad)`);
      expectClose(r.grad, c.grad64, TOL.grad, `${c.name} grad`);
      if (c.options.zLoss > 0 && !none) expectClose(r.zLoss!, c.zloss64, TOL.loss, `${c.name} z-loss part`);
      else expect(r.zLoss).toBeUndefined();
    }
  });

  it('checks its arguments', () => {
    const x = { data: Float32Array.of(1, 2, 3), shape: [3] };
    expect(() => crossEntropy(x, 0, { temperature: 0 })).toThrow(new RangeError('options.temperature: expected a finite number > 0, got 0'));
    expect(() => crossEntropy(x, 0, { temperature: Infinity })).toThrow(RangeError);
    expect(() => crossEntropy(x, 0, { temperature: '2' as never })).toThrow(TypeError);
    expect(() => crossEntropy(x, 0, { zLoss: -1e-4 })).toThrow(new RangeError('options.zLoss: expected a finite number >= 0, got -0.0001'));
    expect(() => nllLoss(x, 0, { temperature: 2 } as never)).toThrow(/options.temperature: unknown option/);
    // temperature 1 and zLoss 0 are the plain loss, bit for bit
    expect(crossEntropy(x, 0, { temperature: 1, zLoss: 0 })).toBe(crossEntropy(x, 0));
  });
});
