// deploy/grafana/dashboards/tick-engine.json is run, not just written: every query of every panel names only metrics
// the engine exports (with their labels), and returns data from a real Prometheus (Debian's /usr/bin/prometheus,
// installed by scripts/test.sh) that scrapes a running engine every second — the gateway, an aggregator, a simulated
// feed and two venue feeds against their stand-ins (src/standins/) — with deploy/prometheus/alerts.yml loaded.
// The run makes the rare events happen so their panels have something to show: a malformed record on the ticks topic
// (dead letter TE_DECODE), late and too-late ticks (jitter past the out-of-orderness and the allowed lateness), a
// PostgreSQL table lock longer than TE_STORE_TIMEOUT_MS (a write reported slow and retried), gaps in Binance's
// trade ids (one filled from the stand-in's history, one missing from it: given up), repeated trades, an
// undecodable frame, a dropped Bybit connection (a possible gap), a WebSocket client closing, REST requests, one
// refused for its Host header, and a scrape target that is down (the alert TickEngineDown).
// Each query is asked as Grafana would: `$__rate_interval` replaced by a window of 20 scrapes, over the run as a
// range query (a time-series panel) and at its end as an instant query (a table panel, /api/v1/query).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { registry } from '../../src/metrics.js';
import { projectRoot } from '../../src/paths.js';
import { tradeList, type ListedTrade } from '../../src/standins/trade-list.js';
import { VenueStandin } from '../../src/standins/venue-standin.js';
import type { VenueName } from '../../src/ingest/venues/venue-adapter.js';
import { createKafka } from '../../src/stream/kafka.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { runCli, waitHttpOk, type CliProcess } from '../helpers/cli.js';
import { freePort, liveEnv, testConfig } from '../helpers/env.js';
import { scrapeMetrics, sumMetric } from '../helpers/metrics.js';
import { waitFor, withPg } from '../helpers/stores.js';

const DASHBOARD = join(projectRoot(), 'deploy', 'grafana', 'dashboards', 'tick-engine.json');
const ALERTS = join(projectRoot(), 'deploy', 'prometheus', 'alerts.yml');
/** Debian's prometheus (scripts/test.sh installs the package); TE_PROMETHEUS overrides. */
const PROMETHEUS = process.env.TE_PROMETHEUS ?? '/usr/bin/prometheus';
/** What `$__rate_interval` becomes here: 20 scrapes at 1 s (Grafana makes it at least 4 scrape intervals). */
const RATE_WINDOW = '20s';

/**
 * Queries that may be empty in this run, with why: the event behind them cannot be made here within the test's time.
 * Each is still asked and must be valid (status success).
 */
const MAY_BE_EMPTY: Record<string, string> = {
  'sum by (channel) (rate(tick_engine_ws_dropped_total[$__rate_interval]))':
    "trades are dropped only for a client whose unread bytes pass TE_WS_SOFT_LIMIT_BYTES inside the gateway, after the kernel's loopback socket buffers (megabytes) are full: minutes of trades at this run's rate (tests/e2e/backpressure.e2e.test.ts makes it at 500 ticks/s)",
};

/**
 * Queries whose event this run makes happen: each must reach a value above 0 at some point of the run (not only
 * have a series). The always-present series of unlabelled counters (backpressure closes, conflated updates) are
 * not here: they stay 0 for the reason given for dropped trades above.
 */
const MUST_MOVE = [
  'sum by (code) (rate(tick_engine_dead_letters_total[$__rate_interval]))',
  'sum(rate(tick_engine_late_ticks_revising_total[$__rate_interval]))',
  'sum(rate(tick_engine_dead_letters_total{code="TE_LATE_TICK"}[$__rate_interval]))',
  'sum by (target) (tick_engine_write_retries_total)',
  'sum by (venue) (tick_engine_feed_gaps_found_total)',
  'sum by (venue) (tick_engine_feed_gaps_filled_total)',
  'sum by (venue, reason) (tick_engine_feed_gaps_unfilled_total)',
  'sum by (venue) (tick_engine_feed_possible_gaps_total)',
  'sum by (venue) (tick_engine_feed_trades_lost_total)',
  'sum by (venue) (tick_engine_feed_duplicates_dropped_total)',
  'sum by (venue) (tick_engine_feed_decode_errors_total)',
  'sum by (venue, reason) (tick_engine_feed_reconnects_total)',
  'sum by (venue, outcome) (tick_engine_feed_history_requests_total)',
  'sum by (code) (tick_engine_ws_closed_total)',
  'sum by (reason) (tick_engine_auth_failures_total)',
  'sum by (venue) (rate(tick_engine_feed_trades_in_total[$__rate_interval]))',
  'sum by (route, status) (rate(tick_engine_http_requests_total[$__rate_interval]))',
  'sum by (interval) (rate(tick_engine_bars_out_total[$__rate_interval]))',
  'sum by (interval) (rate(tick_engine_bar_revisions_out_total[$__rate_interval]))',
  'sum(rate(tick_engine_state_snapshots_total[$__rate_interval]))',
  'sum by (alertname, alertstate, severity) (ALERTS)',
];

interface Target {
  refId: string;
  expr: string;
  instant?: boolean;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Query {
  panel: string;
  refId: string;
  expr: string;
  instant: boolean;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
};
/** Every panel, those inside collapsed rows included. */
const panels: Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries: Query[] = panels.flatMap((p) => (p.targets ?? []).map((x) => ({ panel: p.title, refId: x.refId, expr: x.expr, instant: x.instant === true })));

// ------------------------------------------------------------------------------------------------- PromQL names

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names an expression selects: identifiers that are not functions, keywords, label names or strings. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // label lists
  const names: string[] = [];
  for (const m of bare.matchAll(/(?<![\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

/** Exported names as Prometheus sees them (a histogram as _bucket, _sum and _count), each with its labels. */
async function exportedNames(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const m of await registry.getMetricsAsJSON()) {
    const metric = registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] } | undefined;
    const labels = metric?.labelNames ?? [];
    if ((m.type as unknown as string) === 'histogram') {
      out.set(`${m.name}_bucket`, [...labels, 'le']);
      out.set(`${m.name}_sum`, labels);
      out.set(`${m.name}_count`, labels);
    } else out.set(m.name, labels);
  }
  return out;
}

/** Prometheus's own series: `up` for each target, `ALERTS` for each pending or firing alert. */
const PROMETHEUS_OWN = new Map([
  ['up', []],
  ['ALERTS', ['alertname', 'alertstate', 'severity']],
]);

/** Problems with the names and grouping labels of one expression, given the names that exist. */
function nameProblems(expr: string, exported: Map<string, string[]>): string[] {
  const problems: string[] = [];
  const names = metricNames(expr);
  if (names.length === 0) problems.push(`selects no metric: ${expr}`);
  for (const n of names) if (!exported.has(n) && !PROMETHEUS_OWN.has(n)) problems.push(`${n} is not exported (in: ${expr})`);
  // `agg by (labels) (… one metric …)`: each label is the metric's own, or one Prometheus adds.
  for (const [, labels, body] of expr.matchAll(/by \(([^)]*)\) \((.*)\)/g)) {
    const inner = metricNames(body!);
    const known = inner.length === 1 ? (exported.get(inner[0]!) ?? PROMETHEUS_OWN.get(inner[0]!)) : undefined;
    if (!known) continue;
    for (const l of labels!.split(',').map((s) => s.trim()))
      if (!['job', 'instance', ...known].includes(l)) problems.push(`${inner[0]} has no label ${l} (in: ${expr})`);
  }
  return problems;
}

t.test('the dashboard: Grafana schema 39+, every panel queries Prometheus through the datasource variable, only exported metrics', async (t) => {
  t.ok(dashboard.schemaVersion >= 39, `schemaVersion ${dashboard.schemaVersion}`);
  t.equal(dashboard.uid, 'tick-engine');
  t.ok(
    dashboard.templating.list.some((v) => v.name === 'DS_PROMETHEUS' && v.type === 'datasource'),
    'a datasource variable DS_PROMETHEUS (import and provisioning both resolve it)',
  );
  const ids = panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids unique');
  const shown = panels.filter((p) => p.type !== 'row');
  t.ok(shown.length >= 25, `${shown.length} panels in ${panels.length - shown.length} rows`);
  const problems: string[] = [];
  for (const p of shown) {
    if (!p.targets?.length) problems.push(`${p.title}: no query`);
    if (p.datasource?.uid !== '${DS_PROMETHEUS}') problems.push(`${p.title}: datasource ${JSON.stringify(p.datasource)}`);
    if (p.gridPos.x + p.gridPos.w > 24) problems.push(`${p.title}: wider than the grid`);
    for (const x of p.targets ?? []) {
      if (!x.expr?.trim()) problems.push(`${p.title} ${x.refId}: empty expr`);
      if (x.datasource?.uid !== '${DS_PROMETHEUS}') problems.push(`${p.title} ${x.refId}: datasource ${JSON.stringify(x.datasource)}`);
    }
  }
  t.same(problems, [], 'every panel has queries, all on ${DS_PROMETHEUS}');

  const exported = await exportedNames();
  t.same(
    queries.flatMap((q) => nameProblems(q.expr, exported)),
    [],
    `the ${queries.length} queries name only metrics of src/metrics.ts's registry (and up, ALERTS), grouped by their own labels`,
  );
  // The checker itself: a misspelt name and a label the metric does not have are caught.
  t.same(nameProblems('sum by (code) (rate(tick_engine_dead_letter_total[$__rate_interval]))', exported), [
    'tick_engine_dead_letter_total is not exported (in: sum by (code) (rate(tick_engine_dead_letter_total[$__rate_interval])))',
  ]);
  t.same(nameProblems('sum by (venue) (rate(tick_engine_ticks_in_total[1m]))', exported), [
    'tick_engine_ticks_in_total has no label venue (in: sum by (venue) (rate(tick_engine_ticks_in_total[1m])))',
  ]);
  t.same(metricNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y(z)"}[5m]))) and on (i) b offset 1m'), ['a_bucket', 'b']);
  for (const q of [...Object.keys(MAY_BE_EMPTY), ...MUST_MOVE])
    t.ok(
      queries.some((x) => x.expr === q),
      `a panel asks: ${q}`,
    );
});

// --------------------------------------------------------------------------------------------------- the run

interface PromAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] };
}

async function prom(base: string, path: string, params: Record<string, string>): Promise<PromAnswer> {
  const res = await fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams(params) });
  return (await res.json()) as PromAnswer;
}

/** A GET with any Host header (fetch does not let a test choose it). */
function getWithHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

/** One venue feed process (`ingest --feed`) on its stand-in, with its /metrics port. */
class Feed {
  proc!: CliProcess;
  metricsPort = 0;
  readonly list: ListedTrade[];
  constructor(
    readonly venue: VenueName,
    readonly standin: VenueStandin,
    readonly symbols: Record<string, string>,
    readonly env: Record<string, string>,
  ) {
    this.list = tradeList(Object.values(symbols), { count: 40, seed: venue.length, startMs: Date.now() - 30_000 });
  }

  async start(): Promise<void> {
    this.metricsPort = await freePort();
    this.proc = runCli(['ingest', '--feed', this.venue.toLowerCase(), '--symbols', Object.keys(this.symbols).join(',')], {
      ...process.env,
      ...this.env,
      TE_FEED_URL: this.standin.url,
      TE_FEED_REST_URL: this.standin.restUrl,
      TE_FEED_METRICS_PORT: String(this.metricsPort),
    });
    await waitHttpOk(`http://127.0.0.1:${this.metricsPort}/ready`, this.proc);
  }

  range(from: number, to: number): ListedTrade[] {
    return this.list.filter((x) => Number(x.tradeId) >= from && Number(x.tradeId) <= to);
  }

  /** Waits until the sum of the samples named `prefix` reaches `n`. */
  async until(prefix: string, n: number): Promise<void> {
    const got = await waitFor(
      () => scrapeMetrics(`http://127.0.0.1:${this.metricsPort}`).then((m) => sumMetric(m, prefix)),
      (v) => v >= n,
      20_000,
      100,
    );
    if (got < n) throw new Error(`${this.venue}: ${prefix} is ${got}, not ${n}:\n${this.proc.output().slice(-3000)}`);
  }
}

t.test('every panel query returns data from a real Prometheus scraping the running engine', async (t) => {
  const started = Date.now();
  const [gwPort, aggPort, promPort, deadPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const env = liveEnv({
    TE_GATEWAY_HOST: '127.0.0.1',
    TE_GATEWAY_PORT: String(gwPort),
    TE_METRICS_PORT: String(aggPort),
    TE_INTERVALS: '1s,1m',
    TE_SIM_SYMBOLS: '10',
    TE_SIM_RATE: '100',
    TE_SIM_DURATION_S: '90',
    // Late ticks: jitter past the out-of-orderness revises closed bars; past the allowed lateness, dead letters.
    TE_SIM_JITTER_MS: '2500',
    TE_MAX_OUT_OF_ORDER_MS: '500',
    TE_ALLOWED_LATENESS_MS: '1000',
    // A write blocked by the table lock below is reported slow after 1 s (and abandoned only after 3 s).
    TE_STORE_TIMEOUT_MS: '1000',
    TE_STATE_SNAPSHOT_MS: '5000',
    TE_FEED_STALE_MS: '3000',
  });
  const config = testConfig(env);
  const kafka = createKafka(config, 'grafana-e2e');
  await ensureTopics(kafka, config);

  // A malformed record first: a dead letter TE_DECODE.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: config.topicTicks, messages: [{ key: 'BTC-USD', value: Buffer.from('{"not":"avro"}') }] });
  await producer.disconnect();

  const tmp = mkdtempSync(join(tmpdir(), 'te-grafana-'));
  const cleanup: (() => Promise<unknown>)[] = [];
  t.teardown(async () => {
    // In reverse: clients first, then what they talk to; a step that hangs is named.
    for (const c of cleanup.reverse()) {
      const timer = setTimeout(() => process.stderr.write(`grafana e2e: a clean-up step hangs: ${c.toString().slice(0, 200)}\n`), 20_000);
      await c().catch(() => {});
      clearTimeout(timer);
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  // The engine's processes, each stopped (SIGTERM, then SIGKILL by its PID after 20 s) after everything that talks to it.
  const stopCli = (p: CliProcess, name: string) => async () => {
    const killer = setTimeout(() => {
      process.stderr.write(`grafana e2e: ${name} did not stop on SIGTERM in 20 s, killed:\n${p.output().slice(-3000)}\n`);
      p.child.kill('SIGKILL');
    }, 20_000);
    await p.stop();
    clearTimeout(killer);
  };
  const gateway = runCli(['gateway'], env);
  cleanup.push(stopCli(gateway, 'gateway'));
  const aggregator = runCli(['aggregate'], env);
  cleanup.push(stopCli(aggregator, 'aggregator'));
  await waitHttpOk(`http://127.0.0.1:${gwPort}/ready`, gateway);
  await waitHttpOk(`http://127.0.0.1:${aggPort}/metrics`, aggregator);
  const sim = runCli(['ingest'], env); // the simulated feed, live, for TE_SIM_DURATION_S (it serves no /metrics)
  cleanup.push(stopCli(sim, 'simulated feed'));

  // Two venue feeds on their stand-ins: Binance (trade ids in order: gaps found, filled, given up) and Bybit (ids
  // without order: a lost connection is a possible gap).
  const feeds: Feed[] = [];
  for (const [venue, symbols] of [
    ['BINANCE', { 'BTC-USDT': 'BTCUSDT' }],
    ['BYBIT', { 'SOL-USDT': 'SOLUSDT' }],
  ] as const) {
    const standin = await VenueStandin.start(venue);
    cleanup.push(() => standin.close());
    standin.heartbeats(300);
    const f = new Feed(venue, standin, symbols, env);
    await f.start();
    cleanup.push(stopCli(f.proc, `${venue} feed`));
    feeds.push(f);
  }
  const [binance, bybit] = feeds as [Feed, Feed];

  // Prometheus: every second, the engine's processes and one target nothing listens on (the push job).
  const promDir = join(tmp, 'prometheus');
  const promConfig = join(tmp, 'prometheus.yml');
  const job = (name: string, ports: number[]) =>
    `  - job_name: ${name}\n    static_configs:\n      - targets: [${ports.map((p) => `'127.0.0.1:${p}'`).join(', ')}]\n`;
  writeFileSync(
    promConfig,
    'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n' +
      `rule_files:\n  - ${JSON.stringify(ALERTS)}\n` +
      'scrape_configs:\n' +
      job('aggregator', [aggPort]) +
      job('gateway', [gwPort]) +
      job(
        'feed',
        feeds.map((f) => f.metricsPort),
      ) +
      job('push', [deadPort]),
  );
  const prometheus: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${promConfig}`, `--storage.tsdb.path=${promDir}`, `--web.listen-address=127.0.0.1:${promPort}`, '--storage.tsdb.retention.time=1h'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let promLog = '';
  prometheus.stderr!.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-20_000)));
  const promExited = new Promise((resolve) => prometheus.on('exit', resolve));
  cleanup.push(async () => {
    if (prometheus.exitCode === null) prometheus.kill('SIGTERM');
    const killer = setTimeout(() => prometheus.kill('SIGKILL'), 20_000);
    await promExited;
    clearTimeout(killer);
  });
  const promUrl = `http://127.0.0.1:${promPort}`;
  const promReady = await waitFor(
    () =>
      fetch(`${promUrl}/-/ready`)
        .then((r) => r.ok)
        .catch(() => false),
    (ok) => ok || prometheus.exitCode !== null,
    30_000,
    200,
  );
  if (!t.ok(promReady, `prometheus ready on ${promPort}`)) t.comment(promLog);
  const rangeStart = Date.now() / 1000;

  // Gateway clients: one stays, one leaves (a close code); REST requests all along, one refused for its Host.
  const wsUrl = `ws://127.0.0.1:${gwPort}/ws`;
  const clients = [new WebSocket(wsUrl), new WebSocket(wsUrl)];
  cleanup.push(async () => clients.forEach((c) => c.terminate()));
  for (const ws of clients) {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'bars', interval: '1s', symbols: '*' }));
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'trades', symbols: '*' }));
  }
  const api = `http://127.0.0.1:${gwPort}/api/v1`;
  let rest = true;
  const restLoop = (async () => {
    while (rest) {
      const { symbols } = (await (await fetch(`${api}/instruments`)).json()) as { symbols: string[] };
      if (symbols[0]) await (await fetch(`${api}/bars/${symbols[0]}?interval=1s&limit=10`)).arrayBuffer();
      await (await fetch(`${api}/quote/NO-SUCH`)).arrayBuffer(); // 404
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  cleanup.push(async () => {
    rest = false;
    await restLoop.catch(() => {});
  });
  t.equal(await getWithHost(gwPort, '/api/v1/instruments', 'attacker.example'), 421, 'a request with a foreign Host header is refused');

  // Binance: a gap filled from the history (1006..1007), repeated trades, an undecodable frame, a gap the history
  // lacks (1016..1017: given up, FILL_INCOMPLETE).
  binance.standin.setHistory(binance.list.filter((x) => !['1016', '1017'].includes(x.tradeId)));
  binance.standin.sendTrades(binance.range(1001, 1005));
  binance.standin.sendTrades(binance.range(1008, 1012));
  await binance.until('tick_engine_feed_gaps_filled_total{', 1);
  binance.standin.sendTrades(binance.range(1010, 1012));
  await binance.until('tick_engine_feed_duplicates_dropped_total{', 3);
  binance.standin.sendRaw(Math.max(...binance.standin.openConnections()), '{"e":"trade","broken');
  await binance.until('tick_engine_feed_decode_errors_total{', 1);
  binance.standin.sendTrades(binance.range(1013, 1015));
  binance.standin.sendTrades(binance.range(1018, 1020));
  await binance.until('tick_engine_feed_gaps_unfilled_total{', 1);
  // Bybit: trades, a dropped connection, trades after it: a possible gap.
  bybit.standin.sendTrades(bybit.range(1001, 1005));
  await bybit.until('tick_engine_feed_trades_in_total{', 5);
  bybit.standin.drop();
  await waitFor(
    async () => bybit.standin.openConnections().length,
    (n) => n > 0,
    15_000,
    100,
  );
  await bybit.until('tick_engine_feed_reconnects_total{', 1);
  await new Promise((r) => setTimeout(r, 500)); // resubscribed
  bybit.standin.sendTrades(bybit.range(1006, 1010));
  await bybit.until('tick_engine_feed_possible_gaps_total{', 1);
  t.pass('venue feed events made: gap filled, gap given up, duplicates, undecodable frame, reconnect, possible gap');
  // Then a trade every 400 ms on each venue: trade rates and lags keep moving.
  let next = 0;
  const trickle = setInterval(() => {
    binance.standin.sendTrades(binance.range(1021 + next, 1021 + next));
    bybit.standin.sendTrades(bybit.range(1011 + next, 1011 + next));
    next = (next + 1) % 20;
  }, 400);
  cleanup.push(async () => clearInterval(trickle));

  // A PostgreSQL write blocked past TE_STORE_TIMEOUT_MS: reported slow (retries counted, postgres down), then done.
  const aggMetrics = `http://127.0.0.1:${aggPort}`;
  await waitFor(
    () => scrapeMetrics(aggMetrics).then((m) => sumMetric(m, 'tick_engine_bars_out_total{')),
    (n) => n > 0,
    30_000,
    250,
  );
  await withPg(config.pgUrl, async (c) => {
    await c.query('BEGIN');
    await c.query(`LOCK TABLE ${config.barsTable} IN ACCESS EXCLUSIVE MODE`);
    await new Promise((r) => setTimeout(r, 2200));
    await c.query('COMMIT');
  });
  const retries = await waitFor(
    () => scrapeMetrics(aggMetrics).then((m) => sumMetric(m, 'tick_engine_write_retries_total{target="postgres"')),
    (n) => n > 0,
    10_000,
    250,
  );
  t.ok(retries > 0, `a postgres write reported slow under the lock (${retries} retries counted)`);

  // One client leaves (close code 1000); the other stays.
  clients[1]!.close(1000, 'bye');

  // Scraped long enough: every labelled series made above has samples across a whole rate window.
  const waitUntil = Math.max(Date.now() + 22_000, started + 75_000);
  while (Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 500));
  t.same([gateway.child.exitCode, aggregator.child.exitCode], [null, null], 'the gateway and the aggregator still run');

  // Prometheus scraped every process (the dead push target aside), and every name a query uses is among what it got.
  const up = await prom(promUrl, '/api/v1/query', { query: 'up' });
  const upByJob = Object.fromEntries((up.data?.result ?? []).map((r) => [`${r.metric.job}@${r.metric.instance}`, r.value![1]]));
  t.same(
    upByJob,
    {
      [`aggregator@127.0.0.1:${aggPort}`]: '1',
      [`gateway@127.0.0.1:${gwPort}`]: '1',
      [`feed@127.0.0.1:${binance.metricsPort}`]: '1',
      [`feed@127.0.0.1:${bybit.metricsPort}`]: '1',
      [`push@127.0.0.1:${deadPort}`]: '0',
    },
    'targets up (the push one down on purpose)',
  );
  const scraped = new Set(((await (await fetch(`${promUrl}/api/v1/label/__name__/values`)).json()) as { data: string[] }).data);
  const notScraped = [...new Set(queries.flatMap((q) => metricNames(q.expr)))].filter((n) => !scraped.has(n) && !['ALERTS'].includes(n));
  const emptyOnly = Object.keys(MAY_BE_EMPTY).flatMap(metricNames);
  t.same(
    notScraped.filter((n) => !emptyOnly.includes(n)),
    [],
    `every metric the dashboard names is in what Prometheus scraped (${scraped.size} names)`,
  );

  // Every query, as Grafana asks it: over the run (range) and now (instant).
  const now = Date.now() / 1000;
  const moved: string[] = [];
  for (const q of queries) {
    const expr = q.expr.replaceAll('$__rate_interval', RATE_WINDOW);
    const where = `${q.panel} ${q.refId}: ${q.expr}`;
    const instant = await prom(promUrl, '/api/v1/query', { query: expr, time: String(now) });
    const range = await prom(promUrl, '/api/v1/query_range', { query: expr, start: String(rangeStart), end: String(now), step: '1' });
    if (!t.equal(instant.status, 'success', `instant ${where}`)) t.comment(instant.error ?? '');
    if (!t.equal(range.status, 'success', `range ${where}`)) t.comment(range.error ?? '');
    const series = range.data?.result ?? [];
    const values = series.flatMap((s) => s.values ?? []).map(([, v]) => Number(v));
    if (MAY_BE_EMPTY[q.expr]) {
      t.comment(`${where}: ${series.length} series (may be empty: ${MAY_BE_EMPTY[q.expr]})`);
      continue;
    }
    const finite = values.filter((v) => Number.isFinite(v));
    t.ok((instant.data?.result.length ?? 0) > 0, `${where}: ${instant.data?.result.length} series now`);
    t.ok(
      series.length > 0 && finite.length > 0,
      `${where}: ${series.length} series over the run, ${finite.length} numeric samples, max ${Math.max(...finite)}`,
    );
    if (finite.some((v) => v > 0)) moved.push(q.expr);
  }
  for (const q of MUST_MOVE) t.ok(moved.includes(q), `rose above 0 during the run: ${q}`);
  const alerts = await prom(promUrl, '/api/v1/query', { query: 'ALERTS' });
  t.comment(
    `alerts at the end: ${JSON.stringify((alerts.data?.result ?? []).map((r) => `${r.metric.alertname}/${r.metric.alertstate}/${r.metric.job ?? r.metric.instance ?? ''}`))}`,
  );
  t.ok(
    (alerts.data?.result ?? []).some((r) => r.metric.alertname === 'TickEngineDown' && r.metric.job === 'push'),
    'the alert for the target that is down is pending or firing',
  );
  t.comment(`wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
