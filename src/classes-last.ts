// Classes-last logits ([..., V]: how language models lay them out) read as PyTorch's [N, V]: the leading
// axes flattened into one batch axis, the target checked against them and flattened too. The data stay
// where they are (the same row-major order), so everything after sees an ordinary [N, C] problem, and
// per-position results ('none', log-probabilities) come out in the order of the target's positions.
import { describe, shapeString } from './args.ts';
import { isShape, positionShape, sameShape } from './shape.ts';

/** The crossEntropy family's `classAxis` option: true for classes last (-1 or 'last'), false for axis 1
 *  (1 or not given, PyTorch's layout). */
export function classesLastOf(v: unknown): boolean {
  if (v === undefined || v === 1) return false;
  if (v === -1 || v === 'last') return true;
  throw new (typeof v === 'number' ? RangeError : TypeError)(
    `options.classAxis: expected 1 (PyTorch's layout, the default), -1 or 'last' (classes last), got ${describe(v)}`,
  );
}

/** A read argument ({ data, shape } copies from readArg) with a well-formed shape, else null. */
function shaped(v: unknown): { data: unknown; shape: number[] } | null {
  if (typeof v !== 'object' || v === null || !('data' in v)) return null;
  const shape = (v as { shape?: unknown }).shape;
  return isShape(shape) ? (v as { data: unknown; shape: number[] }) : null;
}

/**
 * Logits [d0, ..., dk, V] as [d0 * ... * dk, V] and their target: class indices of shape [d0, ..., dk] as
 * [N], probabilities of the logits' shape as [N, V]; a target given as a flat array or a list is left for
 * the usual length check. Inputs that are not shaped tensors, or have one axis, are returned as they are
 * (the checks after this refuse what is malformed).
 */
export function asClassesFirst(input: unknown, target: unknown): [unknown, unknown] {
  const x = shaped(input);
  if (!x || x.shape.length < 2) return [input, target];
  const lead = x.shape.slice(0, -1), V = x.shape[x.shape.length - 1];
  const N = lead.reduce((a, b) => a * b, 1);
  const flatX = { ...x, shape: [N, V] };
  const t = shaped(target);
  if (!t) return [flatX, target];
  if (sameShape(t.shape, x.shape) && t.data instanceof Float32Array) return [flatX, { ...t, shape: [N, V] }];
  if (sameShape(t.shape, lead)) return [flatX, { ...t, shape: [N] }];
  throw new RangeError(
    `target: logits ${shapeString(x.shape)} with classes last need class indices of shape ${shapeString(lead)} ` +
    `(or probabilities of shape ${shapeString(x.shape)}), got ${shapeString(t.shape)}` +
    (sameShape(t.shape, positionShape(x.shape)) ? `; that is the shape classes on axis 1 need (PyTorch's layout, crossEntropy's default)` : ''),
  );
}
