// `xent doctor`'s report: the loss, per-row statistics and diagnose()'s findings on the arrays read from
// the .npy files, computed without printing anything (render.ts prints it).
import { shapeString } from '../args.ts';
import { crossEntropy, diagnose, logSumExp } from '../index.ts';
import type { NpyArray } from '../npy.ts';
import { positionOffset, positionShape, sameShape } from '../shape.ts';
import type { CrossEntropyOptions, Finding, Reduction, Target, Tensor } from '../types.ts';
import { UsageError, type Args } from './args.ts';

function toFloat32(a: NpyArray): Float32Array {
  return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as Float64Array);
}

const isFloat = (a: NpyArray) => a.dtype.startsWith('float');

function quantiles(values: number[]): { min: number; median: number; mean: number; max: number } | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  let sum = 0;
  for (const v of values) sum += v;
  return { min: sorted[0], median, mean: sum / values.length, max: sorted[sorted.length - 1] };
}

export interface Report {
  logits: { path: string; dtype: string; shape: number[]; fortranOrder: boolean };
  targets: { path: string; dtype: string; shape: number[]; fortranOrder: boolean; kind: 'class indices' | 'probabilities' | 'integers shaped like the logits' };
  weight?: { path: string; dtype: string; shape: number[] };
  options: { reduction: Reduction; ignoreIndex: number; labelSmoothing: number };
  layout: { N: number; C: number; S: number; positions: number };
  loss: number | null;
  lossError?: string;
  notes: string[];
  rows?: {
    count: number;
    ignored: number;
    loss: { min: number; median: number; mean: number; max: number } | null;
    accuracy: number | null;
    correct: number;
    scored: number;
    meanConfidence: number | null;
    maxAbsLogit: number;
    spread: { min: number; median: number; mean: number; max: number } | null;
  };
  worstRows: { position: number; loss: number; target: number | null; targetLogit: number | null; argmax: number; maxLogit: number }[];
  findings: Finding[];
  exitCode: number;
}

/** The arrays `xent doctor` read, as parsed from their .npy files. */
export interface DoctorInputs {
  logits: NpyArray;
  targets: NpyArray;
  weight?: NpyArray;
}

/** What `xent doctor` reports on these arrays (no I/O: the files are read by the caller); throws a
 *  UsageError for arrays that cannot be read as logits, targets and weight. */
export function doctorReport(args: Args, { logits: L, targets: T, weight: W }: DoctorInputs): Report {
  const notes: string[] = [];

  if (!isFloat(L)) {
    throw new UsageError(`${args.logits}: dtype ${L.dtype}; logits must be float16, float32 or float64`);
  }
  if (L.shape.length === 0) throw new UsageError(`${args.logits}: a 0-d array (a scalar); logits need at least 1 dimension (the classes)`);
  const shape = L.shape;
  const C = shape.length > 1 ? shape[1] : shape[0];
  if (C === 0) throw new UsageError(`${args.logits}: shape ${shapeString(shape)} has 0 classes`);
  const N = shape.length > 1 ? shape[0] : 1;
  const S = shape.slice(2).reduce((a, b) => a * b, 1);
  const P = N * S;
  const posShape = positionShape(shape);
  const x = toFloat32(L);
  if (L.dtype === 'float16') notes.push('float16 logits converted to float32 (exactly)');
  if (L.dtype === 'float64') {
    let overflow = 0;
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]) && Number.isFinite((L.data as Float64Array)[i])) overflow++;
    notes.push(`float64 logits rounded to float32 (xent computes in float32, like PyTorch on float32 tensors)${overflow ? `; ${overflow} values overflow float32 to +-inf` : ''}`);
  }
  if (L.fortranOrder) notes.push(`${args.logits} is stored in Fortran order (a transposed tensor); read in C order`);
  if (T.fortranOrder) notes.push(`${args.targets} is stored in Fortran order; read in C order`);

  const asIndices = sameShape(T.shape, posShape);
  const asProbs = !asIndices && sameShape(T.shape, shape);
  if (!asIndices && !asProbs) {
    let hint = '';
    if (shape.length === 3 && sameShape(T.shape, [shape[0], shape[1]])) {
      hint = '; if the logits are [batch, time, classes], save logits.transpose(1, 2) (classes on axis 1)';
    }
    throw new UsageError(`shape mismatch: ${args.targets} has shape ${shapeString(T.shape)} but ${args.logits} ${shapeString(shape)} ` +
      `needs ${shapeString(posShape)} (class indices) or ${shapeString(shape)} (probabilities)${hint}`);
  }
  let target: Target;
  let lossTarget: Target;
  if (isFloat(T)) {
    const data = toFloat32(T);
    target = { data, shape: T.shape };
    lossTarget = target;
    if (T.dtype === 'float64') notes.push(`float64 targets rounded to float32`);
    if (T.dtype === 'float16') notes.push(`float16 targets converted to float32 (exactly)`);
    if (asIndices && data.every((v) => Number.isInteger(v))) {
      lossTarget = Int32Array.from(data);
      notes.push(`${args.targets} holds class indices as ${T.dtype}: read as integers for the loss (PyTorch needs target.long())`);
    }
  } else {
    target = { data: T.data as Int32Array, shape: T.shape };
    lossTarget = target;
  }

  let weight: Float32Array | undefined;
  if (W) {
    if (!sameShape(W.shape, [C])) throw new UsageError(`${args.weight}: shape ${shapeString(W.shape)}; the weight needs shape [${C}] (one per class)`);
    weight = isFloat(W) ? toFloat32(W) : Float32Array.from(W.data as ArrayLike<number | bigint>, Number);
  }
  const opts: CrossEntropyOptions = { reduction: args.reduction };
  if (weight) opts.weight = weight;
  if (args.ignoreIndex !== undefined) opts.ignoreIndex = args.ignoreIndex;
  if (args.labelSmoothing !== undefined) opts.labelSmoothing = args.labelSmoothing;

  const input: Tensor = { data: x, shape };
  let findings: Finding[];
  try {
    findings = diagnose(input, target, opts);
  } catch (e) {
    // xent's own argument checks (what cannot be read as logits and targets at all) are usage errors here
    throw new UsageError((e as Error).message);
  }

  let loss: number | null = null;
  let lossError: string | undefined;
  let perRow: Float32Array | null = null;
  try {
    loss = crossEntropy(input, lossTarget, opts) as number;
    perRow = crossEntropy(input, lossTarget, { ...opts, reduction: 'none' }) as Float32Array;
  } catch (e) {
    lossError = (e as Error).message;
  }

  const ignoreIndex = args.ignoreIndex ?? -100;
  let indices: Float64Array | null = null;
  if (asIndices) {
    const src = lossTarget instanceof Int32Array ? lossTarget : (T.data as ArrayLike<number | bigint>);
    indices = Float64Array.from({ length: P }, (_, i) => Number(src[i]));
  }
  const probs = asProbs ? Float64Array.from(T.data as ArrayLike<number | bigint>, Number) : null;
  const lse = P > 0 ? logSumExp(input, { dim: shape.length > 1 ? 1 : 0 }) : new Float32Array(0);
  const rowLoss: number[] = [];
  const spreads: number[] = [];
  let ignored = 0, correct = 0, scored = 0, confidence = 0, maxAbs = 0;
  const worst: Report['worstRows'] = [];
  for (let r = 0; r < P; r++) {
    const off = positionOffset(r, C, S);
    let max = -Infinity, min = Infinity, arg = 0;
    for (let c = 0; c < C; c++) {
      const v = x[off + c * S];
      if (v > max) { max = v; arg = c; }
      if (v < min) min = v;
      if (Math.abs(v) > maxAbs && Number.isFinite(v)) maxAbs = Math.abs(v);
    }
    if (Number.isFinite(max - min)) spreads.push(max - min);
    let t: number | null = null;
    if (indices) {
      t = indices[r];
      if (t === ignoreIndex) { ignored++; continue; }
      if (!(t >= 0 && t < C)) t = null;
    } else if (probs) {
      let best = -Infinity;
      for (let c = 0; c < C; c++) if (probs[off + c * S] > best) { best = probs[off + c * S]; t = c; }
    }
    if (t !== null) { scored++; if (t === arg) correct++; }
    confidence += Math.exp(max - lse[r]);
    if (perRow) {
      const l = perRow[r];
      rowLoss.push(l);
      worst.push({
        position: r, loss: l, target: t, targetLogit: t !== null && indices ? x[off + t * S] : null, argmax: arg, maxLogit: max,
      });
    }
  }
  worst.sort((a, b) => (b.loss !== b.loss ? 1 : 0) - (a.loss !== a.loss ? 1 : 0) || b.loss - a.loss);
  const counted = P - ignored;
  const exitCode = findings.some((f) => f.severity === 'error') ? 1 : 0;
  return {
    logits: { path: args.logits, dtype: L.dtype, shape: L.shape, fortranOrder: L.fortranOrder },
    targets: { path: args.targets, dtype: T.dtype, shape: T.shape, fortranOrder: T.fortranOrder, kind: asIndices ? 'class indices' : isFloat(T) ? 'probabilities' : 'integers shaped like the logits' },
    ...(W ? { weight: { path: args.weight!, dtype: W.dtype, shape: W.shape } } : {}),
    options: { reduction: args.reduction, ignoreIndex, labelSmoothing: args.labelSmoothing ?? 0 },
    layout: { N, C, S, positions: P },
    loss,
    ...(lossError !== undefined ? { lossError } : {}),
    notes,
    rows: {
      count: P,
      ignored,
      loss: quantiles(rowLoss),
      accuracy: scored ? correct / scored : null,
      correct,
      scored,
      meanConfidence: counted ? confidence / counted : null,
      maxAbsLogit: maxAbs,
      spread: quantiles(spreads),
    },
    worstRows: worst.slice(0, 3),
    findings,
    exitCode,
  };
}
