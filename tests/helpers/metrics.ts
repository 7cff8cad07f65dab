// Reading a process's Prometheus /metrics in tests: every sample as `name{labels}` → value.

export async function scrapeMetrics(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base.replace(/\/$/, '')}/metrics`)).text();
  const out = new Map<string, number>();
  for (const l of text.split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const i = l.lastIndexOf(' ');
    out.set(l.slice(0, i), Number(l.slice(i + 1)));
  }
  return out;
}

/** The sum of every sample whose `name{labels}` starts with `prefix` (0 when none). */
export function sumMetric(m: Map<string, number>, prefix: string): number {
  let n = 0;
  for (const [k, v] of m) if (k.startsWith(prefix)) n += v;
  return n;
}
