// A small, dependency-free SVG line chart for bench/index.mjs: throughput against C, log-log, one panel
// per op, one line per implementation, one y scale for all panels so that they compare at a glance.

const COLORS = { // xent in reds, tfjs in blues, PyTorch in purple; other names take the fallbacks
  'xent-wasm': '#c0392b', 'xent-js': '#e8a07a', 'tfjs-wasm': '#2471a3', 'tfjs-cpu': '#8fc1e3', PyTorch: '#7d3c98',
};
const FALLBACK = ['#27ae60', '#b7950b', '#5d6d7e'];
const W = 1000;
const H = 570;
const PLOT = { top: 92, bottom: 450, left: 70, gap: 70, right: 20 }; // y pixels and x margins of the panels
const DASHED = 'stroke-width="1.5" stroke-dasharray="6 4"';
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const r1 = (v) => Math.round(v * 10) / 10;
const text = (x, y, s, { size = 12, anchor = 'middle', fill = '#444', extra = '' } = {}) =>
  `<text x="${r1(x)}" y="${r1(y)}" text-anchor="${anchor}" font-size="${size}" fill="${fill}"${extra}>${esc(s)}</text>`;
const line = (x1, y1, x2, y2, stroke, extra = '') =>
  `<line x1="${r1(x1)}" y1="${r1(y1)}" x2="${r1(x2)}" y2="${r1(y2)}" stroke="${stroke}"${extra}/>`;
const log10 = Math.log10;
const fmtTick = (v) => (v >= 1 ? String(v) : String(Number(v.toPrecision(1))));
const fmtC = (c) => (c >= 10000 ? `${Math.round(c / 1000)}k` : String(c));

/** The 1-2-5 steps from the largest one <= lo to the smallest one >= hi. */
function steps125(lo, hi) {
  const all = [];
  for (let e = Math.floor(log10(lo)) - 1; e <= Math.ceil(log10(hi)); e++) {
    for (const m of [1, 2, 5]) all.push(Number((m * 10 ** e).toPrecision(1)));
  }
  return all.slice(all.findLastIndex((v) => v <= lo * 1.0001), all.findIndex((v) => v >= hi / 1.0001) + 1);
}

/**
 * @param {{ title: string, subtitle: string, targetName?: string, panels: { title: string,
 *   series: { name: string, points: [number, number][] }[], target?: [number, number][] }[] }} chart
 *   points are [C, G logits/s, N?] (N, the rows, is printed under C); a panel's target is drawn
 *   dashed and named targetName in the legend
 * @returns {string} the SVG document
 */
export function throughputChart({ title, subtitle, targetName, panels }) {
  const all = panels.flatMap((p) => [...p.series.flatMap((s) => s.points), ...(p.target ?? [])]);
  // a little room above and below, so that no point sits on the frame
  const ticksY = steps125(Math.min(...all.map((p) => p[1])) / 1.08, Math.max(...all.map((p) => p[1])) * 1.08);
  const cs = [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b);
  const rows = new Map(all.filter((p) => p[2] !== undefined).map((p) => [p[0], p[2]]));
  const [x0, x1] = [log10(cs[0]) - 0.2, log10(cs.at(-1)) + 0.2];
  const [y0, y1] = [log10(ticksY[0]), log10(ticksY.at(-1))];
  const pw = (W - PLOT.left - PLOT.right - PLOT.gap * (panels.length - 1)) / panels.length;
  const sy = (g) => PLOT.bottom - ((log10(g) - y0) / (y1 - y0)) * (PLOT.bottom - PLOT.top);
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const others = names.filter((n) => !COLORS[n]);
  const color = (name) => COLORS[name] ?? FALLBACK[others.indexOf(name) % FALLBACK.length];
  const width = (name) => (name === 'xent-wasm' ? 3 : 2);

  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(W / 2, 30, title, { size: 19, fill: '#222', extra: ' font-weight="600"' }),
    text(W / 2, 52, subtitle, { size: 13, fill: '#555' }),
  ];
  panels.forEach((panel, k) => {
    const left = PLOT.left + k * (pw + PLOT.gap);
    const sx = (c) => left + ((log10(c) - x0) / (x1 - x0)) * pw;
    const path = (pts) => pts.map(([c, g], j) => `${j ? 'L' : 'M'}${r1(sx(c))},${r1(sy(g))}`).join('');
    out.push(text(left + pw / 2, PLOT.top - 14, panel.title, { size: 15, fill: '#222', extra: ' font-weight="600"' }));
    for (const t of ticksY) {
      out.push(line(left, sy(t), left + pw, sy(t), Number.isInteger(log10(t)) ? '#ccc' : '#eee'));
      out.push(text(left - 6, sy(t) + 4, fmtTick(t), { anchor: 'end' }));
    }
    cs.forEach((c, j) => {
      // labels of ticks closer than a label's width (128k, 262k) are pushed apart, away from each other
      const near = (d) => cs[j + d] !== undefined && Math.abs(sx(cs[j + d]) - sx(c)) < 36;
      const [anchor, dx] = near(1) ? ['end', 6] : near(-1) ? ['start', -6] : ['middle', 0];
      out.push(line(sx(c), PLOT.top, sx(c), PLOT.bottom, '#eee'));
      out.push(text(sx(c) + dx, PLOT.bottom + 18, fmtC(c), { anchor }));
      if (rows.has(c)) out.push(text(sx(c) + dx, PLOT.bottom + 32, `N ${rows.get(c)}`, { size: 10, anchor, fill: '#888' }));
    });
    out.push(`<rect x="${r1(left)}" y="${PLOT.top}" width="${r1(pw)}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#999"/>`);
    const xTitle = `classes C (log scale)${rows.size ? ', with the batch\'s rows N' : ''}`;
    out.push(text(left + pw / 2, PLOT.bottom + 54, xTitle, { size: 13, fill: '#333' }));
    const yMid = (PLOT.top + PLOT.bottom) / 2;
    out.push(text(0, 0, 'G logits/s (log scale)', {
      size: 13, fill: '#333', extra: ` transform="translate(${r1(left - 48)},${yMid}) rotate(-90)"`,
    }));
    if (panel.target) out.push(`<path d="${path(panel.target)}" fill="none" stroke="#777" ${DASHED}/>`);
    // xent-wasm last, on top: it is the line the chart is about, and it often runs close to PyTorch's
    for (const s of panel.series.toSorted((a, b) => (a.name === 'xent-wasm') - (b.name === 'xent-wasm'))) {
      out.push(`<path d="${path(s.points)}" fill="none" stroke="${color(s.name)}" stroke-width="${width(s.name)}"/>`);
      for (const [c, g] of s.points) {
        const tip = `${s.name}, C = ${c}: ${g.toPrecision(3)} G logits/s`;
        out.push(`<circle cx="${r1(sx(c))}" cy="${r1(sy(g))}" r="${width(s.name) + 0.5}" fill="${color(s.name)}">`
          + `<title>${esc(tip)}</title></circle>`);
      }
    }
  });
  // legend: one row under the panels, centred
  const entries = [...names, ...(panels.some((p) => p.target) ? [targetName] : [])];
  const widths = entries.map((n) => 48 + n.length * 8);
  let x = (W - widths.reduce((a, b) => a + b, 0)) / 2;
  const y = H - 40;
  entries.forEach((n, j) => {
    if (j < names.length) {
      out.push(line(x, y, x + 22, y, color(n), ` stroke-width="${width(n)}"`));
      out.push(`<circle cx="${r1(x + 11)}" cy="${y}" r="3.5" fill="${color(n)}"/>`);
    } else {
      out.push(line(x, y, x + 22, y, '#777', ` ${DASHED}`));
    }
    out.push(text(x + 28, y + 4, n, { size: 13, anchor: 'start', fill: '#222' }));
    x += widths[j];
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
