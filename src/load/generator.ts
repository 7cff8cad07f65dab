// The load generator: clients spread over worker threads, opened and closed to the count the stages ask for,
// their reports merged each second; with its own CPU and its threads' event-loop use, so a run says when the
// generator, not the gateway, was the limit.
import { Worker } from 'node:worker_threads';
import type { ClientOptions, ClientSpec } from './load-client.js';
import type { ClientCounts, ToWorker, WorkerInit, WorkerReport } from './client-worker.js';
import { decodeHistogram, newHistogram, type Histogram } from './latency-histogram.js';

/** What all clients measured over one interval (or the whole run). */
export interface Window extends ClientCounts {
  send: Histogram;
  source: Histogram;
  resubscribe: Histogram;
  /** Highest event-loop use of any worker thread in the window (0–1). */
  utilization: number;
}

export function emptyWindow(): Window {
  return {
    open: 0,
    messages: 0,
    bytes: 0,
    gaps: 0,
    tradeGaps: 0,
    errors: 0,
    attempts: 0,
    disconnects: 0,
    snapshots: 0,
    resubscribed: 0,
    closes: {},
    send: newHistogram(),
    source: newHistogram(),
    resubscribe: newHistogram(),
    utilization: 0,
  };
}

function addReport(w: Window, r: WorkerReport): void {
  w.messages += r.messages;
  w.bytes += r.bytes;
  w.gaps += r.gaps;
  w.tradeGaps += r.tradeGaps;
  w.errors += r.errors;
  w.attempts += r.attempts;
  w.disconnects += r.disconnects;
  w.snapshots += r.snapshots;
  w.resubscribed += r.resubscribed;
  for (const [code, n] of Object.entries(r.closes)) w.closes[code] = (w.closes[code] ?? 0) + n;
  w.send.add(decodeHistogram(r.send));
  w.source.add(decodeHistogram(r.source));
  w.resubscribe.add(decodeHistogram(r.resubscribe));
  w.utilization = Math.max(w.utilization, r.utilization);
}

export function mergeWindow(into: Window, w: Window): void {
  for (const k of ['messages', 'bytes', 'gaps', 'tradeGaps', 'errors', 'attempts', 'disconnects', 'snapshots', 'resubscribed'] as const) into[k] += w[k];
  for (const [code, n] of Object.entries(w.closes)) into.closes[code] = (into.closes[code] ?? 0) + n;
  into.send.add(w.send);
  into.source.add(w.source);
  into.resubscribe.add(w.resubscribe);
  into.utilization = Math.max(into.utilization, w.utilization);
  into.open = w.open;
}

export interface GeneratorOptions {
  client: ClientOptions;
  specs: ClientSpec[];
  workers: number;
}

export class LoadGenerator {
  private readonly workers: Worker[] = [];
  private readonly open: number[];
  private window = emptyWindow();
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private exited: Promise<void>[] = [];

  constructor(private readonly opts: GeneratorOptions) {
    this.open = new Array<number>(opts.workers).fill(0);
  }

  get capacity(): number {
    return this.opts.specs.length;
  }

  start(): void {
    const { opts } = this;
    for (let w = 0; w < opts.workers; w++) {
      const init: WorkerInit = { index: w, options: opts.client, specs: opts.specs.filter((_, i) => i % opts.workers === w), openBurst: 100 };
      const worker = new Worker(new URL('./client-worker.js', import.meta.url), { workerData: init });
      worker.on('message', (r: WorkerReport) => {
        this.open[r.index] = r.open;
        addReport(this.window, r);
      });
      this.exited.push(new Promise((resolve) => worker.once('exit', () => resolve())));
      this.workers.push(worker);
    }
  }

  /** Keep `n` clients connected (the first n specs), spread over the workers. */
  setTarget(n: number): void {
    const W = this.workers.length;
    this.workers.forEach((worker, w) => {
      const share = n > w ? Math.floor((n - w - 1) / W) + 1 : 0;
      worker.postMessage({ op: 'target', clients: share } satisfies ToWorker);
    });
  }

  /** What was reported since the last call, and the generator's CPU over that time (% of one core: all threads). */
  take(): { window: Window; cpu: number } {
    const w = this.window;
    this.window = emptyWindow();
    w.open = this.open.reduce((a, b) => a + b, 0);
    const now = performance.now();
    const u = process.cpuUsage(this.lastCpu);
    const cpu = (100 * (u.user + u.system)) / 1000 / Math.max(1, now - this.lastAt);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    return { window: w, cpu };
  }

  /** Close every client and wait for the workers' last reports. */
  async stop(): Promise<void> {
    for (const w of this.workers) w.postMessage({ op: 'stop' } satisfies ToWorker);
    await Promise.all(this.exited);
  }
}
