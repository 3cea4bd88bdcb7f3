#!/usr/bin/env node
// The `xent` command. `xent doctor logits.npy targets.npy` reads arrays saved from PyTorch with
// np.save(path, tensor.detach().cpu().numpy()), prints the loss, per-row statistics and every finding of
// diagnose() in plain words (or JSON with --json).
//
// Exit codes: 0 nothing of severity 'error' was found (warnings and info may have been printed);
// 1 at least one finding of severity 'error'; 2 bad usage or a file that cannot be used (one line on
// stderr, never a stack trace); 3 an internal error (a bug in xent; also one line).
//
// The only module of xent that uses Node APIs: the library itself stays browser-safe.
import { readFileSync } from 'node:fs';
import { crossEntropy, diagnose, logSumExp } from './index.ts';
import { fmt } from './diagnose/findings.ts';
import { NpyError, parseNpy, type NpyArray } from './npy.ts';
import { positionShape, sameShape } from './shape.ts';
import { shapeString } from './args.ts';
import type { CrossEntropyOptions, Finding, Reduction, Target, Tensor } from './types.ts';

const USAGE = `usage: xent doctor <logits.npy> <targets.npy> [options]

Reads logits and targets saved from PyTorch (np.save(path, t.detach().cpu().numpy())), computes
F.cross_entropy on them and explains what looks wrong: softmax before the loss, one-hot targets,
class indices out of range, NaN or exploding logits, all targets ignored, a single class, ...

  logits.npy              float16, float32 or float64; shape [C], [N, C] or [N, C, d1, ..., dK]
  targets.npy             class indices (int64, int32, ...; the logits' shape without the class
                          axis) or class probabilities (float; the logits' shape)
  --weight <w.npy>        per-class weight, shape [C]
  --ignore-index <N>      default -100
  --label-smoothing <S>   in [0, 1], default 0
  --reduction <mean|sum>  default mean
  --json                  print one JSON object instead of text

Exit status: 0 no errors found, 1 errors found, 2 bad usage or unreadable file, 3 internal error.`;

class UsageError extends Error {}

interface Args {
  logits: string;
  targets: string;
  weight?: string;
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction: Reduction;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const args: Partial<Args> = { reduction: 'mean', json: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    if (arg.startsWith('--') && arg.includes('=')) {
      value = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    const next = (): string => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--json': args.json = true; break;
      case '--weight': args.weight = next(); break;
      case '--ignore-index': {
        const v = next();
        if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new UsageError(`--ignore-index: expected an integer, got "${v}"`);
        args.ignoreIndex = Number(v);
        break;
      }
      case '--label-smoothing': {
        const v = next();
        const s = Number(v);
        if (v.trim() === '' || !(s >= 0 && s <= 1)) throw new UsageError(`--label-smoothing: expected a number in [0, 1], got "${v}"`);
        args.labelSmoothing = s;
        break;
      }
      case '--reduction': {
        const v = next();
        if (v !== 'mean' && v !== 'sum') throw new UsageError(`--reduction: expected mean or sum, got "${v}"`);
        args.reduction = v;
        break;
      }
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (positional.length !== 2) {
    throw new UsageError(`expected 2 files (logits.npy targets.npy), got ${positional.length}`);
  }
  [args.logits, args.targets] = positional;
  return args as Args;
}

function load(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UsageError(`${path}: cannot read (${why})`);
  }
  try {
    return parseNpy(bytes);
  } catch (e) {
    if (e instanceof NpyError) throw new UsageError(`${path}: ${e.message}`);
    throw e;
  }
}

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

interface Report {
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

function doctor(args: Args): Report {
  const L = load(args.logits);
  const T = load(args.targets);
  const W = args.weight !== undefined ? load(args.weight) : undefined;
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
  let ignored = 0;
  let correct = 0;
  let scored = 0;
  let confidence = 0;
  let maxAbs = 0;
  const worst: Report['worstRows'] = [];
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const r = n * S + s;
      const off = n * C * S + s;
      let max = -Infinity;
      let min = Infinity;
      let arg = 0;
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

function wrap(text: string, indent: string, width = 100): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width - indent.length) { lines.push(line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

function text(r: Report): string {
  const out: string[] = [];
  const pos = (p: number) => (r.layout.S === 1 ? `row ${p}` : `position ${p}`);
  out.push(`xent doctor: ${r.logits.path} ${r.logits.dtype} ${shapeString(r.logits.shape)}, ${r.targets.path} ${r.targets.dtype} ` +
    `${shapeString(r.targets.shape)} (${r.targets.kind})${r.weight ? `, weight ${r.weight.path}` : ''}`);
  out.push(`  ${r.layout.positions} position${r.layout.positions === 1 ? '' : 's'} x ${r.layout.C} class${r.layout.C === 1 ? '' : 'es'}; reduction '${r.options.reduction}', ignoreIndex ${r.options.ignoreIndex}` +
    `${r.options.labelSmoothing ? `, labelSmoothing ${r.options.labelSmoothing}` : ''}`);
  for (const n of r.notes) out.push(`  note: ${n}`);
  out.push(r.loss !== null ? `loss: ${fmt(r.loss, 8)}` : `loss: not computed (crossEntropy refuses these arguments: ${r.lossError})`);
  const rows = r.rows!;
  const q = (s: { min: number; median: number; mean: number; max: number } | null) =>
    s ? `min ${fmt(s.min)}, median ${fmt(s.median)}, mean ${fmt(s.mean)}, max ${fmt(s.max)}` : 'n/a';
  out.push(`per-row loss: ${q(rows.loss)} (${rows.count - rows.ignored} scored, ${rows.ignored} ignored)`);
  if (rows.accuracy !== null) {
    out.push(`accuracy (argmax = target): ${rows.correct} of ${rows.scored} (${fmt(100 * rows.accuracy, 4)}%); ` +
      `mean confidence (largest softmax probability): ${rows.meanConfidence === null ? 'n/a' : fmt(rows.meanConfidence, 4)}`);
  }
  out.push(`logits: largest |logit| ${fmt(rows.maxAbsLogit)}; per-row spread (max - min): ${q(rows.spread)}`);
  if (r.worstRows.length && r.loss !== null) {
    out.push('worst rows:');
    for (const w of r.worstRows) {
      const tgt = w.target === null ? '' : `, target ${w.target}${w.targetLogit !== null ? ` (logit ${fmt(w.targetLogit)})` : ''}`;
      out.push(`  ${pos(w.position)}: loss ${fmt(w.loss)}${tgt}, argmax ${w.argmax} (logit ${fmt(w.maxLogit)})`);
    }
  }
  if (r.findings.length === 0) out.push('findings: none; nothing looks wrong.');
  else {
    out.push(`findings (${r.findings.length}):`);
    for (const f of r.findings) {
      const where = f.positions.length ? ` at ${f.positions.join(', ')}${f.count > f.positions.length ? ', …' : ''}` : '';
      out.push(`  ${f.severity.toUpperCase()} ${f.code} (count ${f.count}${where})`);
      out.push(wrap(f.message, '      '));
    }
  }
  return out.join('\n');
}

function json(r: Report): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help' || (command === 'doctor' && (rest.includes('--help') || rest.includes('-h')))) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  if (command === undefined) throw new UsageError('missing command (xent doctor <logits.npy> <targets.npy>)');
  if (command !== 'doctor') throw new UsageError(`unknown command "${command}" (the only command is doctor)`);
  const args = parseArgs(rest);
  const report = doctor(args);
  process.stdout.write((args.json ? json(report) : text(report)) + '\n');
  return report.exitCode;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`xent: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`xent: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 3;
  }
}
