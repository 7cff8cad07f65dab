// `tick-engine ingest --feed binance` as a real process against the test stack's broker, fed by a local stand-in of
// Binance's WebSocket and REST history (127.0.0.1 only, through TE_FEED_URL and TE_FEED_REST_URL): a seeded list of
// trades, one dropped connection, the overlap the reconnect re-sends, and a skipped range the history fills. Its
// /metrics count what came in and /health turns 503, naming the connection, once the venue goes silent. After
// SIGTERM, the ticks topic holds each trade exactly once, keyed by symbol, in id order per symbol, field for field,
// the feed.events topic one GAP_FILLED per symbol, and the process exited 0.
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import t from 'tap';
import { projectRoot } from '../../../src/paths.js';
import { createKafka } from '../../../src/stream/kafka.js';
import { runCli, type CliProcess } from '../../helpers/cli.js';
import { freePort, testConfig, testEnv } from '../../helpers/env.js';
import { scrapeMetrics } from '../../helpers/metrics.js';
import { readTopic } from '../../helpers/stores.js';
import { VenueStandin, type ListedTrade } from '../../../src/standins/venue-standin.js';
import { tradeList } from '../../../src/standins/trade-list.js';

async function until(what: string, cond: () => boolean | Promise<boolean>, proc: CliProcess, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (proc.child.exitCode !== null) throw new Error(`ingest exited (${proc.child.exitCode}) while waiting for ${what}:\n${proc.output()}`);
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const avsc = (file: string) => avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/${file}`, 'utf8')) as avro.Schema);

t.test(
  'ingest --feed binance: through a drop, its overlap and a filled gap, each trade once on the ticks topic; /metrics, /health; exit 0 on SIGTERM',
  async (t) => {
    const venueSymbols = ['BTCUSDT', 'ETHUSDT'];
    const symbolOf: Record<string, string> = { BTCUSDT: 'BTC-USDT', ETHUSDT: 'ETH-USDT' };
    const list = tradeList(venueSymbols, { count: 40, seed: 21 });
    const id = (x: ListedTrade) => Number(x.tradeId);
    const range = (from: number, to: number, skip: (x: ListedTrade) => boolean = () => false) => list.filter((x) => id(x) >= from && id(x) <= to && !skip(x));

    const standin = await VenueStandin.start('BINANCE');
    t.teardown(() => standin.close());
    standin.setHistory(list);
    standin.heartbeats(200); // Binance's pings: a quiet moment is not a stale connection
    const metricsPort = await freePort();
    // testEnv throws when the stack's variables are missing (never a skip); topics of this run only.
    const env = testEnv({
      TE_FEED_URL: standin.url,
      TE_FEED_REST_URL: standin.restUrl,
      TE_FEED_METRICS_PORT: String(metricsPort),
      TE_GATEWAY_HOST: '127.0.0.1',
      TE_FEED_STALE_MS: '1500',
      TE_LOG_LEVEL: 'info',
    });
    const base = `http://127.0.0.1:${metricsPort}`;
    const config = testConfig(env);
    const kafka = createKafka(config, 'test');
    const admin = kafka.admin();
    await admin.connect();
    t.teardown(() => admin.disconnect());
    const ticksInTopic = async () => {
      if (!(await admin.listTopics()).includes(config.topicTicks)) return 0;
      return (await admin.fetchTopicOffsets(config.topicTicks)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    };

    const proc = runCli(['ingest', '--feed', 'binance', '--symbols', 'BTC-USDT,ETH-USDT'], env);
    t.teardown(() => proc.stop());
    await until('the subscription', () => standin.of('subscribe').length === 1 && standin.openConnections().length === 1, proc);

    standin.sendTrades(range(1001, 1015));
    await until('the first 30 ticks in the topic', async () => (await ticksInTopic()) >= 30, proc);
    standin.drop();
    await until('the subscription after the drop', () => standin.of('subscribe').length === 2 && standin.openConnections().length === 1, proc);
    // The reconnect re-sends 1010..1015 (overlap) and misses 1021..1023 (filled from the history).
    standin.sendTrades(range(1010, 1040, (x) => id(x) >= 1021 && id(x) <= 1023));
    await until('all 80 ticks in the topic', async () => (await ticksInTopic()) >= list.length, proc);

    const metrics = await scrapeMetrics(base);
    for (const symbol of ['BTC-USDT', 'ETH-USDT']) {
      t.equal(
        metrics.get(`tick_engine_feed_trades_in_total{venue="BINANCE",symbol="${symbol}"}`),
        43,
        `/metrics: ${symbol} 43 trades in (15, then 28 with the overlap)`,
      );
      t.equal(metrics.get(`tick_engine_feed_trade_lag_seconds_count{venue="BINANCE",symbol="${symbol}"}`), 43);
      t.equal(metrics.get(`tick_engine_feed_gaps_filled_total{venue="BINANCE",symbol="${symbol}"}`), 1);
      t.equal(metrics.get(`tick_engine_feed_duplicates_dropped_total{venue="BINANCE",symbol="${symbol}"}`), 6);
    }
    t.equal(metrics.get('tick_engine_feed_history_requests_total{venue="BINANCE",outcome="ok"}'), 2, 'one history request per symbol');
    t.equal(metrics.get('tick_engine_feed_reconnects_total{venue="BINANCE",reason="closed"}'), 1);
    const healthy = await fetch(`${base}/health`);
    t.equal(healthy.status, 200, '/health 200 while the venue answers');
    t.equal((await fetch(`${base}/ready`)).status, 200, '/ready 200: connected');

    // The venue goes away for good: the connection is lost and every reconnect refused.
    standin.refuseNext(1000);
    standin.drop();
    let stale: Response | undefined;
    await until('/health 503', async () => (stale = await fetch(`${base}/health`)).status === 503, proc, 15_000);
    const body = (await stale!.json()) as { status: string; message: string; stale: { connection: string }[] };
    t.equal(body.status, 'unhealthy');
    t.match(body.message, /^BINANCE#0 \(2 symbols\) has received nothing for \d+\.\d s \(stale after 1\.5 s\)$/, `names the connection: ${body.message}`);
    t.same(
      body.stale.map((x) => x.connection),
      ['BINANCE#0'],
    );

    const code = await proc.stop();
    t.equal(code, 0, 'exit code 0 after SIGTERM');

    const tickType = avsc('tick-v2.avsc');
    const records = (await readTopic(kafka, config.topicTicks)).sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const got: Record<string, unknown[]> = {};
    const problems: string[] = [];
    for (const r of records) {
      const v = r.message.value!;
      if (v[0] !== 0 || v.readUInt32BE(1) !== 7) problems.push(`${r.partition}@${r.offset}: not magic 0 with the id of tick schema version 2`);
      const tick = tickType.fromBuffer(v.subarray(5)) as Record<string, unknown>;
      if (r.message.key?.toString() !== tick.symbol) problems.push(`${r.partition}@${r.offset}: key ${String(r.message.key)} is not the symbol`);
      if (!(Number(tick.ingestTime) > 0)) problems.push(`${r.partition}@${r.offset}: no ingest time`);
      const { venue, symbol, eventTime, price, size, side, tradeId, venueSymbol, sequence } = tick;
      const seq = sequence as { first: boolean; lostIds: number } | null;
      // The gap was filled: nothing lost; only each symbol's first trade starts without a known predecessor.
      const continuity = seq && { first: seq.first, lostIds: seq.lostIds };
      (got[String(symbol)] ??= []).push({ venue, symbol, eventTime, price, size, side, tradeId, venueSymbol, continuity });
    }
    t.same(problems, [], 'every record: wire format with the tick schema id, keyed by its symbol, with an ingest time');
    const want: Record<string, unknown[]> = {};
    for (const x of [...list].sort((a, b) => id(a) - id(b))) {
      const symbol = symbolOf[x.venueSymbol]!;
      const first = want[symbol] === undefined;
      (want[symbol] ??= []).push({
        venue: 'BINANCE',
        symbol,
        eventTime: x.timeMs * 1000,
        price: Number(x.price),
        size: Number(x.size),
        side: x.side,
        tradeId: x.tradeId,
        venueSymbol: x.venueSymbol,
        continuity: { first, lostIds: 0 },
      });
    }
    t.equal(records.length, list.length, `${list.length} records: each trade once`);
    t.same(got, want, 'every trade of the list, per symbol in id order (one partition each), every field equal');

    const eventType = avsc('feed-event-v2.avsc');
    const events = (await readTopic(kafka, config.topicFeedEvents)).map((r) => {
      t.equal(r.message.value!.readUInt32BE(1), 9, 'feed event schema version 2');
      const e = eventType.fromBuffer(r.message.value!.subarray(5)) as Record<string, unknown>;
      return [r.message.key!.toString(), e.kind, e.symbol, e.venueSymbol, e.fromId, e.toId, e.reason];
    });
    t.same(
      events.sort(),
      venueSymbols.map((s) => [symbolOf[s], 'GAP_FILLED', symbolOf[s], s, '1021', '1023', null]).sort(),
      'one GAP_FILLED per symbol on feed.events, keyed by symbol',
    );
    const out = proc.output();
    for (const line of [
      'venue connected',
      'venue connection lost; reconnecting',
      'venue connection back',
      'gap in trade ids filled from the venue history',
      'venue feed stopped',
    ])
      t.ok(out.includes(line), `logged: ${line}`);
  },
);
