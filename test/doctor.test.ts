// `xent doctor`: the built CLI (dist/cli.js, built by `npm test`'s pretest) on .npy files written by
// numpy (test/fixtures/npy/, from gen_npy.py): losses against numpy's float64 reference and against
// crossEntropy on the same arrays, findings, JSON output, exit codes, and one clean line per bad file.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { crossEntropy } from '../src/index.ts';
import { parseNpy, NpyError } from '../src/npy.ts';
import { expectClose, TOL } from './helpers/close.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = `${ROOT}dist/cli.js`;
const DIR = 'test/fixtures/npy';
const REF = JSON.parse(readFileSync(`${ROOT}${DIR}/reference.json`, 'utf8'));
const npy = (name: string) => `${DIR}/${name}.npy`;
const read = (name: string) => parseNpy(readFileSync(`${ROOT}${npy(name)}`));

interface Run { code: number; stdout: string; stderr: string }

function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function json(...args: string[]) {
  const r = await run(...args, '--json');
  expect(r.stderr).toBe('');
  return { ...JSON.parse(r.stdout), code: r.code };
}

const codes = (report: { findings: { code: string }[] }) => report.findings.map((f) => f.code);

describe('xent doctor: losses', () => {
  it('prints the loss of float32 logits and int64 targets: numpy float64 reference and crossEntropy agree', async () => {
    const r = await run('doctor', npy('logits_f32'), npy('targets_i64'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const printed = Number(/^loss: (\S+)$/m.exec(r.stdout)![1]);
    const x = read('logits_f32');
    const t = read('targets_i64');
    const want = crossEntropy({ data: x.data as Float32Array, shape: x.shape }, t.data as BigInt64Array) as number;
    expect(printed).toBe(Number(want.toPrecision(8)));
    expectClose(printed, REF.f32, TOL.loss, 'loss');
    expect(r.stdout).toMatch(/findings: none/);
    expect(r.stdout).toMatch(/per-row loss: min 0\.01653\d*, median/);
  });

  it('reads every dtype, byte order and format version of the same numbers to the same loss', async () => {
    const variants = [
      ['logits_f32', 'targets_i64'], ['logits_f64', 'targets_i64'], ['logits_fortran', 'targets_i32'],
      ['logits_v2', 'targets_u8'], ['logits_v3', 'targets_i64'],
    ];
    const reports = await Promise.all(variants.map(([l, t]) => json('doctor', npy(l), npy(t))));
    for (const rep of reports) {
      expect(rep.code).toBe(0);
      expect(rep.loss).toBe(reports[0].loss);
      expect(rep.findings).toEqual([]);
    }
    expectClose(reports[0].loss, REF.f32, TOL.loss);
    expect(reports[1].logits.dtype).toBe('float64');
    expect(reports[1].notes.join()).toMatch(/float64 logits rounded to float32/);
    expect(reports[2].logits.fortranOrder).toBe(true);
    expect(reports[2].notes.join()).toMatch(/Fortran order/);
    // per-row statistics against the reference's per-row losses
    const rows = [...REF.f32_none].sort((a: number, b: number) => a - b);
    expectClose([reports[0].rows.loss.min, reports[0].rows.loss.max], [rows[0], rows[3]], TOL.loss);
    expect(reports[0].rows).toMatchObject({ count: 4, ignored: 0, scored: 4 });
    expect(reports[0].worstRows[0].position).toBe(REF.f32_none.indexOf(rows[3]));
  });

  it('float16 logits (subnormals and -0 included), probabilities, K-dimensional and Fortran-order K-dimensional', async () => {
    const [f16, p32, p64, k, kf] = await Promise.all([
      json('doctor', npy('logits_f16'), npy('targets_f16')),
      json('doctor', npy('logits_f32'), npy('probs_f32')),
      json('doctor', npy('logits_f32'), npy('probs_f64')),
      json('doctor', npy('logits_3d'), npy('targets_3d')),
      json('doctor', npy('logits_3d_fortran'), npy('targets_3d')),
    ]);
    expectClose(f16.loss, REF.f16, TOL.loss, 'f16');
    expect(f16.notes.join()).toMatch(/float16 logits converted/);
    expectClose(p32.loss, REF.probs, TOL.loss, 'probs');
    expect(p32.targets.kind).toBe('probabilities');
    expect(p64.loss).toBe(p32.loss);
    expectClose(k.loss, REF['3d'], TOL.loss, '3d');
    expect(k.layout).toEqual({ N: 2, C: 5, S: 3, positions: 6 });
    expect(kf.loss).toBe(k.loss);
  });

  it('--weight, --label-smoothing, --reduction, --ignore-index', async () => {
    const [ws, ig, eq] = await Promise.all([
      json('doctor', npy('logits_f32'), npy('targets_i64'), '--weight', npy('weight'), '--label-smoothing', '0.1', '--reduction', 'sum'),
      json('doctor', npy('logits_f32'), npy('targets_i64'), '--ignore-index=2'),
      json('doctor', npy('logits_f32'), npy('targets_i64'), '--label-smoothing=0.1', '--weight', npy('weight'), '--reduction=sum'),
    ]);
    expectClose(ws.loss, REF.f32_weight_smooth_sum, TOL.loss, 'weight + smoothing + sum');
    expect(ws.options).toEqual({ reduction: 'sum', ignoreIndex: -100, labelSmoothing: 0.1 });
    expect(eq.loss).toBe(ws.loss);
    expectClose(ig.loss, REF.f32_ignore2, TOL.loss, 'ignoreIndex 2');
    expect(ig.rows.ignored).toBe(1);
  });

  it('the float16 reader is exact: every special value numpy converts', () => {
    const half = read('half_special');
    const want = read('half_special_as_f32');
    expect(half.dtype).toBe('float16');
    expect(Array.from(half.data as Float32Array)).toEqual(Array.from(want.data as Float32Array)); // -0, NaN, subnormals
    expect(Object.is((half.data as Float32Array)[1], -0)).toBe(true);
  });
});

describe('xent doctor: the seed scenarios and other findings', () => {
  it('seeds 001/004: softmax before the loss -> probabilities-as-logits, exit 1', async () => {
    const rep = await json('doctor', npy('seed_softmax_logits'), npy('seed_softmax_targets'));
    expect(rep.code).toBe(1);
    expect(codes(rep)).toEqual(['probabilities-as-logits']);
    expectClose(rep.loss, REF.seed_softmax, TOL.loss);
    const text = await run('doctor', npy('seed_softmax_logits'), npy('seed_softmax_targets'));
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/ERROR probabilities-as-logits \(count 2 at 0, 1\)/);
    expect(text.stdout).toMatch(/softmax already applied/);
  });

  it('seeds 001/004: one-hot targets -> one-hot-target (info as float probabilities, error as integers)', async () => {
    const [f, i] = await Promise.all([
      json('doctor', npy('seed_onehot_logits'), npy('seed_onehot_targets')),
      json('doctor', npy('seed_onehot_logits'), npy('seed_onehot_int_targets')),
    ]);
    expect(f.code).toBe(0);
    expect(codes(f)).toEqual(['one-hot-target']);
    expect(f.findings[0].severity).toBe('info');
    expectClose(f.loss, REF.seed_onehot, TOL.loss);
    expect(i.code).toBe(1);
    expect(codes(i)).toEqual(['one-hot-target']);
    expect(i.findings[0].severity).toBe('error');
    expect(i.loss).toBeNull();
    expect(i.lossError).toMatch(/class indices must have shape \[2\]/);
  });

  it('seed 002: huge spread -> underflowing-target, loss 142 (a 0-d target)', async () => {
    const rep = await json('doctor', npy('seed_huge_logits'), npy('seed_huge_target'));
    expect(rep.code).toBe(0);
    expect(rep.loss).toBe(142);
    expect(REF.seed_huge).toBe(142);
    expect(rep.targets.shape).toEqual([]);
    expect(codes(rep)).toEqual(['underflowing-target']);
  });

  it('seed 000: the confident [100, 1, 0] rows -> saturated-rows (info) and a finite loss', async () => {
    const rep = await json('doctor', npy('seed_confident_logits'), npy('seed_confident_targets'));
    expect(rep.code).toBe(0);
    expect(codes(rep)).toEqual(['saturated-rows']);
    expectClose(rep.loss, (REF.seed_confident_none[0] + REF.seed_confident_none[1]) / 2, TOL.loss);
  });

  it('out-of-range targets, NaN logits with all targets ignored, float class indices', async () => {
    const [oob, nan, fidx] = await Promise.all([
      json('doctor', npy('logits_f32'), npy('targets_oob')),
      json('doctor', npy('logits_nan'), npy('targets_ignored')),
      json('doctor', npy('logits_f32'), npy('targets_float_idx')),
    ]);
    expect(oob.code).toBe(1);
    expect(codes(oob)).toEqual(['target-out-of-range']);
    expect(oob.findings[0]).toMatchObject({ positions: [1, 3], values: [5, -1] });
    expect(oob.loss).toBeNull();
    expect(nan.code).toBe(1);
    expect(nan.loss).toBe('NaN'); // non-finite numbers are written as strings in JSON
    expect(codes(nan)).toEqual(['all-targets-ignored', 'non-finite-logits']);
    expect(nan.findings[1]).toMatchObject({ positions: [13], values: ['NaN'] });
    expect(fidx.code).toBe(1);
    expect(codes(fidx)).toEqual(['target-type']);
    expectClose(fidx.loss, REF.f32, TOL.loss); // computed on the indices read as integers
    expect(fidx.notes.join()).toMatch(/class indices as float32/);
  });
});

describe('xent doctor: bad files and usage get one line on stderr and exit code 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['big-endian', [npy('big_endian'), npy('targets_i64')], /big_endian\.npy: big-endian data \('>f4'\) is not supported/],
    ['bool', [npy('bool'), npy('targets_i64')], /bool\.npy: unsupported dtype '\|b1' \(bool\)/],
    ['complex', [npy('logits_f32'), npy('complex')], /complex\.npy: unsupported dtype '<c8' \(complex64\)/],
    ['truncated', [npy('truncated'), npy('targets_i64')], /truncated\.npy: truncated \.npy file: shape \(4, 5\) of float32 needs 80 bytes of data, the file has 73/],
    ['wrong magic', [npy('wrong_magic'), npy('targets_i64')], /wrong_magic\.npy: not a \.npy file \(it starts with "PK/],
    ['empty file', [npy('empty'), npy('targets_i64')], /empty\.npy: not a \.npy file \(empty\)/],
    ['no shape in the header', [npy('no_shape'), npy('targets_i64')], /no_shape\.npy: malformed header/],
    ['integer logits', [npy('logits_int'), npy('targets_i64')], /logits_int\.npy: dtype int64; logits must be float16, float32 or float64/],
    ['shape mismatch', [npy('logits_f32'), npy('targets_mismatch')], /shape mismatch: .*targets_mismatch\.npy has shape \[3\] but .* needs \[4\] \(class indices\) or \[4, 5\] \(probabilities\)/],
    ['weight mismatch', [npy('logits_f32'), npy('targets_i64'), '--weight', npy('weight_mismatch')], /weight_mismatch\.npy: shape \[4\]; the weight needs shape \[5\]/],
    ['missing file', [`${DIR}/nope.npy`, npy('targets_i64')], /nope\.npy: cannot read \(no such file\)/],
    ['one file', [npy('logits_f32')], /expected 2 files/],
    ['unknown option', [npy('logits_f32'), npy('targets_i64'), '--mean'], /unknown option --mean/],
    ['bad ignore index', [npy('logits_f32'), npy('targets_i64'), '--ignore-index', '1.5'], /--ignore-index: expected an integer/],
    ['bad smoothing', [npy('logits_f32'), npy('targets_i64'), '--label-smoothing', '2'], /--label-smoothing: expected a number in \[0, 1\]/],
    ['missing value', [npy('logits_f32'), npy('targets_i64'), '--weight'], /--weight needs a value/],
  ];
  it.concurrent.for(cases)('%s', async ([, args, message], { expect }) => {
    // the refusal comes before any output, so --json changes nothing; checked on the file errors
    const runs = [run('doctor', ...args)];
    if (args[0].includes('big_endian') || args[0].includes('truncated') || args.includes('--weight')) runs.push(run('doctor', ...args, '--json'));
    for (const r of await Promise.all(runs)) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^xent: [^\n]*\n$/); // exactly one line
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('an unknown command or none: exit 2; --help and --version: exit 0', async () => {
    const [frob, none, help, version] = await Promise.all([run('frob'), run(), run('--help'), run('--version')]);
    expect(frob).toMatchObject({ code: 2, stdout: '' });
    expect(frob.stderr).toMatch(/^xent: unknown command "frob"/);
    expect(none.code).toBe(2);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: xent doctor <logits\.npy> <targets\.npy>/);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version);
  });
});

describe('packaging', () => {
  it('dist/cli.js is an executable with a node shebang, declared as the bin', () => {
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
    expect(JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).bin).toEqual({ xent: './dist/cli.js' });
  });

  it('only src/cli.ts uses Node APIs: the library stays browser-safe', () => {
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(`${dir}/${e.name}`) : [`${dir}/${e.name}`]));
    for (const file of files(`${ROOT}src`).filter((f) => f.endsWith('.ts') && !f.endsWith('/cli.ts'))) {
      const code = readFileSync(file, 'utf8');
      expect(code, file).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bBuffer\b/);
    }
  });

  it('the .npy reader refuses what it cannot read with an NpyError', () => {
    const good = readFileSync(`${ROOT}${npy('logits_f32')}`);
    expect(() => parseNpy(good.subarray(0, 9))).toThrow(NpyError);
    const v9 = Uint8Array.from(good);
    v9[6] = 9;
    expect(() => parseNpy(v9)).toThrow(/unsupported \.npy format version 9\.0/);
    const extra = new Uint8Array(good.length + 3);
    extra.set(good);
    expect(() => parseNpy(extra)).toThrow(/3 unexpected bytes after the data/);
  });
});
