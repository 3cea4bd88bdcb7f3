// The arguments of `xent doctor`: its usage text, and the parsing of its options.
import type { Reduction } from '../types.ts';

export const USAGE = `usage: xent doctor <logits.npy> <targets.npy> [options]

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

export class UsageError extends Error {}

export interface Args {
  logits: string;
  targets: string;
  weight?: string;
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction: Reduction;
  json: boolean;
}

export function parseArgs(argv: string[]): Args {
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
