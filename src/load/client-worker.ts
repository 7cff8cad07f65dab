// A worker thread of the load generator: runs its share of the clients, opens or closes them to the count the
// main thread asks for, and reports its tallies and its own event-loop use every second.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { encodeHistogram } from './latency-histogram.js';
import { LoadClient, Tallies, type ClientOptions, type ClientSpec } from './load-client.js';

export interface WorkerInit {
  index: number;
  options: ClientOptions;
  specs: ClientSpec[];
  /** Connections opened per 100 ms at most (a ramp faster than this is spread out). */
  openBurst: number;
}

export type ToWorker = { op: 'target'; clients: number } | { op: 'stop' };

/** What clients count, in a worker's report and in the generator's windows alike. */
export interface ClientCounts {
  open: number;
  messages: number;
  bytes: number;
  gaps: number;
  tradeGaps: number;
  errors: number;
  attempts: number;
  disconnects: number;
  snapshots: number;
  resubscribed: number;
  closes: Record<string, number>;
}

export interface WorkerReport extends ClientCounts {
  op: 'report';
  index: number;
  send: string;
  source: string;
  resubscribe: string;
  /** Share of the last second this thread's event loop was busy (1: the generator is the bottleneck). */
  utilization: number;
  final: boolean;
}

const init = workerData as WorkerInit;
const tallies = new Tallies();
const clients = init.specs.map((s) => new LoadClient(s, init.options, tallies));
let target = 0;
let lastElu = performance.eventLoopUtilization();

function adjust(): void {
  let opened = 0;
  let active = clients.reduce((n, c) => n + (c.active ? 1 : 0), 0);
  for (let i = 0; i < clients.length && active < target && opened < init.openBurst; i++) {
    if (!clients[i]!.active) {
      clients[i]!.start();
      active++;
      opened++;
    }
  }
  for (let i = clients.length - 1; i >= 0 && active > target; i--) {
    if (clients[i]!.active) {
      clients[i]!.stop();
      active--;
    }
  }
}

function report(final: boolean): void {
  const t = tallies.take();
  const elu = performance.eventLoopUtilization(lastElu);
  lastElu = performance.eventLoopUtilization();
  const msg: WorkerReport = {
    op: 'report',
    index: init.index,
    open: clients.reduce((n, c) => n + (c.open ? 1 : 0), 0),
    messages: t.messages,
    bytes: t.bytes,
    gaps: t.gaps,
    tradeGaps: t.tradeGaps,
    errors: t.errors,
    attempts: t.attempts,
    disconnects: t.disconnects,
    snapshots: t.snapshots,
    resubscribed: t.resubscribed,
    closes: t.closes,
    send: encodeHistogram(t.send),
    source: encodeHistogram(t.source),
    resubscribe: encodeHistogram(t.resubscribe),
    utilization: elu.utilization,
    final,
  };
  parentPort!.postMessage(msg);
}

const adjuster = setInterval(adjust, 100);
const reporter = setInterval(() => report(false), 1000);

parentPort!.on('message', (m: ToWorker) => {
  if (m.op === 'target') {
    target = Math.min(m.clients, clients.length);
    adjust();
  } else {
    clearInterval(adjuster);
    clearInterval(reporter);
    for (const c of clients) c.stop();
    // Let the close handshakes finish (their codes are counted), 3 s at most, then the last tallies.
    const until = Date.now() + 3000;
    const finish = setInterval(() => {
      if (Date.now() < until && !clients.every((c) => c.closed)) return;
      clearInterval(finish);
      report(true);
      setImmediate(() => process.exit(0));
    }, 50);
  }
});
