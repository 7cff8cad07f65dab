// The live aggregator's fetch path against the real broker: a PartitionFollower reads what a kafkajs consumer
// (read_committed) reads — values, keys, offsets and timestamps of plain, gzip and null-valued records, an aborted
// and a committed transaction — answers an empty long poll when caught up, sees records produced later, and
// fails with TE_KAFKA_READ when the broker cannot be reached.
import t from 'tap';
import { CompressionTypes } from 'kafkajs';
import { createKafka } from '../../../src/stream/kafka.js';
import { partitionLeaders, PartitionFollower, type Fetched } from '../../../src/stream/fetch/index.js';
import { ensureTopics } from '../../../src/stream/topics.js';
import { testConfig } from '../../helpers/env.js';

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

const OPTS = { clientId: 'test-follow', maxBytes: 64 * 1024, maxWaitMs: 100, timeoutMs: 5000 };

function records(f: Fetched): Rec[] {
  const out: Rec[] = [];
  for (const run of f.runs)
    for (let i = 0; i < run.offsets.length; i++) {
      const text = (start: number, length: number) => (length < 0 ? null : run.data.subarray(start, start + length).toString());
      out.push({
        offset: run.offsets[i]!,
        key: text(run.keyStarts[i]!, run.keyLengths[i]!),
        value: text(run.starts[i]!, run.lengths[i]!),
        timestamp: run.timestamps[i]!,
      });
    }
  return out;
}

t.test('a follower reads what a kafkajs consumer reads, then waits for more', async (t) => {
  const config = testConfig();
  const kafka = createKafka(config, 'test');
  await ensureTopics(kafka, config);
  const topic = config.topicTicks;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  for (let round = 0; round < 8; round++) {
    const messages = Array.from({ length: 500 }, (_, i) => ({
      key: i % 13 === 0 ? null : `k${i % 10}`,
      value: i % 97 === 0 ? null : `v${round}-${i}-${'x'.repeat(i % 50)}`,
      partition: 0,
      timestamp: String(1_700_000_000_000 + round * 1000 + i),
    }));
    await producer.send({ topic, messages, compression: round % 3 === 2 ? CompressionTypes.GZIP : CompressionTypes.None });
  }
  const tx = kafka.producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
  t.teardown(() => tx.disconnect());
  const aborted = await tx.transaction();
  await aborted.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ value: `aborted-${i}`, partition: 0 })) });
  await aborted.abort();
  const committed = await tx.transaction();
  await committed.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: 'tx', value: `committed-${i}`, partition: 0 })) });
  await committed.commit();

  const admin = kafka.admin();
  await admin.connect();
  const high = Number((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)!.high);
  const leader = (await partitionLeaders(admin, topic))(0);
  await admin.disconnect();

  const expected: Rec[] = [];
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (partition !== 0) return;
        const value = message.value?.toString() ?? null;
        expected.push({ offset: Number(message.offset), key: message.key?.toString() ?? null, value, timestamp: Number(message.timestamp) });
        if (value === 'committed-19') resolve();
      },
    });
  });
  await consumer.disconnect();

  const follower = new PartitionFollower(leader, topic, 0, 0, OPTS);
  t.teardown(() => follower.close());
  const got: Rec[] = [];
  let responses = 0;
  while (follower.offset < high) {
    const f = await follower.next();
    t.equal(f.from, got.length ? f.from : 0, 'each response starts where the previous ended');
    got.push(...records(f));
    responses++;
  }
  t.ok(responses > 2, `${responses} fetches of at most ${OPTS.maxBytes} bytes`);
  t.same(got, expected, `the same ${expected.length} records: offsets, keys, values, timestamps`);
  t.equal(follower.offset, high, 'past the transaction markers: at the high watermark');

  for (let i = 0; i < 2; i++) {
    const idle = await follower.next();
    t.same(
      { runs: idle.runs.length, from: idle.from, next: idle.next },
      { runs: 0, from: high, next: high },
      'caught up: an empty answer (the long poll ran out)',
    );
  }

  const later = follower.next();
  await producer.send({ topic, messages: [{ key: 'late', value: 'later', partition: 0 }] });
  let f = await later;
  while (f.next === f.from) f = await follower.next();
  t.same(
    records(f).map((r) => [r.offset, r.key, r.value]),
    [[high, 'late', 'later']],
    'a record produced while waiting arrives',
  );
});

t.test('a follower of an unreachable broker fails with TE_KAFKA_READ', async (t) => {
  const follower = new PartitionFollower({ host: '127.0.0.1', port: 1 }, 'nothing', 0, 0, OPTS);
  await t.rejects(follower.next(), { code: 'TE_KAFKA_READ' });
  follower.close();
});
