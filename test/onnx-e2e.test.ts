// End to end, with no download: a tiny causal LM (torch.nn, seeded weights) exported to ONNX by
// test/fixtures/onnx/gen_tiny_lm.py, run with onnxruntime-node on fixed ids, and its output tensor handed
// to xent as it comes (`{ data, dims, type }`, [B, T, V]), with the ids as int64: causalLMLoss,
// tokenLogProbs and perplexity with shift, against PyTorch's values stored by the generator.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { causalLMLoss, causalLMLossWithGrad, perplexity, tokenLogProbs } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { TOL, expectClose } from './helpers/close.ts';
import { decodeArray } from './helpers/fixtures.ts';
import ref from './fixtures/onnx/tiny-lm.json';

const model = readFileSync(new URL('./fixtures/onnx/tiny-lm.onnx', import.meta.url));
const [B, T, V] = ref.shape;
const ids = decodeArray(ref.ids) as BigInt64Array, labels = decodeArray(ref.labels) as BigInt64Array;

describe.each(BACKENDS)('an ONNX causal LM scored with xent on %s', (backend) => {
  useBackend(backend);

  it('onnxruntime logits in as they are: causal loss, shifted log-probs and perplexity match PyTorch', async () => {
    const session = await ort.InferenceSession.create(model);
    const { logits } = await session.run({ input_ids: new ort.Tensor('int64', ids, [B, T]) });
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
    await session.release();
  });
});
