// Replay's own fetch path against the real broker: what it reads equals what a kafkajs consumer
// (read_committed) reads from the same partition — plain, gzip and null-valued records over several
// fetches, a committed and an aborted transaction — over the whole range and windows of it; errors name
// what went wrong.
import t from 'tap';
import { CompressionTypes } from 'kafkajs';
import { createKafka } from '../../../src/stream/kafka.js';
import { FETCH_MAX_BYTES, fetchPartition, partitionLeaders } from '../../../src/stream/fetch/partition-fetcher.js';
import { ensureTopics } from '../../../src/stream/topics.js';
import { Prng } from '../../../src/ingest/prng.js';
import { testConfig } from '../../helpers/env.js';

interface Rec {
  offset: number;
  value: string | null;
}

t.test('fetchPartition reads what a kafkajs consumer reads', async (t) => {
  const config = testConfig();
  const kafka = createKafka(config, 'test');
  await ensureTopics(kafka, config);
  const topic = config.topicTicks;
  const prng = new Prng(3);
  const payload = (n: number) => Buffer.from(Array.from({ length: n }, () => 97 + prng.int(26))).toString();

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  // Enough plain records for several fetches, some without a value; gzip batches; then transactions.
  let bytes = 0;
  for (let round = 0; bytes < 2.5 * FETCH_MAX_BYTES; round++) {
    const messages = Array.from({ length: 2000 }, (_, i) => {
      const value = i % 97 === 0 ? null : payload(50 + prng.int(400));
      bytes += value?.length ?? 0;
      return { key: `k${i % 10}`, value, partition: 0, headers: i % 5 === 0 ? { h: 'x' } : undefined };
    });
    await producer.send({ topic, messages, compression: round % 4 === 3 ? CompressionTypes.GZIP : CompressionTypes.None });
  }
  const tx = kafka.producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
  t.teardown(() => tx.disconnect());
  const aborted = await tx.transaction();
  await aborted.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ value: `aborted-${i}`, partition: 0 })) });
  await aborted.abort();
  await producer.send({ topic, messages: [{ value: 'between', partition: 0 }] });
  const committed = await tx.transaction();
  await committed.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `committed-${i}`, partition: 0 })) });
  await committed.commit();
  await producer.send({ topic, messages: [{ value: 'last', partition: 0 }] });

  // The kafkajs side: a consumer (read_committed, its default) until the sentinel record. (Not up to the high
  // watermark: a transaction marker may land after the sentinel.)
  const expected: Rec[] = [];
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (partition !== 0) return;
        const value = message.value?.toString() ?? null;
        expected.push({ offset: Number(message.offset), value });
        if (value === 'last') resolve();
      },
    });
  });
  await consumer.disconnect();
  t.ok(expected.length > 20_000, `${expected.length} records read by kafkajs`);
  t.notOk(
    expected.some((r) => r.value?.startsWith('aborted')),
    'kafkajs leaves the aborted transaction out',
  );

  const admin = kafka.admin();
  await admin.connect();
  const [end] = await admin.fetchTopicOffsets(topic).then((o) => o.filter((p) => p.partition === 0));
  const leader = (await partitionLeaders(admin, topic))(0);
  await admin.disconnect();
  const high = Number(end!.high);

  const read = async (from: number, to: number) => {
    const out: Rec[] = [];
    let runs = 0;
    for await (const run of fetchPartition(leader, 'test-replay', topic, 0, from, to)) {
      runs++;
      for (let i = 0; i < run.lengths.length; i++)
        out.push({
          offset: run.offsets[i]!,
          value: run.lengths[i]! < 0 ? null : run.data.toString('latin1', run.starts[i]!, run.starts[i]! + run.lengths[i]!),
        });
    }
    return { out, runs };
  };
  const all = await read(Number(end!.low), high);
  t.same(all.out, expected, 'every record, value and offset, in order');
  t.ok(all.runs >= 3, `${all.runs} runs (several fetches, gzip batches apart)`);
  const a = expected[777]!.offset;
  const b = expected[expected.length - 40]!.offset;
  t.same(
    (await read(a, b)).out,
    expected.filter((r) => r.offset >= a && r.offset < b),
    'a window across fetches and the transactions',
  );
  t.same((await read(b, b)).out, [], 'an empty window');
  // A consumer that stops after the first run (its own error, say) while the next fetch is in flight.
  let taken = 0;
  for await (const run of fetchPartition(leader, 'test-replay', topic, 0, Number(end!.low), high)) {
    taken += run.lengths.length;
    break;
  }
  await new Promise((r) => setTimeout(r, 200)); // an unobserved rejection of the closed fetch would fail the file
  t.ok(taken > 0 && taken < expected.length, `stopping early after ${taken} records closes cleanly`);

  await t.rejects(
    (async () => {
      for await (const run of fetchPartition(leader, 'test-replay', topic, 999, 0, 10)) void run;
    })(),
    { code: 'TE_KAFKA_READ', message: /UNKNOWN_TOPIC_OR_PARTITION/ },
    'a partition that does not exist',
  );
  await t.rejects(
    (async () => {
      for await (const run of fetchPartition({ host: '127.0.0.1', port: 1 }, 'test-replay', topic, 0, 0, 10)) void run;
    })(),
    { code: 'TE_KAFKA_READ', message: /127\.0\.0\.1:1/ },
    'a broker that does not answer',
  );
});
