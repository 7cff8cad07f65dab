// Event-loop delay of the engine's processes while a measurement runs: prom-client's
// tick_engine_nodejs_eventloop_lag_p99_seconds (its histogram is reset at every scrape), read once a second from each
// process's /metrics. A stage that waits on a busy event loop looks slow whatever it does: this says how busy.

const GAUGE = /^tick_engine_nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([\d.e+-]+)$/m;

/** The p99 event-loop delay (ms) since the previous scrape, from a Prometheus text exposition; undefined if absent. */
export function loopLagP99Ms(text: string): number | undefined {
  const m = GAUGE.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}

export interface LoopLag {
  /** The median and the worst one-second p99 of the window, ms. */
  medianP99Ms: number;
  maxP99Ms: number;
  seconds: number;
}

/** Summarize per-second p99s. */
export function summarizeLoopLag(samples: number[]): LoopLag | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  return { medianP99Ms: Number(s[Math.floor((s.length - 1) / 2)]!.toFixed(1)), maxP99Ms: Number(s[s.length - 1]!.toFixed(1)), seconds: s.length };
}

/** Scrape each named /metrics URL once a second until stopped; a failed scrape is skipped (the process may be busy). */
export function sampleLoopLag(urls: Record<string, string>): { stop(): Record<string, LoopLag> } {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(urls).map((k) => [k, []]));
  const timer = setInterval(() => {
    for (const [name, url] of Object.entries(urls))
      void fetch(url, { signal: AbortSignal.timeout(900) })
        .then((r) => r.text())
        .then((text) => {
          const v = loopLagP99Ms(text);
          if (v !== undefined) samples[name]!.push(v);
        })
        .catch(() => undefined);
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      const out: Record<string, LoopLag> = {};
      for (const [name, s] of Object.entries(samples)) {
        const sum = summarizeLoopLag(s);
        if (sum) out[name] = sum;
      }
      return out;
    },
  };
}
