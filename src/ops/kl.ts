// kl_div as an op: its options (PyTorch's four reductions, log_target) and its kernel call, elementwise
// (rows are elements).
import type { Call } from '../backend/types.ts';
import { checkChoice, describe, shapeString } from '../args.ts';
import { gradScale, outBuffer } from '../outputs.ts';
import { resolveTensor } from '../problem.ts';
import type { LossOp } from './spec.ts';

const KEYS = ['reduction', 'logTarget'] as const;

export const KL_DIV: LossOp = {
  keys: KEYS,
  gradKeys: [...KEYS, 'gradOutput', 'out'],
  plan(input, target, opts, withGrad) {
    const { data: x, shape } = resolveTensor(input, 'input');
    const { data: y, shape: ts } = resolveTensor(target, 'target');
    if (y.length !== x.length || (!(target instanceof Float32Array) && shapeString(ts) !== shapeString(shape))) {
      throw new RangeError(`target: expected the input's shape ${shapeString(shape)}, got ${shapeString(ts)}`);
    }
    const kind = checkChoice('options.reduction', opts.reduction, ['mean', 'sum', 'none', 'batchmean'], 'mean');
    if (opts.logTarget !== undefined && typeof opts.logTarget !== 'boolean') {
      throw new TypeError(`options.logTarget: expected a boolean, got ${describe(opts.logTarget)}`);
    }
    // 'mean' is PyTorch's elementwise mean; 'batchmean' the sum over the first dimension's size
    const n = x.length, reduction = kind === 'batchmean' ? 'mean' : kind, divisor = kind === 'batchmean' ? (shape[0] ?? 1) : n;
    let grad: Float32Array | null = null, gscale = 1, scales: Float32Array | null = null;
    if (withGrad) {
      ({ gscale, scales } = gradScale(opts.gradOutput ?? 1, reduction, n, divisor, 'element'));
      grad = outBuffer(opts.out, n, [['input.data', x], ['target.data', y], ['options.gradOutput', scales]], x);
    }
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
