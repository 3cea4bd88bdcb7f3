#!/usr/bin/env node
// The `xent` command. `xent doctor logits.npy targets.npy` reads arrays saved from PyTorch with
// np.save(path, tensor.detach().cpu().numpy()), prints the loss, per-row statistics and every finding of
// diagnose() in plain words (or JSON with --json).
//
// Exit codes: 0 nothing of severity 'error' was found (warnings and info may have been printed);
// 1 at least one finding of severity 'error'; 2 bad usage or a file that cannot be used (one line on
// stderr, never a stack trace); 3 an internal error (a bug in xent; also one line).
//
// The only module of xent that uses Node APIs (it reads the files and writes the output; src/cli/ computes
// and renders): the library itself stays browser-safe.
import { readFileSync } from 'node:fs';
import { NpyError, parseNpy, type NpyArray } from './npy.ts';
import { USAGE, UsageError, parseArgs } from './cli/args.ts';
import { json, text } from './cli/render.ts';
import { doctorReport } from './cli/report.ts';

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
  const report = doctorReport(args, {
    logits: load(args.logits),
    targets: load(args.targets),
    ...(args.weight !== undefined ? { weight: load(args.weight) } : {}),
  });
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
