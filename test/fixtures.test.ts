// PyTorch parity: every case of the committed fixtures (test/fixtures/*.json, written by
// gen_fixtures.py with PyTorch 1.13), on both backends, against torch's float64 answer.
import { describe, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad, logSoftmax, logSumExp, nllLoss, softmax } from '../src/index.ts';
import type { Target } from '../src/index.ts';
import { BACKENDS, useBackend } from './helpers/backends.ts';
import { expectClose, TOL } from './helpers/close.ts';
import { expectedValues, loadFixtures, type LossCase } from './helpers/fixtures.ts';

const cases = [...loadFixtures('torch-small'), ...loadFixtures('torch-large')];

/** The target in the form a user would pass it: a number (unbatched), a BigInt64Array (batched [N]), an
 *  index tensor (K-dim), or a probability tensor. */
function targetOf(c: LossCase): Target {
  const t = c.target;
  if (t.kind === 'prob') return { data: t.data, shape: t.shape };
  if (t.shape.length === 0) return Number(t.data[0]);
  if (t.shape.length === 1) return t.data;
  return { data: t.data, shape: t.shape };
}

function optionsOf(c: LossCase) {
  const o = c.options;
  return { weight: o.weight ?? undefined, ignoreIndex: o.ignoreIndex, reduction: o.reduction, labelSmoothing: o.labelSmoothing };
}

const asArray = (v: number | Float32Array) => (typeof v === 'number' ? [v] : v);

describe.each(BACKENDS)('PyTorch fixtures on %s', (backend) => {
  useBackend(backend);

  for (const group of ['cross_entropy', 'nll_loss', 'log_softmax', 'softmax', 'logsumexp'] as const) {
    const selected = cases.filter((c) => c.op === group);
    it(`${group}: ${selected.length} cases`, () => {
      for (const c of selected) {
        const input = { data: c.input.data, shape: c.input.shape };
        if (c.op === 'cross_entropy' || c.op === 'nll_loss') {
          const fn = c.op === 'cross_entropy' ? crossEntropy : nllLoss;
          const loss = asArray(fn(input, targetOf(c), optionsOf(c)));
          expectClose(loss, expectedValues(c, loss), TOL.loss, `${c.name} loss`);
          if (c.expected.grad64 && c.gradOutput) {
            const gradOutput = c.options.reduction === 'none' ? Float32Array.from(c.gradOutput) : c.gradOutput[0];
            const r = crossEntropyWithGrad(input, targetOf(c), { ...optionsOf(c), gradOutput });
            expectClose(asArray(r.loss), expectedValues(c, asArray(r.loss)), TOL.loss, `${c.name} loss (with grad)`);
            expectClose(r.grad, Array.from(c.expected.grad64, Math.fround), TOL.grad, `${c.name} grad`);
          }
        } else {
          const fn = { log_softmax: logSoftmax, softmax, logsumexp: logSumExp }[c.op];
          const out = fn(input, { dim: c.dim });
          expectClose(out, expectedValues(c, out), c.op === 'softmax' ? TOL.softmax : TOL.logSoftmax, c.name);
        }
      }
    });
  }
});
