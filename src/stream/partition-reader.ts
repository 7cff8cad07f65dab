// Reads one partition's offset range [from, to) in order with kafkajs, as an async iterable of batches with
// backpressure (a private consumer group; the other partitions are paused). Used to load state snapshots;
// replay reads ticks with its own fetches (partition-fetcher.ts).
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** Fetch sizes: a snapshot is read a chunk or two at a time (a record larger than this still comes whole). */
const MAX_BYTES_PER_PARTITION = 256 * 1024;
const MAX_BYTES = 512 * 1024;
/** Batches read ahead of the caller: one being used while the next is fetched. */
const MAX_QUEUED_BATCHES = 2;

/** The messages in [from, to) at or past `next` (kafkajs re-delivers after a seek), and the last offset taken. */
function inRange(messages: KafkaMessage[], next: number, to: number): { batch: KafkaMessage[]; last: number } | undefined {
  const kept = messages.filter((m) => Number(m.offset) >= next && Number(m.offset) < to);
  return kept.length ? { batch: kept, last: Number(kept[kept.length - 1]!.offset) } : undefined;
}

/** The partition's messages with offsets in [from, to), keys included, in fetched batches. */
export async function* readPartition(kafka: Kafka, topic: string, partition: number, from: number, to: number): AsyncGenerator<KafkaMessage[]> {
  if (from >= to) return;
  const consumer = kafka.consumer({
    groupId: `reader-${randomUUID()}`,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    maxBytes: MAX_BYTES,
    maxWaitTimeInMs: 100,
  });
  const queue: { batch: KafkaMessage[]; last: number }[] = [];
  /** Next offset to take: batches are taken in eachBatch, which kafkajs calls one at a time for a partition. */
  let fetched = from;
  let wake: (() => void) | undefined;
  let drained: (() => void) | undefined;
  let failure: unknown;
  /** Set once the reader is done: a batch waiting for room must give up rather than block disconnect. */
  let closing = false;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) {
        failure = e.payload.error;
        signal();
      }
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.partition !== partition || closing) return;
        const taken = inRange(batch.messages, fetched, to);
        if (!taken) return;
        fetched = taken.last + 1;
        queue.push(taken);
        signal();
        // Backpressure: do not fetch further ahead than a few batches of what the caller has consumed.
        while (queue.length >= MAX_QUEUED_BATCHES && !closing) await new Promise<void>((r) => (drained = r));
      },
    });
    const admin = kafka.admin();
    await admin.connect();
    const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => p.partition).filter((p) => p !== partition);
    await admin.disconnect();
    if (partitions.length) consumer.pause([{ topic, partitions }]);
    consumer.seek({ topic, partition, offset: String(from) });
    let next = from;
    while (next < to) {
      if (failure) throw failure;
      const taken = queue.shift();
      drained?.();
      drained = undefined;
      if (!taken) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      next = taken.last + 1;
      yield taken.batch;
    }
  } finally {
    closing = true;
    queue.length = 0;
    drained?.();
    await consumer.disconnect();
  }
}
