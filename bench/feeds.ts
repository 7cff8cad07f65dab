// Feed benchmark (npm run bench -- feeds).
// 1. Parse: each venue adapter over the trade messages of its real recorded session (cryptofeed's sample data in
//    ../shared) and its API documentation's examples, messages and trades per second, beside a bare JSON.parse of the same texts (the least any adapter
//    must do).
// 2. Ingest path: `tick-engine ingest --feed binance` as a real process reading a local Binance stand-in that sends a
//    seeded list of trades as fast as the connection takes them, ticks/s until every one is in the ticks topic, beside
//    Kafka's ProducerPerformance writing as many records of the same size to the same broker.
// Writes JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VENUE_ADAPTERS, VENUES, type VenueName } from '../src/ingest/venues/index.js';
import { projectRoot } from '../src/paths.js';
import { createKafka } from '../src/stream/kafka.js';
import { schema } from '../src/stream/schemas.js';
import { encode } from '../src/stream/serde.js';
import { runCli, type CliProcess } from '../tests/helpers/cli.js';
import { freePort, testConfig, testEnv } from '../tests/helpers/env.js';
import { docMessages, recordedFrames } from '../tests/helpers/venue-recordings.js';
import { tradeList } from '../src/standins/trade-list.js';
import { VenueStandin } from '../src/standins/venue-standin.js';
import { producerPerf } from './kafka-perf.js';

/** The examples of the venue's API documentation for its trade channel (tests/fixtures/venues), where there are some. */
const DOC_EXAMPLES: Partial<Record<VenueName, string>> = {
  BINANCE: 'binance-trade.json',
  COINBASE: 'coinbase-market_trades.json',
  KRAKEN: 'kraken-trade.json',
  BYBIT: 'bybit-publicTrade.json',
};
const RECORDINGS: Record<VenueName, string> = {
  BINANCE: 'BINANCE.ws.1.0.gz',
  COINBASE: 'COINBASE.ws.28.0.gz',
  KRAKEN: 'KRAKEN.ws.48.0.gz',
  BYBIT: 'BYBIT.ws.25.0.gz',
  OKX: 'OKX.ws.1.0.gz',
};
/** Wall time each parse measurement runs for (it loops over the recording). */
const PARSE_SECONDS = Number(process.env.BENCH_PARSE_SECONDS ?? 2);
/** Trades per symbol (two symbols) the stand-in sends in the ingest measurement. */
const INGEST_TRADES = Number(process.env.BENCH_INGEST_TRADES ?? 100_000);
const progress = (m: string) => process.stderr.write(`[bench:feeds] ${m}\n`);

/** How many times `fn` runs over the texts in `seconds` (whole passes), as texts/s; `sink` keeps the work alive. */
function rate(texts: readonly string[], seconds: number, fn: (text: string) => number): { perSec: number; passes: number; sink: number } {
  let sink = 0;
  let passes = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (const text of texts) sink += fn(text);
    passes++;
    elapsed = performance.now() - t0;
  } while (elapsed < seconds * 1000);
  return { perSec: (texts.length * passes) / (elapsed / 1000), passes, sink };
}

interface ParseResult {
  venue: VenueName;
  recording: string;
  messages: number;
  trades: number;
  adapterMessagesPerSec: number;
  adapterTradesPerSec: number;
  jsonParseMessagesPerSec: number;
  ratio: number;
}

function parse(): ParseResult[] {
  const out: ParseResult[] = [];
  for (const venue of VENUES) {
    const adapter = VENUE_ADAPTERS[venue];
    const now = Date.now() * 1000;
    // The frames that carry trades (books, acks and heartbeats of the recording left out): the adapter's real work.
    const docs = DOC_EXAMPLES[venue];
    const texts = [...recordedFrames(RECORDINGS[venue]).map((f) => f.text), ...(docs ? docMessages(docs).map((m) => m.text) : [])].filter(
      (text) => adapter.parse(text, now).length > 0,
    );
    const trades = texts.reduce((n, text) => n + adapter.parse(text, now).length, 0);
    if (texts.length === 0) throw new Error(`${venue}: no trade message in ${RECORDINGS[venue]}`);
    // Warm both up, then measure, the reference first.
    rate(texts, 0.3, (text) => (JSON.parse(text) as object) && 1);
    rate(texts, 0.3, (text) => adapter.parse(text, now).length);
    const json = rate(texts, PARSE_SECONDS, (text) => (JSON.parse(text) as object) && 1);
    const parsed = rate(texts, PARSE_SECONDS, (text) => adapter.parse(text, now).length);
    const r: ParseResult = {
      venue,
      recording: RECORDINGS[venue] + (docs ? ` + ${docs}` : ''),
      messages: texts.length,
      trades,
      adapterMessagesPerSec: Math.round(parsed.perSec),
      adapterTradesPerSec: Math.round((parsed.perSec * trades) / texts.length),
      jsonParseMessagesPerSec: Math.round(json.perSec),
      ratio: Number((parsed.perSec / json.perSec).toFixed(3)),
    };
    progress(`${venue}: ${r.adapterMessagesPerSec} messages/s (${r.adapterTradesPerSec} trades/s) beside JSON.parse ${r.jsonParseMessagesPerSec} → ${r.ratio}`);
    out.push(r);
  }
  return out;
}

interface IngestResult {
  trades: number;
  seconds: number;
  ingestTicksPerSec: number;
  avgRecordBytes: number;
  producerPerfRecordsPerSec: number;
  producerPerfP99Ms: number;
  ratio: number;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, proc: CliProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (proc.child.exitCode !== null) throw new Error(`ingest exited (${proc.child.exitCode}) while waiting for ${what}:\n${proc.output()}`);
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ingest(): Promise<IngestResult> {
  const venueSymbols = ['BTCUSDT', 'ETHUSDT'];
  const total = INGEST_TRADES * venueSymbols.length;
  // Times 10 ms apart ending a minute ago: plausible, never ahead of the ingest time.
  const list = tradeList(venueSymbols, { count: INGEST_TRADES, seed: 5, startMs: Date.now() - 10 * total - 60_000 });
  const standin = await VenueStandin.start('BINANCE');
  const env = testEnv({
    TE_FEED_URL: standin.url,
    TE_FEED_REST_URL: standin.restUrl,
    TE_FEED_METRICS_PORT: String(await freePort()),
    TE_LOG_LEVEL: 'warn',
  });
  const config = testConfig(env);
  const kafka = createKafka(config, 'bench-feeds');
  const admin = kafka.admin();
  await admin.connect();
  const inTopic = async () => {
    if (!(await admin.listTopics()).includes(config.topicTicks)) return 0;
    return (await admin.fetchTopicOffsets(config.topicTicks)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  };
  const proc = runCli(['ingest', '--feed', 'binance', '--symbols', 'BTC-USDT,ETH-USDT'], env);
  try {
    await waitFor('the subscription', () => standin.of('subscribe').length === 1, proc, 60_000);
    // A first trade per symbol, so the topic and the producer exist before the clock starts.
    standin.sendTrades(list.slice(0, 2));
    await waitFor('the first ticks', async () => (await inTopic()) >= 2, proc, 60_000);
    progress(`ingest: the stand-in sends ${total - 2} trades`);
    const t0 = performance.now();
    // In slices, so the stand-in's own event loop breathes and the socket buffer stays bounded.
    for (let i = 2; i < list.length; i += 2000) {
      standin.sendTrades(list.slice(i, i + 2000));
      await new Promise((r) => setImmediate(r));
    }
    let last = 0;
    await waitFor(
      'every trade in the topic',
      async () => {
        const n = await inTopic();
        if (n - last >= total / 10) progress(`ingest: ${n} of ${total} in the topic`);
        if (n - last >= total / 10) last = n;
        return n >= total;
      },
      proc,
      600_000,
    );
    const seconds = (performance.now() - t0) / 1000;
    const trades = total - 2;
    // The reference: the broker's own producer, as many records of the engine's tick record size.
    const s = schema('tick');
    const sample = list.slice(0, 1000).map((x) =>
      encode(s, {
        venue: 'BINANCE',
        symbol: x.venueSymbol === 'BTCUSDT' ? 'BTC-USDT' : 'ETH-USDT',
        eventTime: x.timeMs * 1000,
        price: Number(x.price),
        size: Number(x.size),
        side: x.side,
        tradeId: x.tradeId,
        ingestTime: Date.now() * 1000,
      }),
    );
    const avgRecordBytes = Math.round(sample.reduce((n, b) => n + b.length, 0) / sample.length);
    progress(`ProducerPerformance: ${trades} records of ${avgRecordBytes} bytes`);
    const perfTopic = `bench-feeds-perf-${Date.now()}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: perfTopic, numPartitions: config.ticksPartitions, replicationFactor: 1 }] });
    const perf = await producerPerf(config.kafkaBrokers.join(','), perfTopic, trades, avgRecordBytes);
    return {
      trades,
      seconds: Number(seconds.toFixed(2)),
      ingestTicksPerSec: Math.round(trades / seconds),
      avgRecordBytes,
      producerPerfRecordsPerSec: Math.round(perf.recordsPerSec),
      producerPerfP99Ms: perf.p99Ms,
      ratio: Number((trades / seconds / perf.recordsPerSec).toFixed(3)),
    };
  } finally {
    await proc.stop();
    await admin.disconnect();
    await standin.close();
  }
}

async function main() {
  const which = process.argv[2] ?? 'all';
  progress(`parse: each adapter over its recorded session for ${PARSE_SECONDS} s`);
  const p = parse();
  const i = which === 'parse' ? undefined : await ingest();
  const result = { date: new Date().toISOString(), parse: p, ingest: i };
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `feeds-${result.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  const lines = ['', 'venue      messages/s   trades/s   JSON.parse msgs/s   ratio   (recording, trade messages)'];
  for (const r of p)
    lines.push(
      `${r.venue.padEnd(9)} ${String(r.adapterMessagesPerSec).padStart(10)} ${String(r.adapterTradesPerSec).padStart(10)} ${String(r.jsonParseMessagesPerSec).padStart(19)}   ${r.ratio.toFixed(3)}   (${r.recording}, ${r.messages})`,
    );
  if (i)
    lines.push(
      `ingest --feed binance → Kafka   ${i.ingestTicksPerSec} ticks/s (${i.trades} trades in ${i.seconds} s)   ProducerPerformance ${i.producerPerfRecordsPerSec} records/s of ${i.avgRecordBytes} B → ratio ${i.ratio}`,
    );
  lines.push(`saved ${file}`, '');
  process.stdout.write(lines.join('\n'));
}

await main();
