// Findings as diagnose collects them, and the words and numbers of their messages.
import type { Finding, FindingCode, Severity } from '../types.ts';
import type { Layout } from '../problem.ts';
import { SHOWN } from './thresholds.ts';

/** A number for a message: integers and non-finite values as they are, others to `digits` significant
 *  digits (String(-0) is '0'). */
export function fmt(v: number, digits = 6): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(digits)));
}

/** The first few offending positions and, optionally, values; and how many there are in all. */
export class Sample {
  count = 0;
  positions: number[] = [];
  values: number[] = [];
  labels: string[] = [];
  add(position: number, value?: number, label?: string): void {
    this.count++;
    if (this.positions.length < SHOWN) {
      this.positions.push(position);
      if (value !== undefined) this.values.push(value);
      if (label !== undefined) this.labels.push(label);
    }
  }
  /** `a, b, c, … (12 in all)` */
  list(items: readonly (string | number)[] = this.labels.length ? this.labels : this.positions): string {
    const more = this.count > items.length ? `, … (${this.count} in all)` : '';
    return items.join(', ') + more;
  }
}

export class Findings {
  readonly list: Finding[] = [];
  add(code: FindingCode, severity: Severity, message: string, count: number, positions: number[] = [], values?: number[]): void {
    const f: Finding = { code, severity, message, count, positions };
    if (values !== undefined) f.values = values;
    this.list.push(f);
  }
  fromSample(code: FindingCode, severity: Severity, message: string, s: Sample, withValues = false): void {
    this.add(code, severity, message, s.count, s.positions.slice(), withValues ? s.values.slice() : undefined);
  }
}

export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function rowWord(layout: Layout): string {
  return layout.S === 1 ? 'row' : 'position';
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** `row 3` or `rows 0, 4, 9, … (12 in all)` */
export function which(s: Sample, w: string): string {
  return `${s.count === 1 ? w : `${w}s`} ${s.list()}`;
}

export function firstRows(R: number): number[] {
  return Array.from({ length: Math.min(SHOWN, R) }, (_, i) => i);
}
