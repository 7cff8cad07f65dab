// End to end on the real servers: simulated feed → Kafka → aggregator → PostgreSQL, TimescaleDB, QuestDB,
// bars topic → gateway → WebSocket client. Every final bar everywhere must equal the bar computed offline
// from the very ticks read back from the ticks topic: every field, none missing, none extra.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import avro from 'avsc';
import WebSocket from 'ws';
import { createKafka } from '../../src/stream/kafka.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { projectRoot } from '../../src/paths.js';
import { SignalEngine } from '../../src/aggregate/signals/signal-engine.js';
import { freePort, testConfig, testEnv } from '../helpers/env.js';
import { runCli, startEngine } from '../helpers/cli.js';
import { diffBars, offlineBars, type OracleBar, type OracleTick } from '../helpers/oracle.js';
import { questDbCount, readPgBars, readPgSignals, readQuestDbBars, readQuestDbSignals, readTopic, waitFor, withPg } from '../helpers/stores.js';

// Independent Avro readers straight from the .avsc files (what any downstream consumer would do).
const avsc = (name: string) => avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/${name}.avsc`, 'utf8')));
// The engine writes version 2 (ids 7 and 8); a version 1 consumer reads them through Avro schema resolution.
const tickType = avsc('tick-v2');
const barType = avsc('bar-v2');
const barV1 = avsc('bar');
const barV1FromV2 = barV1.createResolver(barType);
function readWire(type: avro.Type, buf: Buffer | null): Record<string, unknown> | undefined {
  if (!buf || buf.length < 5 || buf[0] !== 0) return undefined;
  try {
    return { ...(type.fromBuffer(buf.subarray(5)) as Record<string, unknown>) };
  } catch {
    return undefined;
  }
}

/** The latest version (highest revision) of each bar, as a consumer of revisions would keep it. */
function latest(bars: OracleBar[]): OracleBar[] {
  const m = new Map<string, OracleBar>();
  for (const b of bars) {
    const id = `${b.symbol}|${b.interval}|${b.bucketStart}`;
    const prev = m.get(id);
    if (!prev || b.revision >= prev.revision) m.set(id, b);
  }
  return [...m.values()];
}

interface Scenario {
  name: string;
  env: Record<string, string>;
  /** Whether late ticks are part of this run (revisions and drops) or must not occur at all. */
  late: boolean;
}

const scenarios: Scenario[] = [
  {
    name: 'in-order feed (jitter within the out-of-orderness): every bar final once, no revisions',
    env: { TE_SIM_DURATION_S: '150', TE_SIM_RATE: '200', TE_SIM_SEED: '1234', TE_SIM_JITTER_MS: '300', TE_MAX_OUT_OF_ORDER_MS: '1000' },
    late: false,
  },
  {
    name: 'late feed (jitter 2.5 s, out-of-orderness 0.5 s, allowed lateness 1 s): revisions and dead letters',
    env: {
      TE_SIM_DURATION_S: '90',
      TE_SIM_RATE: '200',
      TE_SIM_SEED: '4321',
      TE_SIM_JITTER_MS: '2500',
      TE_MAX_OUT_OF_ORDER_MS: '500',
      TE_ALLOWED_LATENESS_MS: '1000',
    },
    late: true,
  },
];

for (const sc of scenarios)
  t.test(sc.name, async (t) => {
    const port = await freePort();
    const env = testEnv({
      TE_SIM_START: '2024-01-01T00:00:00Z',
      TE_SIM_SPEED: '0',
      TE_INTERVALS: '1s,1m',
      TE_GATEWAY_PORT: String(port),
      ...sc.env,
    });
    const config = testConfig(env);
    const kafka = createKafka(config, 'e2e-test');
    await ensureTopics(kafka, config);

    // Bad input first: it must go to the dead-letter topic with a reason and disturb nothing.
    // Idempotent: a send retried after a broker hiccup (a leader election right after the fault tests) must not
    // write an injected record twice.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // A version 1 body under id 1 (an older producer): read, then refused for its price.
    const validBody = avsc('tick').toBuffer({
      venue: 'SIM',
      symbol: 'BTC-USD',
      eventTime: 1_704_067_200_000_000,
      price: -5,
      size: 1,
      side: 'BUY',
      tradeId: 'x',
      ingestTime: 0,
    });
    const injected = [
      { key: 'BTC-USD', value: Buffer.from('{"not":"avro"}'), code: 'TE_DECODE' },
      { key: 'ETH-USD', value: Buffer.concat([Buffer.from([0, 0, 0, 0, 99]), validBody]), code: 'TE_DECODE' },
      { key: 'BTC-USD', value: Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), validBody]), code: 'TE_INVALID_TICK' },
    ];
    await producer.send({ topic: config.topicTicks, messages: injected.map(({ key, value }) => ({ key, value })) });
    await producer.disconnect();

    const { gateway, aggregator } = await startEngine(t, env, port);

    const wsBars: OracleBar[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const acks: unknown[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; bar?: OracleBar };
      if (m.type === 'bar') wsBars.push(m.bar!);
      else acks.push(m);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'bars', interval: '1s', symbols: '*' }));
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'bars', interval: '1m', symbols: ['*'] }));
    ws.send('{"op":"subscribe","interval":"3h","symbols":["A"]}');
    await waitFor(
      async () => acks.length,
      (n) => n >= 3,
      10_000,
    );
    t.same(acks, [
      { type: 'subscribed', channel: 'bars', interval: '1s', symbols: ['*'] },
      { type: 'subscribed', channel: 'bars', interval: '1m', symbols: ['*'] },
      { type: 'error', code: 'TE_BAD_REQUEST', message: 'interval must be one of 1s, 1m (got "3h")' },
    ]);

    const ingest = runCli(['ingest'], env);
    t.equal(await ingest.exited, 0, 'ingest finished cleanly');

    // The ticks as they are in Kafka, decoded independently.
    const records = await readTopic(kafka, config.topicTicks);
    const ticks: OracleTick[] = [];
    const undecodable: number[] = [];
    for (const r of records) {
      const v = readWire(tickType, r.message.value);
      if (!v || r.message.value!.readUInt32BE(1) !== 7 || (v.price as number) <= 0) undecodable.push(r.offset);
      else ticks.push({ ...(v as unknown as OracleTick), partition: r.partition, offset: r.offset });
    }
    t.equal(undecodable.length, 3, 'the three injected bad records are in the ticks topic');
    const span = (Math.max(...ticks.map((x) => x.eventTime)) - Math.min(...ticks.map((x) => x.eventTime))) / 1e6;
    t.ok(span >= 60, `the feed covers ${span.toFixed(1)} s of event time`);
    t.equal(new Set(ticks.map((x) => x.symbol)).size, 50, '50 symbols');
    const expected = offlineBars(ticks, {
      intervals: config.intervals,
      maxOutOfOrder: config.maxOutOfOrderMs * 1000,
      allowedLateness: config.allowedLatenessMs * 1000,
    });
    const exp = expected.finalBars;
    const revisions = exp.reduce((n, b) => n + b.revision, 0);
    if (sc.late) {
      t.ok(expected.late.length > 20, `${expected.late.length} ticks too late: dead-lettered`);
      t.ok(expected.revised.length > 20, `${expected.revised.length} late ticks within the lateness: ${revisions} bar revisions`);
    } else {
      t.equal(expected.late.length + expected.revised.length, 0, 'jitter within the out-of-orderness: no late ticks');
    }
    t.ok(exp.filter((b) => b.interval === '1m').length >= 50, `${exp.filter((b) => b.interval === '1m').length} final 1m bars`);
    t.ok(exp.length > 3000, `${exp.length} final bars expected`);
    t.comment(`${ticks.length} ticks → ${exp.length} final bars, ${revisions} revisions`);

    // Wait for the pipeline to drain into the stores (every bar at its last revision) and out to the subscriber.
    const pgState = () =>
      withPg(config.pgUrl, async (c) => {
        const r = (await c.query(`SELECT count(*) AS n, coalesce(sum(revision), 0) AS r FROM ${config.barsTable}`)).rows[0];
        return `${r.n}/${r.r}`;
      });
    t.equal(await waitFor(pgState, (v) => v === `${exp.length}/${revisions}`, 120_000), `${exp.length}/${revisions}`, 'PostgreSQL rows/revisions');
    t.equal(
      await waitFor(
        () => questDbCount(config.questdbHttp, config.barsTable),
        (n) => n >= exp.length,
        60_000,
      ),
      exp.length,
      'QuestDB row count',
    );
    await waitFor(
      async () => latest(wsBars).reduce((n, b) => n + b.revision, 0) >= revisions && latest(wsBars).length >= exp.length,
      (done) => done,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1000)); // anything extra would arrive now

    t.equal(await aggregator.stop(), 0, 'aggregator stops cleanly on SIGTERM');
    ws.close();
    t.equal(await gateway.stop(), 0, 'gateway stops cleanly on SIGTERM');

    t.same(diffBars(await readPgBars(config.pgUrl, config.barsTable), exp), [], 'PostgreSQL bars = offline bars');
    t.same(diffBars(await readPgBars(config.tsdbUrl, config.barsTable), exp), [], 'TimescaleDB bars = offline bars');
    t.same(diffBars(await readQuestDbBars(config.questdbPgUrl, config.barsTable), exp), [], 'QuestDB bars = offline bars');
    const barRecords = await readTopic(kafka, config.topicBars);
    const topicBars = barRecords.map((r) => readWire(barType, r.message.value) as unknown as OracleBar);
    t.same(diffBars(latest(topicBars), exp), [], 'bars topic: the latest version of each bar = offline bars (Avro, wire format)');
    t.ok(
      barRecords.every((r) => r.message.value!.readUInt32BE(1) === 8) && topicBars.every((b) => b.complete === null),
      'bars topic: bar schema version 2 (id 8); complete null (simulated ticks carry no trade-id sequence)',
    );
    // An old consumer (bar schema version 1) reads the same records: every version 1 field as written.
    const oldReader = barRecords.map((r) => ({ ...(barV1.fromBuffer(r.message.value!.subarray(5), barV1FromV2) as OracleBar), complete: null }));
    t.same(diffBars(latest(oldReader), exp), [], 'a version 1 reader of the bars topic gets the same bars (without complete)');
    t.same(diffBars(latest(wsBars), exp), [], 'WebSocket subscriber: the latest version of each bar = offline bars');
    if (!sc.late) {
      t.equal(topicBars.length, exp.length, 'bars topic: one version per bar');
      t.equal(wsBars.length, exp.length, 'WebSocket: one version per bar');
    } else {
      t.ok(topicBars.length > exp.length, `bars topic carries ${topicBars.length - exp.length} revised versions`);
    }

    if (!sc.late) {
      // Signals: what the signals topic carries equals the signal engine run over the offline bars.
      const signalType = avsc('signal');
      const got = (await readTopic(kafka, config.topicSignals)).map((r) => readWire(signalType, r.message.value)!);
      const want = new SignalEngine().onBars([...exp].sort((a, b) => a.bucketStart - b.bucketStart));
      const norm = (xs: Record<string, unknown>[]) => xs.map((x) => JSON.stringify([x.symbol, x.interval, x.barTime, x.name, x.direction, x.values])).sort();
      t.ok(want.length > 50, `${want.length} signals expected`);
      t.same(norm(got), norm(want as unknown as Record<string, unknown>[]), 'signals topic = signals over the offline bars (Avro, wire format)');
      // And stored, once each, in every store.
      const wanted = norm(want as unknown as Record<string, unknown>[]);
      const table = `${config.barsTable}_signals`;
      t.same(norm((await readPgSignals(config.pgUrl, table)) as unknown as Record<string, unknown>[]), wanted, 'PostgreSQL signals = the same signals');
      t.same(norm((await readPgSignals(config.tsdbUrl, table)) as unknown as Record<string, unknown>[]), wanted, 'TimescaleDB signals = the same signals');
      // QuestDB applies WAL writes asynchronously: wait for the count to settle first.
      const quest = await waitFor(
        () => readQuestDbSignals(config.questdbPgUrl, table),
        (xs) => xs.length >= want.length,
        30_000,
      );
      t.same(norm(quest as unknown as Record<string, unknown>[]), wanted, 'QuestDB signals = the same signals');
    }

    // Replay the same ticks from Kafka, twice: byte-identical output, and the same bars as the live run.
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const replayed: string[] = [];
    for (const n of [1, 2]) {
      const out = join(dir, `bars-${n}.jsonl`);
      const proc = runCli(['replay', '--out', out], env);
      t.equal(await proc.exited, 0, `replay ${n} exits 0`);
      replayed.push(readFileSync(out, 'utf8'));
    }
    t.ok(replayed[0]!.length > 0 && replayed[0] === replayed[1], 'two replays write byte-identical bars');
    const replayBars = replayed[0]!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as OracleBar);
    t.same(diffBars(latest(replayBars), exp), [], 'the replay gives the bars of the live run');

    const dlq = await readTopic(kafka, config.topicDlq);
    const position = (value: Buffer) => {
      const r = records.find((x) => x.message.value?.equals(value));
      return `${config.topicTicks}/${r?.partition}@${r?.offset}`;
    };
    const dropped = expected.late.map((x) => [
      'TE_LATE_TICK',
      `${config.topicTicks}/${x.partition}@${x.offset}`,
      records.find((r) => r.partition === x.partition && r.offset === x.offset)!.message.value!.toString('hex'),
    ]);
    t.same(
      dlq.map((r) => [r.message.headers?.['te-error-code']?.toString(), r.message.headers?.['te-source']?.toString(), r.message.value?.toString('hex')]).sort(),
      [...injected.map((i) => [i.code, position(i.value), i.value.toString('hex')]), ...dropped].sort(),
      'each bad record and each too-late tick is in the dead-letter topic, byte for byte, with its code and source position',
    );
    t.ok(
      dlq.every((r) => (r.message.headers?.['te-error-reason']?.toString() ?? '').length > 10),
      'every dead letter carries a reason',
    );
  });
