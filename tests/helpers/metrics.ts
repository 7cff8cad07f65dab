// Reading a process's Prometheus /metrics in tests: every sample as `name{labels}` → value.
import { parsePrometheus } from '../../src/load/gateway-probe.js';

export async function scrapeMetrics(base: string): Promise<Map<string, number>> {
  return parsePrometheus(await (await fetch(`${base.replace(/\/$/, '')}/metrics`)).text());
}

/** The sum of every sample whose `name{labels}` starts with `prefix` (0 when none). */
export function sumMetric(m: Map<string, number>, prefix: string): number {
  let n = 0;
  for (const [k, v] of m) if (k.startsWith(prefix)) n += v;
  return n;
}
