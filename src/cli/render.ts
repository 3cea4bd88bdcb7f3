// `xent doctor`'s report as text (the default) or JSON (--json).
import { fmt } from '../diagnose/findings.ts';
import { shapeString } from '../args.ts';
import type { Report } from './report.ts';

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

export function text(r: Report): string {
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

export function json(r: Report): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}
