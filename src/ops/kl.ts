// kl_div as an op: its options (PyTorch's four reductions, log_target) and its kernel call, elementwise
// (rows are elements).
import type { Call } from '../backend/types.ts';
import { checkChoice, describe } from '../args.ts';
import { elementwiseGrad, resolvePair } from './elementwise.ts';
import type { LossOp } from './spec.ts';

const KEYS = ['reduction', 'logTarget'] as const;

export const KL_DIV: LossOp = {
  keys: KEYS,
  gradKeys: [...KEYS, 'gradOutput', 'out'],
  plan(input, target, opts, withGrad) {
    const { x, y, shape } = resolvePair(input, target);
    const kind = checkChoice('options.reduction', opts.reduction, ['mean', 'sum', 'none', 'batchmean'], 'mean');
    if (opts.logTarget !== undefined && typeof opts.logTarget !== 'boolean') {
      throw new TypeError(`options.logTarget: expected a boolean, got ${describe(opts.logTarget)}`);
    }
    // 'mean' is PyTorch's elementwise mean; 'batchmean' the sum over the first dimension's size
    const n = x.length, reduction = kind === 'batchmean' ? 'mean' : kind, divisor = kind === 'batchmean' ? (shape[0] ?? 1) : n;
    const { grad = null, gscale = 1, scales = null } = withGrad ? elementwiseGrad(opts, x, reduction, divisor, [['target.data', y]]) : {};
    const call: Call = {
      kernel: 'kl_div',
      rows: n,
      arrays: {
        x: { role: 'in', data: x, per: 1 }, y: { role: 'in', data: y, per: 1 },
        scales: scales ? { role: 'in', data: scales, per: 1 } : null,
        grad: grad ? { role: 'out', data: grad, per: 1 } : null,
        loss: null,
      },
      scalars: { logTarget: opts.logTarget ? 1 : 0, gscale },
      over: ['grad', 'x'],
    };
    return { call, reduction, divisor, per: 1, grad: grad ?? undefined };
  },
};
