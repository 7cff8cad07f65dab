// PartitionPositions against the real broker and kafkajs's own restart path (consumer.stop, then run again, as after
// a broker outage): records produced while the consumer was away reach it on every partition, including one it had
// never read from, exactly once. Beside it, the same consumer without the positions loses that partition's records,
// the failure this guards against (kafkajs starts a partition without a committed offset from its end).
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { sleep } from '../../src/backoff.js';
import { createKafka } from '../../src/stream/kafka.js';
import { PartitionPositions } from '../../src/stream/partition-positions.js';
import { testConfig, uniqueName } from '../helpers/env.js';

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A live consumer of `topic` (fromBeginning: false), with or without positions; `seen` gets each record's value. */
async function liveConsumer(kafka: Kafka, topic: string, positions: PartitionPositions | undefined, seen: string[], autoCommit: boolean) {
  if (positions) {
    const admin = kafka.admin();
    await admin.connect();
    positions.startAt(
      topic,
      (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: o.high })),
    );
    await admin.disconnect();
  }
  const consumer: Consumer = kafka.consumer({ groupId: `positions-${randomUUID()}`, maxWaitTimeInMs: 50 });
  let joins = 0;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    positions?.resume(consumer, e.payload.memberAssignment);
    joins++;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  const run = () =>
    consumer.run({
      autoCommit,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen.push(String(m.value));
        positions?.handled(batch.topic, batch.partition, batch.lastOffset());
      },
    });
  await run();
  await until('the first join', () => joins === 1);
  return {
    consumer,
    /** What superviseConsumer does after an outage: the same consumer runs again and rejoins. */
    async restart() {
      await consumer.stop();
      const before = joins;
      await run();
      await until('the rejoin', () => joins > before);
    },
  };
}

async function scenario(t: Test, kafka: Kafka, producer: Producer, withPositions: boolean): Promise<{ seen: string[]; sent: string[] }> {
  const topic = uniqueName('positions');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  const send = (partition: number, value: string) => producer.send({ topic, messages: [{ partition, value }] });
  await send(0, 'before-0');
  await send(1, 'before-1');
  const seen: string[] = [];
  // With positions as the gateway runs it (no commits at all); without, with kafkajs's commit after every batch.
  const c = await liveConsumer(kafka, topic, withPositions ? new PartitionPositions() : undefined, seen, !withPositions);
  t.teardown(() => c.consumer.disconnect());
  // Probes until one arrives: a plain consumer fixes a partition's start (its end) only at its first fetch, so what is
  // produced just after a join can be skipped too.
  const sent: string[] = [];
  const probe = async (partition: number, prefix: string) => {
    for (let i = 0; !seen.some((v) => v.startsWith(prefix)); i++) {
      if (i === 60) throw new Error(`no ${prefix} probe arrived in 30 s`);
      sent.push(`${prefix}${i}`);
      await send(partition, `${prefix}${i}`);
      await sleep(500);
    }
  };
  await probe(0, 'a0-');
  await c.consumer.stop();
  // Away: partition 0 has a committed offset (a0's batch), partition 1 has never had a record handed over.
  await send(0, 'b0');
  await send(1, 'b1');
  await c.restart();
  await probe(1, 'c1-');
  await until('b0', () => seen.includes('b0'), 10_000).catch(() => undefined);
  return { seen, sent: [...sent, 'b0', 'b1'] };
}

t.test('records produced while the consumer was away reach it on every partition, once', async (t) => {
  const kafka = createKafka(testConfig(), 'test');
  const producer = kafka.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());

  const withPositions = await scenario(t, kafka, producer, true);
  t.same(
    [...withPositions.seen].sort(),
    [...withPositions.sent].sort(),
    'with positions: every record produced since the start, once, including b1 on the partition never read before',
  );

  const { seen: without } = await scenario(t, kafka, producer, false);
  t.ok(without.includes('b0'), 'without: b0 arrives (its partition had a committed offset)');
  t.notOk(without.includes('b1'), 'without: b1 is lost — the partition had no committed offset and restarted from its end');
});
