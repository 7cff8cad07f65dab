// Guarantee 4 against one oversized record: a record that fits in `ticks` but whose dead letter would not fit in
// the dead-letter topic is dead-lettered in a reduced form and consumption goes on (before, the aggregator stopped
// for good, after every restart, and exited with code 0). And a component that fails for good exits non-zero,
// saying which.
import { createHash } from 'node:crypto';
import t from 'tap';
import { createKafka } from '../../src/stream/kafka.js';
import { DLQ_HEADERS, REDUCED_PREFIX_BYTES } from '../../src/stream/dlq.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { runCli } from '../helpers/cli.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { diffBars, offlineBars } from '../helpers/oracle.js';
import { readPgBars, readTopic, waitFor, withPg } from '../helpers/stores.js';
import { readTicks } from '../helpers/verify-run.js';

/** The broker's default message.max.bytes (1 MiB + 12): a record batch of one value this close to it fits, barely. */
const BROKER_LIMIT = 1_048_588;

t.test('a record too large to dead-letter whole: reduced dead letter, consumption goes on', async (t) => {
  const env = testEnv({
    TE_SIM_START: '2024-04-01T00:00:00Z',
    TE_SIM_SPEED: '0',
    TE_SIM_DURATION_S: '20',
    TE_SIM_RATE: '300',
    TE_SIM_SYMBOLS: '5',
    TE_TICKS_PARTITIONS: '1', // the poison record sits between valid ticks of the one partition
    TE_INTERVALS: '1s,1m',
    TE_SINKS: 'postgres',
  });
  const config = testConfig(env);
  const kafka = createKafka(config, 'poison-test');
  await ensureTopics(kafka, config);
  t.equal(await runCli(['ingest'], env).exited, 0, 'valid ticks before the poison');
  // Fits in `ticks` (value, 7-byte key and ~80 bytes of batch and record overhead), but not with the ~140 bytes of
  // dead-letter headers on top.
  const poison = Buffer.alloc(BROKER_LIMIT - 100);
  for (let i = 0; i < poison.length; i++) poison[i] = (i * 31 + 7) & 0xff;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: config.topicTicks, messages: [{ key: 'BTC-USD', value: poison }] });
  await producer.disconnect();
  t.pass(`a ${poison.length}-byte record is in ${config.topicTicks}`);
  t.equal(await runCli(['ingest'], { ...env, TE_SIM_START: '2024-04-01T00:00:20Z', TE_SIM_SEED: '43' }).exited, 0, 'valid ticks after it');

  const aggregator = runCli(['aggregate'], env);
  t.teardown(() => aggregator.stop());
  const ticks = await readTicks(kafka, config.topicTicks);
  t.ok(ticks.length > 5000, `${ticks.length} valid ticks around the poison record`);
  const expected = offlineBars(ticks, { intervals: config.intervals, maxOutOfOrder: config.maxOutOfOrderMs * 1000 }).finalBars;
  const pgCount = () => withPg(config.pgUrl, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${config.barsTable}`)).rows[0].n)).catch(() => 0);
  await waitFor(pgCount, (n) => n >= expected.length || aggregator.child.exitCode !== null, 90_000, 500);
  t.equal(aggregator.child.exitCode, null, 'the aggregator is still running');
  t.same(diffBars(await readPgBars(config.pgUrl, config.barsTable), expected), [], `the bars of the ${ticks.length} valid ticks, before and after it, exact`);

  const dlq = await readTopic(kafka, config.topicDlq);
  t.equal(dlq.length, 1, 'one dead letter');
  const m = dlq[0]!.message;
  const h = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));
  t.equal(h[DLQ_HEADERS.code], 'TE_DECODE');
  t.equal(h[DLQ_HEADERS.truncated], 'true', 'reduced');
  t.equal(h[DLQ_HEADERS.originalBytes], String(poison.length));
  t.equal(h[DLQ_HEADERS.sha256], createHash('sha256').update(poison).digest('hex'), 'with the hash of the original bytes');
  t.match(h[DLQ_HEADERS.source], new RegExp(`^${config.topicTicks.replace(/\./g, '\\.')}/0@\\d+$`), 'and where they are');
  t.same(m.value, poison.subarray(0, REDUCED_PREFIX_BYTES), 'and their first KiB');
  t.equal(await aggregator.stop(), 0, 'stops cleanly');
});

t.test('an aggregator that cannot go on exits non-zero and says why', async (t) => {
  const env = testEnv({
    TE_SIM_START: '2024-04-02T00:00:00Z',
    TE_SIM_SPEED: '0',
    TE_SIM_DURATION_S: '5',
    TE_SIM_RATE: '100',
    TE_TICKS_PARTITIONS: '1',
    TE_SINKS: 'postgres',
  });
  const config = testConfig(env);
  const kafka = createKafka(config, 'fatal-test');
  await ensureTopics(kafka, config);
  t.equal(await runCli(['ingest'], env).exited, 0);
  // A checkpoint that refers to a state snapshot nobody wrote: the partition state cannot be restored.
  const consumer = kafka.consumer({ groupId: config.aggGroupId });
  await consumer.connect();
  await consumer.subscribe({ topic: config.topicTicks, fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  await consumer.commitOffsets([
    {
      topic: config.topicTicks,
      partition: 0,
      offset: '0',
      metadata: JSON.stringify({ v: 2, wm: null, durable: null, hi: 0, snap: { id: 'nobody', offset: 0, chunks: 1 } }),
    },
  ]);
  await consumer.disconnect();
  const aggregator = runCli(['aggregate'], env);
  const code = await Promise.race([aggregator.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000).unref())]);
  if (code === 'still running') await aggregator.stop();
  t.equal(code, 1, 'exit code 1 (it was 0)');
  t.match(aggregator.output(), /aggregator failed: .*state snapshot nobody/, 'names the component and the reason');
});
