// crossEntropy's temperature, zLoss and softcap options and half-precision logits against PyTorch
// (test/fixtures/torch-llm.json, written by gen_llm.py: z = x / T, capped to c tanh(z / c), then
// F.cross_entropy(z) + zLoss * logsumexp(z)^2,
// float64, autograd gradients; float16 and bfloat16 inputs rounded by torch), on both backends; and the
// argument checks.
import { describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad, nllLoss } from '../src/index.ts';
import type { Logits, Target } from '../src/index.ts';
import llm from './fixtures/torch-llm.json';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';

const cases = (llm as { cases: Array<Record<string, any>> }).cases.filter((c) => c.op !== 'bce' && c.op !== 'token_logprobs').map((c) => ({
  name: c.name as string,
  input: (c.input.dtype
    ? { data: decodeArray(c.input.data) as Uint16Array, shape: c.input.shape as number[], dtype: c.input.dtype }
    : { data: decodeArray(c.input.data) as Float32Array, shape: c.input.shape as number[] }) as Logits,
  target: (c.target.kind === 'index'
    ? { data: decodeArray(c.target.data) as BigInt64Array, shape: c.target.shape }
    : { data: decodeArray(c.target.data) as Float32Array, shape: c.target.shape }) as Target,
  options: {
    weight: c.options.weight ? (decodeArray(c.options.weight) as Float32Array) : undefined,
    ignoreIndex: c.options.ignoreIndex as number,
    reduction: c.options.reduction as 'mean' | 'sum' | 'none',
    labelSmoothing: c.options.labelSmoothing as number,
    temperature: c.options.temperature as number,
    zLoss: c.options.zLoss as number,
    softcap: (c.options.softcap ?? undefined) as number | undefined,
  },
  gradOutput: Array.from(decodeArray(c.gradOutput) as Float64Array),
  out64: Array.from(decodeArray(c.expected.out64) as Float64Array, Math.fround),
  zloss64: Array.from(decodeArray(c.expected.zloss64) as Float64Array, Math.fround),
  grad64: Array.from(decodeArray(c.expected.grad64) as Float64Array, Math.fround),
}));

const asArray = (v: number | Float32Array) => (typeof v === 'number' ? [v] : Array.from(v));

describe.each(BACKENDS)('temperature and z-loss against PyTorch on %s', (backend) => {
  useBackend(backend);

  it(`${cases.length} cases (${cases.filter((c) => 'dtype' in c.input).length} half precision): loss, gradient, and the z-loss part`, () => {
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
    expect(() => crossEntropy(x, 0, { softcap: 0 })).toThrow(new RangeError('options.softcap: expected a finite number > 0, got 0'));
    expect(() => nllLoss(x, 0, { softcap: 30 } as never)).toThrow(/options.softcap: unknown option/);
    expect(() => nllLoss(x, 0, { temperature: 2 } as never)).toThrow(/options.temperature: unknown option/);
    // temperature 1 and zLoss 0 are the plain loss, bit for bit
    expect(crossEntropy(x, 0, { temperature: 1, zLoss: 0 })).toBe(crossEntropy(x, 0));
    expect(() => crossEntropy({ data: new Float32Array(3), shape: [3], dtype: 'float16' } as never, 0)).toThrow(
      new TypeError("input.data: dtype 'float16' expects the raw 16-bit patterns in a Uint16Array or a Float16Array, got Float32Array(3)"));
    expect(() => crossEntropy({ data: new Uint16Array(3), shape: [3], dtype: 'float8' } as never, 0)).toThrow(
      new TypeError(`input.dtype: expected 'float32', 'float16' or 'bfloat16', got string "float8"`));
    expect(() => crossEntropy({ data: new Uint16Array(4), shape: [3], dtype: 'bfloat16' }, 0)).toThrow(RangeError);
  });

  // Float16Array exists in current browsers (the Chromium run) but not in Node 20
  const F16 = (globalThis as { Float16Array?: new (a: ArrayLike<number>) => ArrayLike<number> & { buffer: ArrayBuffer } }).Float16Array;
  it.skipIf(!F16)('a Float16Array input equals its bits passed as float16', () => {
    const values = Array.from({ length: 5 * 12 }, (_, i) => Math.sin(i) * 4);
    const f16 = new F16!(values);
    const bits = new Uint16Array(f16.buffer);
    const t = [1, 3, 0, 11, 7];
    const a = crossEntropyWithGrad({ data: f16, shape: [5, 12] } as never, t, { reduction: 'none' });
    const b = crossEntropyWithGrad({ data: bits, shape: [5, 12], dtype: 'float16' }, t, { reduction: 'none' });
    expect(a.loss).toEqual(b.loss);
    expect(a.grad).toEqual(b.grad);
  });

  it('half-precision logits equal their float32 widening, bit for bit, loss and gradient', () => {
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const bits = Uint16Array.from({ length: 6 * 40 }, (_, i) => (dtype === 'float16' ? 0x3c00 + ((i * 37) % 2048) - 1024 : 0x3f80 + ((i * 37) % 256) - 128));
      const wide = dtype === 'float16'
        ? Float32Array.from(bits, (h) => (1 + (h & 1023) / 1024) * 2 ** (((h >> 10) & 31) - 15))
        : new Float32Array(Uint32Array.from(bits, (h) => h << 16).buffer);
      const t = Int32Array.from({ length: 6 }, (_, i) => (i * 7) % 40);
      const half = crossEntropyWithGrad({ data: bits, shape: [6, 40], dtype }, t, { reduction: 'none' });
      const f32 = crossEntropyWithGrad({ data: wide, shape: [6, 40] }, t, { reduction: 'none' });
      expect(half.loss).toEqual(f32.loss);
      expect(half.grad).toEqual(f32.grad);
    }
  });
});
