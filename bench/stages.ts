// Where the live path's time goes: tick_engine_stage_seconds, with each output target's write time and the gateway's
// tick → send histogram, scraped from the aggregator's and the gateway's /metrics at the start and at the end of a
// measurement window, the difference read as quantiles. Bucketed, so a quantile is known to lie between two bucket bounds: the upper one is reported
// (a bucket's upper bound is what Prometheus's histogram_quantile interpolates towards for the top of a bucket).

/** A histogram's cumulative bucket counts, by `le`, for each value of one label. */
export type Buckets = Map<string, Map<number, number>>;

/** Parse every series `<name>_bucket{…,<label>="v",…,le="x"} n` of a Prometheus text exposition. */
export function parseBuckets(text: string, name: string, label: string): Buckets {
  const out: Buckets = new Map();
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\} ([\\d.e+-]+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    const key = labels[label];
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    if (key === undefined || Number.isNaN(le)) continue;
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(le, Number(m[2]));
  }
  return out;
}

export interface StageFigure {
  count: number;
  /** Upper bucket bounds (ms) holding the 50th and 99th percentile observation. */
  p50Ms: number;
  p99Ms: number;
}

/** Quantiles of `after − before` for each label value observed in the window. */
export function stageFigures(before: Buckets, after: Buckets): Record<string, StageFigure> {
  const out: Record<string, StageFigure> = {};
  for (const [key, cum] of after) {
    const prev = before.get(key);
    const les = [...cum.keys()].sort((a, b) => a - b);
    const counts = les.map((le) => cum.get(le)! - (prev?.get(le) ?? 0));
    const total = counts[counts.length - 1] ?? 0;
    if (total <= 0) continue;
    const q = (p: number) => {
      const i = counts.findIndex((c) => c >= p * total);
      return les[i]! * 1000;
    };
    out[key] = { count: total, p50Ms: q(0.5), p99Ms: q(0.99) };
  }
  return out;
}

/** The stages in path order, for the printed table. */
export const STAGE_ORDER = [
  'tick_to_fold',
  'fold',
  'out_queue',
  'write:kafka:bars',
  'write:postgres',
  'write:timescaledb',
  'write:questdb',
  'bar_published',
  'bar_to_gateway',
  'bar_tick_to_gateway',
  'send:bars',
  'update_published',
  'update_to_gateway',
  'update_tick_to_gateway',
];

/** Scrape the stage histograms (and the gateway's tick → send) from each /metrics URL, merged. */
export async function scrapeStages(urls: string[]): Promise<Buckets> {
  const merged: Buckets = new Map();
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    for (const [k, v] of parseBuckets(text, 'tick_engine_stage_seconds', 'stage')) merged.set(k, v);
    for (const [k, v] of parseBuckets(text, 'tick_engine_tick_to_send_seconds', 'channel')) merged.set(`send:${k}`, v);
    for (const [k, v] of parseBuckets(text, 'tick_engine_output_write_seconds', 'target')) merged.set(`write:${k}`, v);
  }
  return merged;
}

/** One line per stage: count, p50 and p99 as "≤ bound" (bucketed). */
export function stageTable(figures: Record<string, StageFigure>): string[] {
  const keys = [...STAGE_ORDER.filter((k) => figures[k]), ...Object.keys(figures).filter((k) => !STAGE_ORDER.includes(k))];
  return keys.map((k) => {
    const f = figures[k]!;
    // Past the top bucket (a record from before the warm-up, a stall of seconds) the bound is +Inf: say so.
    const bound = (ms: number) => (Number.isFinite(ms) ? String(ms) : '∞').padStart(6);
    return `  ${k.padEnd(24)} p50 ≤ ${bound(f.p50Ms)} ms  p99 ≤ ${bound(f.p99Ms)} ms  (${f.count})`;
  });
}
