// The gateway's side of a run, sampled every second: CPU and RSS from /proc when the process is local and its pid
// known (so any gateway, ours or the ws reference, is measured alike), else from its /metrics; and from /metrics,
// when it has them, event-loop delay, conflated and dropped messages and backpressure closes.
import { readFileSync } from 'node:fs';

export interface GatewaySample {
  /** Seconds since the run started. */
  t: number;
  /** % of one core over the last interval. */
  cpu: number;
  rssMiB: number;
  eventLoopP99Ms?: number;
  conflated?: number;
  dropped?: number;
  backpressureClosed?: number;
  connections?: number;
}

const CLK_TCK = 100;

function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
  } catch {
    return undefined;
  }
}

function procRssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Prometheus text → `name{labels}` → value. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of text.split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const i = l.lastIndexOf(' ');
    out.set(l.slice(0, i), Number(l.slice(i + 1)));
  }
  return out;
}

const sum = (m: Map<string, number>, prefix: string): number | undefined => {
  let n: number | undefined;
  for (const [k, v] of m) if (k === prefix || k.startsWith(`${prefix}{`)) n = (n ?? 0) + v;
  return n;
};

export class GatewayProbe {
  private lastCpu: { at: number; seconds: number } | undefined;
  readonly samples: GatewaySample[] = [];

  constructor(
    /** Base URL of the gateway's HTTP side (for /metrics), or undefined when it has none. */
    private readonly metricsBase: string | undefined,
    /** The local process, when known; may change (a restarted gateway). */
    public pid: number | undefined,
    private readonly started: number,
  ) {}

  /** A new process: its CPU counter starts again. */
  restarted(pid: number | undefined): void {
    this.pid = pid;
    this.lastCpu = undefined;
  }

  async sample(): Promise<GatewaySample | undefined> {
    const now = performance.now();
    let metrics: Map<string, number> | undefined;
    if (this.metricsBase) {
      try {
        const res = await fetch(`${this.metricsBase}/metrics`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) metrics = parsePrometheus(await res.text());
      } catch {
        // down (a restart in progress): CPU and RSS may still come from /proc
      }
    }
    let seconds = this.pid ? procCpuSeconds(this.pid) : undefined;
    let rss = this.pid ? procRssMiB(this.pid) : undefined;
    seconds ??= metrics && sum(metrics, 'tick_engine_process_cpu_seconds_total');
    const rssBytes = metrics && sum(metrics, 'tick_engine_process_resident_memory_bytes');
    rss ??= rssBytes === undefined ? undefined : rssBytes / 2 ** 20;
    if (seconds === undefined || rss === undefined) return undefined;
    const prev = this.lastCpu;
    this.lastCpu = { at: now, seconds };
    if (!prev) return undefined;
    const s: GatewaySample = {
      t: Math.round((now - this.started) / 100) / 10,
      cpu: Math.max(0, (100 * (seconds - prev.seconds)) / ((now - prev.at) / 1000)),
      rssMiB: Math.round(rss * 10) / 10,
    };
    if (metrics) {
      const lag = sum(metrics, 'tick_engine_nodejs_eventloop_lag_p99_seconds');
      if (lag !== undefined) s.eventLoopP99Ms = Math.round(lag * 1e4) / 10;
      s.conflated = sum(metrics, 'tick_engine_ws_conflated_total') ?? 0;
      s.dropped = sum(metrics, 'tick_engine_ws_dropped_total') ?? 0;
      s.backpressureClosed = sum(metrics, 'tick_engine_ws_backpressure_closed_total') ?? 0;
      s.connections = sum(metrics, 'tick_engine_ws_connections') ?? 0;
    }
    this.samples.push(s);
    return s;
  }
}
