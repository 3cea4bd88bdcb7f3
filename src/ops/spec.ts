// A loss, described once: its option keys, how it plans a backend call from its checked arguments, and
// what it adds to the result. runLoss and runLossWithGrad are the one path from public arguments to the
// backend for every loss: options and arguments read once -> diagnostics -> plan -> run -> reduce.
import type { Call, CallResult } from '../backend/types.ts';
import { checkOptions, readArg } from '../args.ts';
import { returnedOut } from '../outputs.ts';
import type { LossWithGrad, Reduction } from '../types.ts';
import { runReduced } from './run.ts';

export interface LossPlan {
  call: Call;
  reduction: Reduction;
  /** The mean's divisor (positions, elements or their total weight). */
  divisor: number;
  /** Loss values per row of the call, for reduction 'none'. */
  per: number;
  /** Where the gradient goes (gradient plans only). */
  grad?: Float32Array;
  /** Further results of a gradient call, from the call's result (the z-loss part, say). */
  extra?(result: CallResult): Record<string, number>;
}

export interface LossOp {
  /** The options the loss takes, and its gradient form (null: it has none). */
  keys: readonly string[];
  gradKeys: readonly string[] | null;
  /** The arguments as the op reads them (the crossEntropy family's classAxis: classes-last logits as
   *  [N, C]), before anything else. */
  arrange?(input: unknown, target: unknown, opts: Record<string, unknown>): [unknown, unknown];
  /** Diagnostics (the `check` option), before anything is validated. */
  check?(input: unknown, target: unknown, opts: Record<string, unknown>, grad: boolean): void;
  /** Validates the arguments (TypeError / RangeError) and lays out the call. */
  plan(input: unknown, target: unknown, opts: Record<string, unknown>, grad: boolean): LossPlan;
}

/** The arguments of a loss, each read once: everything after this works on the copies. */
function read(op: LossOp, input: unknown, target: unknown, options: unknown, grad: boolean) {
  const opts = checkOptions(options, grad ? op.gradKeys! : op.keys);
  let x = readArg('input', input), t = readArg('target', target);
  if (op.arrange) [x, t] = op.arrange(x, t, opts);
  op.check?.(x, t, opts, grad);
  return { opts, plan: op.plan(x, t, opts, grad) };
}

export function runLoss(op: LossOp, input: unknown, target: unknown, options: unknown): number | Float32Array {
  const { plan } = read(op, input, target, options, false);
  return runReduced(plan.call, plan.reduction, plan.divisor, plan.per).loss;
}

/** The loss and its gradient (`grad`, laid out like the input: the caller's `out` when given), and the
 *  op's extra results. */
export function runLossWithGrad(op: LossOp, input: unknown, target: unknown, options: unknown): LossWithGrad {
  const { opts, plan } = read(op, input, target, options, true);
  const { loss, result } = runReduced(plan.call, plan.reduction, plan.divisor, plan.per);
  return { loss, grad: returnedOut(result.outs.grad, plan.grad!, opts.out), ...plan.extra?.(result) };
}
