// End to end, with no download: a tiny causal LM (torch.nn, seeded weights) exported to ONNX by
// test/fixtures/onnx/gen_tiny_lm.py, run with onnxruntime-node on fixed ids, and its output tensor handed
// to xent as it comes (`{ data, dims, type }`, [B, T, V]), with the ids as int64: causalLMLoss,
// tokenLogProbs and perplexity with shift, against PyTorch's values stored by the generator. The same
// logits as transformers.js hands them out (its Tensor, a Proxy over the onnxruntime tensor), float32 and
// float16, give the same results.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Tensor } from '@huggingface/transformers';
import { causalLMLoss, causalLMLossWithGrad, perplexity, tokenLogProbs } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { TOL, expectClose } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';
import { half64, toHalfBits } from './reference/xent64.ts';
import ref from './fixtures/onnx/tiny-lm.json';

const model = readFileSync(new URL('./fixtures/onnx/tiny-lm.onnx', import.meta.url));
const [B, T, V] = ref.shape;
const ids = decodeArray(ref.ids) as BigInt64Array, labels = decodeArray(ref.labels) as BigInt64Array;

async function runModel(): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(model);
  const { logits } = await session.run({ input_ids: new ort.Tensor('int64', ids, [B, T]) });
  await session.release();
  return logits;
}

describe.each(BACKENDS)('an ONNX causal LM scored with xent on %s', (backend) => {
  useBackend(backend);

  it('onnxruntime logits in as they are: causal loss, shifted log-probs and perplexity match PyTorch', async () => {
    const logits = await runModel();
    expect(logits.dims).toEqual([B, T, V]);
    expect(logits.type).toBe('float32');
    // onnxruntime computed what torch did (float32, different kernels: close, not equal)
    expectClose(logits.data as Float32Array, decodeArray(ref.logits) as Float32Array, { rtol: 1e-4, atol: 1e-4 }, 'logits');

    const label = new ort.Tensor('int64', labels, [B, T]);
    expectClose([causalLMLoss(logits, label)], [ref.causalLoss64], TOL.loss, 'causalLMLoss');
    const { loss, grad } = causalLMLossWithGrad(logits, label);
    expectClose([loss], [ref.causalLoss64], TOL.loss, 'causalLMLossWithGrad');
    expect(grad.length).toBe(B * T * V);
    expectClose(tokenLogProbs(logits, label, { shift: true }), decodeArray(ref.logProbs64) as Float64Array, TOL.loss, 'tokenLogProbs');
    expectClose([perplexity(logits, label, { shift: true })], [ref.perplexity64], TOL.loss, 'perplexity');
  });

  it('transformers.js Tensors (a Proxy over the onnxruntime tensor) in as they are, float32', async () => {
    const logits = new Tensor(await runModel()), label = new Tensor('int64', labels, [B, T]);
    expect(logits.dims).toEqual([B, T, V]);
    expectClose([causalLMLoss(logits, label)], [ref.causalLoss64], TOL.loss, 'causalLMLoss');
    expectClose(tokenLogProbs(logits, label, { shift: true }), decodeArray(ref.logProbs64) as Float64Array, TOL.loss, 'tokenLogProbs');
    expectClose([perplexity(logits, label, { shift: true })], [ref.perplexity64], TOL.loss, 'perplexity');
  });

  // float16 as transformers.js holds it: the bits in a Uint16Array (any engine) and, where the engine has
  // Float16Array, `.to('float16')`'s Float16Array; scored as the float32 values those halves are
  it('transformers.js float16 Tensors: Uint16Array bits and Float16Array', async () => {
    const f32 = (await runModel()).data as Float32Array, label = new Tensor('int64', labels, [B, T]);
    const bits = toHalfBits(f32), halves = Float32Array.from(half64(bits, 'float16'));
    const asF32 = new Tensor('float32', halves, [B, T, V]);
    const forms = [new Tensor('float16', bits, [B, T, V])];
    if (typeof Float16Array === 'function') {
      const viaTo = new Tensor('float32', f32, [B, T, V]).to('float16');
      expect(viaTo.data).toBeInstanceOf(Float16Array);
      forms.push(viaTo);
    }
    for (const logits of forms) {
      expect(logits.type).toBe('float16');
      expectClose([causalLMLoss(logits, label)], [causalLMLoss(asF32, label)], TOL.loss, 'causalLMLoss float16');
      expectClose(tokenLogProbs(logits, label, { shift: true }), tokenLogProbs(asF32, label, { shift: true }), TOL.loss, 'tokenLogProbs float16');
    }
    // and the halves are close to the float32 logits: the model's own numbers, rounded
    expectClose([causalLMLoss(asF32, label)], [ref.causalLoss64], { rtol: 2e-3, atol: 0 }, 'float16 vs float32 loss');
  });
});
