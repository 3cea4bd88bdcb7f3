// binary_cross_entropy_with_logits as an op: its options (PyTorch's weight broadcast, pos_weight), and
// its kernel call, elementwise (rows are elements).
import { WeightMode, type Call, type CallArray } from '../backend/types.ts';
import { checkFloat32Array, floatsOf, shapeString } from '../args.ts';
import { elementwiseGrad, resolvePair } from './elementwise.ts';
import { resolveReduction, resolveTensor } from '../problem.ts';
import type { LossOp } from './spec.ts';

/** The weight as one of: none, one per last-axis position, one per element (broadcast copies otherwise). */
function resolveBceWeight(weight: unknown, shape: readonly number[], n: number): { w: Float32Array | null; mode: WeightMode } {
  if (weight === undefined || weight === null) return { w: null, mode: WeightMode.none };
  const list = Array.isArray(weight) ? floatsOf('options.weight', weight)! : null; // number[]: 1-D
  const { data, shape: ws } = list ? { data: list, shape: [list.length] } : resolveTensor(weight, 'options.weight');
  const L = shape.length ? shape[shape.length - 1] : 1;
  if (ws.length > shape.length) throw new RangeError(`options.weight: shape ${shapeString(ws)} does not broadcast to the input's ${shapeString(shape)}`);
  // right-aligned: every weight dimension is 1 or the input's
  const off = shape.length - ws.length;
  ws.forEach((d, i) => {
    if (d !== 1 && d !== shape[off + i]) throw new RangeError(`options.weight: shape ${shapeString(ws)} does not broadcast to the input's ${shapeString(shape)}`);
  });
  if (data.length === n) return { w: data, mode: WeightMode.perElement };
  if (data.length === L && ws[ws.length - 1] === L) return { w: data, mode: WeightMode.lastAxis };
  // another broadcast pattern: expand it once
  const out = new Float32Array(n);
  const strides = ws.map((_, i) => ws.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let i = 0; i < n; i++) {
    let rem = i, src = 0;
    for (let a = shape.length - 1; a >= 0; a--) {
      const coord = rem % shape[a];
      rem = (rem - coord) / shape[a];
      const k = a - off;
      if (k >= 0 && ws[k] !== 1) src += coord * strides[k];
    }
    out[i] = data[src];
  }
  return { w: out, mode: WeightMode.perElement };
}

function resolveBce(input: unknown, t: unknown, opts: Record<string, unknown>) {
  const { x, y, shape } = resolvePair(input, t);
  const L = shape.length ? shape[shape.length - 1] : 1;
  const { w, mode } = resolveBceWeight(opts.weight, shape, x.length);
  let pw: Float32Array | null = null;
  if (opts.posWeight !== undefined) {
    pw = floatsOf('options.posWeight', opts.posWeight) ?? checkFloat32Array('options.posWeight', opts.posWeight);
    if (pw.length !== L) throw new RangeError(`options.posWeight: expected ${L} values (the last axis), got ${pw.length}`);
  }
  return { x, y, L, w, mode, pw, reduction: resolveReduction(opts.reduction) };
}

/** The kernel call of a validated BCE problem: rows are elements. */
function bceCall(p: ReturnType<typeof resolveBce>, grad: Float32Array | null, gscale: number, scales: Float32Array | null): Call {
  const weight: CallArray | null = p.mode === WeightMode.perElement ? { role: 'in', data: p.w!, per: 1 }
    : p.mode === WeightMode.lastAxis ? { role: 'cycle', data: p.w!, period: p.L } : null;
  return {
    kernel: 'bce',
    rows: p.x.length,
    arrays: {
      x: { role: 'in', data: p.x, per: 1 }, y: { role: 'in', data: p.y, per: 1 }, weight,
      posWeight: p.pw ? { role: 'cycle', data: p.pw, period: p.L } : null,
      scales: scales ? { role: 'in', data: scales, per: 1 } : null,
      grad: grad ? { role: 'out', data: grad, per: 1 } : null,
      loss: null,
    },
    scalars: { L: p.L, wMode: p.mode, gscale },
    over: ['grad', 'x'],
  };
}

const KEYS = ['weight', 'posWeight', 'reduction'] as const;

export const BCE_WITH_LOGITS: LossOp = {
  keys: KEYS,
  gradKeys: [...KEYS, 'gradOutput', 'out'],
  plan(input, target, opts, withGrad) {
    const p = resolveBce(input, target, opts);
    const n = p.x.length;
    const { grad = null, gscale = 1, scales = null } = withGrad
      ? elementwiseGrad(opts, p.x, p.reduction, n, [['target.data', p.y], ['options.weight', p.w], ['options.posWeight', p.pw]])
      : {};
    return { call: bceCall(p, grad, gscale, scales), reduction: p.reduction, divisor: n, per: 1, grad: grad ?? undefined };
  },
};
