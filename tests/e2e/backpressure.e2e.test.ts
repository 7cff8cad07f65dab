// Guarantee 6 on the real pipeline: many clients at full rate, a quarter of which never read. The fast ones
// keep their latency near the unloaded figure and miss nothing; the slow ones get conflated updates and
// dropped trades past the soft limit, then are closed with 1008 and a reason past the hard limit; the
// gateway's memory stays bounded.
import t from 'tap';
import WebSocket from 'ws';
import { runCli, startEngine } from '../helpers/cli.js';
import { freePort, liveEnv } from '../helpers/env.js';
import { scrapeMetrics, sumMetric } from '../helpers/metrics.js';

const FAST = Number(process.env.TE_BP_FAST ?? 9);
const SLOW = Math.round(FAST / 3); // a quarter of all clients
const BASELINE_S = Number(process.env.TE_BP_BASELINE_S ?? 20);
const LOADED_S = Number(process.env.TE_BP_LOADED_S ?? 60);
const RATE = Number(process.env.TE_BP_RATE ?? 500);
const SOFT = 64 * 1024;
const HARD = 256 * 1024;
/** The bound the gateway's RSS must stay under, whatever the slow clients do. */
const RSS_BOUND_MB = 400;

function sortedPercentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function percentile(xs: number[], p: number): number {
  return sortedPercentile(
    [...xs].sort((a, b) => a - b),
    p,
  );
}

interface Fast {
  ws: WebSocket;
  /** Trade latencies (ms from the feed's ingest time to receipt), per phase. */
  latency: number[][];
  gaps: number;
  bars: number;
  trades: number;
}

const SUBSCRIBE = [
  { op: 'subscribe', channel: 'trades', symbols: '*' },
  { op: 'subscribe', channel: 'bars', interval: '1s', symbols: '*' },
];

function connect(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    ws.once('open', () => {
      for (const s of SUBSCRIBE) ws.send(JSON.stringify(s));
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

t.test(`${FAST} fast and ${SLOW} never-reading clients at ${RATE} ticks/s`, async (t) => {
  const port = await freePort();
  const env = liveEnv({
    TE_SIM_RATE: String(RATE),
    TE_SIM_SYMBOLS: '50',
    TE_INTERVALS: '1s,1m',
    TE_SINKS: 'postgres',
    TE_WS_SOFT_LIMIT_BYTES: String(SOFT),
    TE_WS_MAX_BUFFER_BYTES: String(HARD),
    TE_GATEWAY_PORT: String(port),
  });
  const { gateway } = await startEngine(t, env, port);
  const ingest = runCli(['ingest'], env);
  t.teardown(() => ingest.stop());

  let phase = -1; // -1 warm-up, 0 baseline, 1 loaded
  let loadedAt = 0;
  /** Fast clients' trade latencies in 10 s windows of the loaded phase. */
  const windows: number[][] = [];
  const fast: Fast[] = [];
  for (let i = 0; i < FAST; i++) {
    const f: Fast = { ws: await connect(port), latency: [[], []], gaps: 0, bars: 0, trades: 0 };
    const next = new Map<string, number>();
    f.ws.on('message', (data) => {
      const now = Date.now();
      // Read the few fields needed without a full JSON.parse: the test process must keep up with the flow.
      const text = String(data);
      const head = /^\{"type":"(\w+)","seq":(\d+)/.exec(text);
      if (!head || (head[1] !== 'trade' && head[1] !== 'bar')) return;
      const symbol = /"symbol":"([^"]+)"/.exec(text)![1]!;
      const seq = Number(head[2]);
      const stream = `${head[1]}|${symbol}`;
      if (head[1] === 'trade') {
        f.trades++;
        if (phase === 0 || phase === 1) {
          const ms = now - Number(/"ingestTime":(\d+)/.exec(text)![1]) / 1000;
          f.latency[phase]!.push(ms);
          if (phase === 1) (windows[Math.floor((now - loadedAt) / 10_000)] ??= []).push(ms);
        }
      } else f.bars++;
      if (next.has(stream) && next.get(stream) !== seq) f.gaps++;
      next.set(stream, seq + 1);
    });
    fast.push(f);
  }
  t.teardown(() => {
    for (const f of fast) f.ws.terminate();
  });

  let peakRss = 0;
  const rssTimer = setInterval(() => {
    scrapeMetrics(`http://127.0.0.1:${port}`)
      .then((m) => (peakRss = Math.max(peakRss, m.get('tick_engine_process_resident_memory_bytes') ?? 0)))
      .catch(() => {});
  }, 1000);
  t.teardown(() => clearInterval(rssTimer));

  await new Promise((r) => setTimeout(r, 8000)); // warm-up: feed, aggregator and gateway at full flow
  phase = 0;
  await new Promise((r) => setTimeout(r, BASELINE_S * 1000));
  const baselineRss = peakRss;

  // A quarter of the clients subscribe to everything too, then never read again.
  const slow: { ws: WebSocket; closed?: { code: number; reason: string } }[] = [];
  for (let i = 0; i < SLOW; i++) {
    const ws = await connect(port);
    const s: (typeof slow)[number] = { ws };
    ws.on('close', (code, reason) => (s.closed = { code, reason: String(reason) }));
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    slow.push(s);
  }
  t.teardown(() => {
    for (const s of slow) s.ws.terminate();
  });
  phase = 1;
  loadedAt = Date.now();
  const closedAt: number[] = [];
  for (const s of slow) s.ws.once('close', () => closedAt.push(Date.now() - loadedAt));
  await new Promise((r) => setTimeout(r, LOADED_S * 1000));
  phase = 2;
  const m = await scrapeMetrics(`http://127.0.0.1:${port}`);

  /** p50 and p99 of the fast clients' latencies in phase `i` (0: without the slow clients, 1: with them). */
  const p50p99 = (i: number) => {
    const xs = fast.flatMap((f) => f.latency[i]!).sort((a, b) => a - b);
    return [sortedPercentile(xs, 50), sortedPercentile(xs, 99)] as const;
  };
  const [p50a, p99a] = p50p99(0);
  const [p50b, p99b] = p50p99(1);
  const samples = fast.reduce((n, f) => n + f.latency[1]!.length, 0);
  t.comment(
    `fast clients, trade latency from feed to client: without slow clients p50 ${p50a.toFixed(1)} ms p99 ${p99a.toFixed(1)} ms; ` +
      `with ${SLOW} slow clients p50 ${p50b.toFixed(1)} ms p99 ${p99b.toFixed(1)} ms (${samples} samples over ${LOADED_S} s)`,
  );
  t.comment(`fast p99 per 10 s of the loaded phase: ${windows.map((w) => percentile(w, 99).toFixed(0)).join(', ')} ms`);
  t.comment(`gateway peak RSS ${(peakRss / 1e6).toFixed(0)} MB (${(baselineRss / 1e6).toFixed(0)} MB before the slow clients)`);
  t.comment(
    `conflated ${sumMetric(m, 'tick_engine_ws_conflated_total')}, dropped trades ${sumMetric(m, 'tick_engine_ws_dropped_total{channel="trades"}')}, ` +
      `closed for backpressure ${sumMetric(m, 'tick_engine_ws_backpressure_closed_total')}`,
  );

  t.ok(samples > FAST * LOADED_S * RATE * 0.5, `the fast clients kept receiving trades (${samples})`);
  t.equal(
    fast.reduce((n, f) => n + f.gaps, 0),
    0,
    'no fast client missed a trade or a final bar: every seq consecutive',
  );
  t.ok(
    fast.every((f) => f.bars > 0 && f.ws.readyState === WebSocket.OPEN),
    'every fast client is still connected and got bars',
  );
  // Near the unloaded figure. The bound is loose on purpose (CI shares 2 cores among Kafka, PostgreSQL, the
  // aggregator, the feed, the gateway and these clients); the figures above are what to read, and
  // `npm run bench` is where speed is measured. Judged on the median of the loaded phase's 10 s windows: slow clients
  // that held fast ones back would raise every window (they are there throughout), while the machine's own hiccups
  // (other work on the 2 cores) raise some — a whole-phase p99 failed on those alone (windows 600, 748, 196, 144,
  // 736, 171 ms against 195 ms unloaded, with other tests running beside). A regression to seconds fails here.
  const windowP99 = windows.filter((w) => w.length > 0).map((w) => percentile(w, 99));
  const typical = percentile(windowP99, 50);
  t.ok(
    typical <= 3 * p99a + 100,
    `fast p99 with slow clients, median of ${windowP99.length} windows ${typical.toFixed(1)} ms, stays near ${p99a.toFixed(1)} ms without (bound 3× + 100 ms)`,
  );
  t.ok(peakRss < RSS_BOUND_MB * 1e6, `gateway peak RSS ${(peakRss / 1e6).toFixed(0)} MB < ${RSS_BOUND_MB} MB`);

  t.equal(sumMetric(m, 'tick_engine_ws_backpressure_closed_total'), SLOW, 'every slow client was closed for backpressure, and no fast one');
  t.equal(sumMetric(m, 'tick_engine_ws_closed_total{code="1008"}'), SLOW, 'with close code 1008');
  t.ok(sumMetric(m, 'tick_engine_ws_conflated_total') > 0, 'past the soft limit, in-progress updates were conflated first');
  t.ok(sumMetric(m, 'tick_engine_ws_dropped_total{channel="trades"}') > 0, 'and trades dropped');
  t.equal(sumMetric(m, 'tick_engine_ws_dropped_total{channel="bars"}'), 0, 'no final bar was ever dropped');
  t.equal(m.get('tick_engine_ws_connections'), FAST, 'the fast clients are the ones left');
  t.match(gateway.output(), /client closed for backpressure/, 'the gateway logged each close');

  // The slow clients read again: what reached them before the close ends with the close frame and its reason.
  for (const s of slow) (s.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  await new Promise((r) => setTimeout(r, 3000));
  const seen = slow.map((s) => s.closed);
  t.comment(`slow clients saw: ${JSON.stringify(seen.map((c) => c && { code: c.code, reason: c.reason.slice(0, 40) }))}`);
  t.ok(
    seen.every((c) => c !== undefined),
    'every slow client is disconnected',
  );
  t.ok(
    seen.every((c) => (c!.code === 1008 ? /^backpressure: \d+ bytes unsent would pass the limit of 262144; reconnect/.test(c!.reason) : c!.code === 1006)),
    // A client that never reads cannot receive a close frame queued behind what it did not read: when it reads
    // again it gets 1008 and the reason if the server still held the connection, else the connection is gone.
    'with 1008 and the reason if the close frame could still reach it, else 1006',
  );
});
