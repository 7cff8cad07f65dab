// A run's results for people: the summary table printed at the end, and a self-contained HTML report (inline SVG
// plots of latency, throughput, clients and CPU over time; no script, no network).
import type { RunResult, TimelinePoint } from './run.js';

const fmt = (v: number | undefined): string =>
  v === undefined ? '–' : Number.isInteger(v) ? v.toLocaleString('en-US') : Math.abs(v) < 1 ? v.toPrecision(3) : v.toFixed(2);

/** The end-of-run table: thresholds first (✓/✗), then the main figures. */
export function summaryTable(r: RunResult): string {
  const f = r.figures;
  const rows: [string, string][] = [
    ['duration', `${r.durationS} s`],
    ['clients (max open)', fmt(f['connections.max'])],
    ['messages', `${fmt(f.messages)} (${fmt(f['messages.rate'])}/s)`],
    ['bytes', `${fmt(f.bytes)} (${fmt(f['bytes.rate'])}/s)`],
    ['latency from gateway send, ms', `p50 ${fmt(f['latency.send.p50'])}  p99 ${fmt(f['latency.send.p99'])}  max ${fmt(f['latency.send.max'])}`],
    ['latency from source, ms', `p50 ${fmt(f['latency.source.p50'])}  p99 ${fmt(f['latency.source.p99'])}  max ${fmt(f['latency.source.max'])}`],
    ['gaps (bars, signals) / trades', `${fmt(f.gaps)} / ${fmt(f['trade.gaps'])}`],
    ['errors / attempts', `${fmt(f.errors)} / ${fmt(f['connections.attempts'])}`],
    ['disconnects', fmt(f.disconnects)],
    [
      'close codes',
      Object.entries(r.closes)
        .map(([c, n]) => `${c}×${n}`)
        .join(' ') || '–',
    ],
    [
      'snapshots / resubscribed',
      `${fmt(f.snapshots)} / ${fmt(f.resubscribed)}${f['resubscribe.p99'] !== undefined ? ` (p99 ${fmt(f['resubscribe.p99'])} ms)` : ''}`,
    ],
    ['gateway CPU avg / max, % core', `${fmt(f['gateway.cpu.avg'])} / ${fmt(f['gateway.cpu.max'])}`],
    ['gateway RSS max / end, MiB', `${fmt(f['gateway.rss.max'])} / ${fmt(f['gateway.rss.end'])}`],
    ['gateway conflated / dropped / 1008', `${fmt(f['gateway.conflated'])} / ${fmt(f['gateway.dropped'])} / ${fmt(f['gateway.backpressure_closed'])}`],
    ['generator CPU avg / max, % core', `${fmt(f['generator.cpu.avg'])} / ${fmt(f['generator.cpu.max'])}  (saturated ${r.generatorSaturatedS} s)`],
    ['machine', `${r.machine.cores} cores, load ${r.machine.loadavgStart.join(' ')} → ${r.machine.loadavgEnd.join(' ')}`],
  ];
  if (r.rest)
    rows.push([
      'REST',
      `${fmt(r.rest.requests)} req (${fmt(r.rest.rate)}/s), errors ${fmt(f['rest.errors'])}, p50 ${fmt(r.rest.latency.p50)} p99 ${fmt(r.rest.latency.p99)} ms`,
    ]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = [`\n${r.label}: ${r.passed ? 'PASSED' : 'FAILED'}`];
  for (const t of r.thresholds) lines.push(`  ${t.ok ? '✓' : '✗'} ${t.source.padEnd(w)}  (${fmt(t.actual)})`);
  lines.push('');
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(w)}  ${v}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

interface Series {
  name: string;
  color: string;
  values: (number | undefined)[];
}

/** One line chart as inline SVG. */
function chart(title: string, unit: string, xs: number[], series: Series[]): string {
  const W = 720;
  const H = 220;
  const L = 56;
  const B = 24;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const ymax = Math.max(1e-9, ...all) * 1.05;
  const xmax = Math.max(1, ...xs);
  const X = (x: number) => L + ((W - L - 10) * x) / xmax;
  const Y = (y: number) => H - B - ((H - B - 10) * y) / ymax;
  const lines = series
    .map((s) => {
      const pts = s.values.flatMap((v, i) => (v === undefined ? [] : [`${X(xs[i]!).toFixed(1)},${Y(v).toFixed(1)}`]));
      return `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`;
    })
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<text x="${L - 4}" y="${Y(ymax * f) + 4}" text-anchor="end">${fmt(Number((ymax * f).toPrecision(3)))}</text>`)
    .join('');
  const legend = series.map((s, i) => `<text x="${L + 10 + i * 150}" y="14" fill="${s.color}">■ ${esc(s.name)}</text>`).join('');
  return `<figure><figcaption>${esc(title)} (${esc(unit)})</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif"><line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="#999"/>${ticks}<text x="${W - 10}" y="${H - 6}" text-anchor="end">${fmt(xmax)} s</text>${legend}${lines}</svg></figure>`;
}

/** A self-contained HTML page for one or more runs (a comparison shows them one after another). */
export function htmlReport(runs: RunResult[], title: string, extra = ''): string {
  const body = runs
    .map((r) => {
      const tl: TimelinePoint[] = r.timeline;
      const xs = tl.map((p) => p.t);
      const v = (k: keyof TimelinePoint) => tl.map((p) => p[k] as number | undefined);
      const rows = r.thresholds
        .map((t) => `<tr class="${t.ok ? 'ok' : 'ko'}"><td>${t.ok ? '✓' : '✗'}</td><td>${esc(t.source)}</td><td>${fmt(t.actual)}</td></tr>`)
        .join('');
      const figs = Object.entries(r.figures)
        .map(([k, x]) => `<tr><td>${esc(k)}</td><td>${fmt(x)}</td></tr>`)
        .join('');
      return `<section><h2>${esc(r.label)} — ${r.passed ? 'passed' : 'FAILED'}</h2>
<p>${esc(r.startedAt)}, ${r.durationS} s, ${r.machine.cores} cores, load average ${r.machine.loadavgStart.join(' ')} → ${r.machine.loadavgEnd.join(' ')}</p>
${r.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}
${rows ? `<table><tr><th></th><th>threshold</th><th>actual</th></tr>${rows}</table>` : ''}
${chart('Latency over time', 'ms', xs, [
  { name: 'send→receipt p50', color: '#4c9', values: v('sendP50') },
  { name: 'send→receipt p99', color: '#e63', values: v('sendP99') },
  { name: 'source→receipt p99', color: '#36c', values: v('sourceP99') },
])}
${chart('Throughput', 'messages/s', xs, [{ name: 'messages/s received', color: '#36c', values: v('messagesPerS') }])}
${chart('Clients', 'connections', xs, [
  { name: 'open', color: '#36c', values: v('open') },
  { name: 'target', color: '#999', values: v('target') },
])}
${chart('CPU', '% of one core', xs, [
  { name: 'gateway', color: '#e63', values: v('gatewayCpu') },
  { name: 'generator', color: '#36c', values: v('generatorCpu') },
  { name: 'generator busiest thread', color: '#999', values: v('generatorBusy') },
])}
${chart('Gateway RSS', 'MiB', xs, [{ name: 'RSS', color: '#a3c', values: v('gatewayRssMiB') }])}
<details><summary>all figures</summary><table>${figs}</table></details></section>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font-family:sans-serif;max-width:800px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
tr.ok td:first-child{color:#080}tr.ko td:first-child{color:#c00;font-weight:bold}.note{color:#a60}figure{margin:1em 0}figcaption{font-weight:bold}
</style></head><body><h1>${esc(title)}</h1>${extra}${body}</body></html>
`;
}
