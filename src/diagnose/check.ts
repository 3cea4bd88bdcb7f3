// The `check` option of the loss functions: runs diagnose first and reports (or throws for) what it finds.
import { describe } from '../args.ts';
import { CE_KEYS, GRAD_KEYS, LOSS_KEYS } from '../problem.ts';
import type { DiagnosticsHandler, Finding, FindingCode, Logits, Target } from '../types.ts';
import { diagnoseImpl, checkMode } from './diagnose.ts';
import { plural } from './findings.ts';

/** Thrown by `check: 'throw'` when diagnose() finds an error. A RangeError, like crossEntropy's own
 *  refusal of bad class indices. */
export class XentCheckError extends RangeError {
  /** Every finding of the call (errors, warnings and info). */
  readonly findings: Finding[];
  constructor(findings: Finding[]) {
    const errors = findings.filter((e) => e.severity === 'error');
    super(`xent check: ${plural(errors.length, 'error')}: ` + errors.map((e) => `[${e.code}] ${e.message}`).join(' | '));
    this.name = 'XentCheckError';
    this.findings = findings;
  }
}

function defaultHandler(f: Finding): void {
  console.warn(`xent ${f.severity} [${f.code}]: ${f.message}`);
}

let handler: DiagnosticsHandler = defaultHandler;
const reported = new Set<FindingCode>();

/**
 * Where `check: 'warn' | 'throw'` reports its findings (warnings and errors; info only comes from
 * diagnose()). Each code is reported once, until the next setDiagnosticsHandler call, which resets that
 * memory. `null` restores the default, console.warn.
 */
export function setDiagnosticsHandler(fn: DiagnosticsHandler | null): void {
  if (fn !== null && typeof fn !== 'function') {
    throw new TypeError(`setDiagnosticsHandler: expected a function or null, got ${describe(fn)}`);
  }
  handler = fn ?? defaultHandler;
  reported.clear();
}

/** The `check` option: called by the loss functions only when options.check is set and not 'off', with
 *  the arguments they read (readArgs). */
export function runCheck(input: Logits, target: Target, options: object, keys: 'loss' | 'grad', logProbs: boolean): void {
  const mode = checkMode((options as { check?: unknown }).check);
  if (mode === 'off') return;
  const findings = diagnoseImpl(input, target, options, keys === 'grad' ? GRAD_KEYS : logProbs ? LOSS_KEYS : CE_KEYS, logProbs);
  const errors = mode === 'throw' && findings.some((e) => e.severity === 'error');
  for (const finding of findings) {
    if (finding.severity === 'info' || (errors && finding.severity === 'error') || reported.has(finding.code)) continue;
    reported.add(finding.code);
    handler(finding);
  }
  if (errors) throw new XentCheckError(findings);
}
