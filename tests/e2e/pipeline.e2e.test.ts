// End to end on the real servers: simulated feed → Kafka → aggregator → PostgreSQL, TimescaleDB, QuestDB,
// bars topic → gateway → WebSocket client. Every final bar everywhere must equal the bar computed offline
// from the very ticks read back from the ticks topic: every field, none missing, none extra.
import { readFileSync } from 'node:fs';
import t from 'tap';
import avro from 'avsc';
import WebSocket from 'ws';
import { createKafka } from '../../src/stream/kafka.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { projectRoot } from '../../src/paths.js';
import { freePort, testConfig, testEnv } from '../helpers/env.js';
import { runCli, waitHttpOk } from '../helpers/cli.js';
import { diffBars, offlineBars, type OracleBar, type OracleTick } from '../helpers/oracle.js';
import { questDbCount, readPgBars, readQuestDbBars, readTopic, waitFor, withPg } from '../helpers/stores.js';

// Independent Avro readers straight from the .avsc files (what any downstream consumer would do).
const avsc = (name: string) => avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/${name}.avsc`, 'utf8')));
const tickType = avsc('tick');
const barType = avsc('bar');
function readWire(type: avro.Type, buf: Buffer | null): Record<string, unknown> | undefined {
  if (!buf || buf.length < 5 || buf[0] !== 0) return undefined;
  try {
    return { ...(type.fromBuffer(buf.subarray(5)) as Record<string, unknown>) };
  } catch {
    return undefined;
  }
}

t.test('one seeded feed, every store and every subscriber agree with the offline bars', async (t) => {
  const port = await freePort();
  const env = testEnv({
    TE_SIM_START: '2024-01-01T00:00:00Z',
    TE_SIM_SPEED: '0',
    TE_SIM_DURATION_S: '150',
    TE_SIM_RATE: '200',
    TE_SIM_SEED: '1234',
    TE_SIM_JITTER_MS: '300',
    TE_MAX_OUT_OF_ORDER_MS: '1000',
    TE_INTERVALS: '1s,1m',
    TE_GATEWAY_PORT: String(port),
  });
  const config = testConfig(env);
  const kafka = createKafka(config, 'e2e-test');
  await ensureTopics(kafka, config);

  // Bad input first: it must go to the dead-letter topic with a reason and disturb nothing.
  const producer = kafka.producer();
  await producer.connect();
  const validBody = tickType.toBuffer({
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

  const gateway = runCli(['gateway'], env);
  const aggregator = runCli(['aggregate'], env);
  t.teardown(async () => {
    await aggregator.stop();
    await gateway.stop();
  });
  await waitHttpOk(`http://127.0.0.1:${port}/ready`, gateway);

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
    if (!v || r.message.value!.readUInt32BE(1) !== 1 || (v.price as number) <= 0) undecodable.push(r.offset);
    else ticks.push({ ...(v as unknown as OracleTick), partition: r.partition, offset: r.offset });
  }
  t.equal(undecodable.length, 3, 'the three injected bad records are in the ticks topic');
  const span = (Math.max(...ticks.map((x) => x.eventTime)) - Math.min(...ticks.map((x) => x.eventTime))) / 1e6;
  t.ok(span >= 60, `the feed covers ${span.toFixed(1)} s of event time`);
  t.equal(new Set(ticks.map((x) => x.symbol)).size, 50, '50 symbols');
  const expected = offlineBars(ticks, { intervals: config.intervals, maxOutOfOrder: config.maxOutOfOrderMs * 1000 });
  t.equal(expected.late.length, 0, 'jitter within the out-of-orderness: no late ticks');
  const exp = expected.finalBars;
  t.ok(exp.filter((b) => b.interval === '1m').length >= 100, `${exp.filter((b) => b.interval === '1m').length} final 1m bars`);
  t.ok(exp.length > 3000, `${exp.length} final bars expected`);
  t.comment(`${ticks.length} ticks → ${exp.length} final bars`);

  // Wait for the pipeline to drain into the stores and out to the subscriber.
  const pgCount = () => withPg(config.pgUrl, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${config.barsTable}`)).rows[0].n));
  t.equal(await waitFor(pgCount, (n) => n >= exp.length, 120_000), exp.length, 'PostgreSQL row count');
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
    async () => wsBars.length,
    (n) => n >= exp.length,
    30_000,
  );
  await new Promise((r) => setTimeout(r, 1000)); // anything extra would arrive now

  t.equal(await aggregator.stop(), 0, 'aggregator stops cleanly on SIGTERM');
  ws.close();
  t.equal(await gateway.stop(), 0, 'gateway stops cleanly on SIGTERM');

  t.same(diffBars(await readPgBars(config.pgUrl, config.barsTable), exp), [], 'PostgreSQL bars = offline bars');
  t.same(diffBars(await readPgBars(config.tsdbUrl, config.barsTable), exp), [], 'TimescaleDB bars = offline bars');
  t.same(diffBars(await readQuestDbBars(config.questdbPgUrl, config.barsTable), exp), [], 'QuestDB bars = offline bars');
  const topicBars = (await readTopic(kafka, config.topicBars)).map((r) => readWire(barType, r.message.value) as unknown as OracleBar);
  t.same(diffBars(topicBars, exp), [], 'bars topic = offline bars (Avro, wire format)');
  t.same(diffBars(wsBars, exp), [], 'WebSocket subscriber received exactly the offline bars');

  const dlq = await readTopic(kafka, config.topicDlq);
  const position = (value: Buffer) => {
    const r = records.find((x) => x.message.value?.equals(value));
    return `${config.topicTicks}/${r?.partition}@${r?.offset}`;
  };
  t.same(
    dlq.map((r) => [r.message.headers?.['te-error-code']?.toString(), r.message.headers?.['te-source']?.toString(), r.message.value?.toString('hex')]).sort(),
    injected.map((i) => [i.code, position(i.value), i.value.toString('hex')]).sort(),
    'each bad record is in the dead-letter topic, byte for byte, with its code and source position',
  );
  for (const r of dlq) t.ok((r.message.headers?.['te-error-reason']?.toString() ?? '').length > 10, `reason: ${r.message.headers?.['te-error-reason']}`);
});
