// Reads one partition's offset range [from, to) in order with kafkajs, as an async iterable of batches with
// backpressure (a private consumer group; the other partitions are paused). Used to load state snapshots;
// replay reads ticks with its own fetches (partition-fetcher.ts).
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Fetch sizes. Small fetches are leaner: the message objects kafkajs makes for a whole fetch then mostly die
 * young (with 1 MiB per partition they outlived young-generation GCs and RSS grew past 200 MB).
 */
const MAX_BYTES_PER_PARTITION = 256 * 1024;
const MAX_BYTES = 512 * 1024;
/** Packed batches read ahead of the consumer: one being aggregated while the next is fetched. */
const MAX_QUEUED_BATCHES = 2;

/** Turns a fetched batch into what the reader yields: the messages in [from, to) at or past `next`, and the last offset taken. */
export type BatchTaker<T> = (messages: KafkaMessage[], next: number, to: number) => { batch: T; last: number } | undefined;

/** The kafkajs messages themselves, keys included (small reads such as state snapshots). */
export const keepMessages: BatchTaker<KafkaMessage[]> = (messages, next, to) => {
  const kept = messages.filter((m) => Number(m.offset) >= next && Number(m.offset) < to);
  return kept.length ? { batch: kept, last: Number(kept[kept.length - 1]!.offset) } : undefined;
};

export async function* readPartition<T>(kafka: Kafka, topic: string, partition: number, from: number, to: number, take: BatchTaker<T>): AsyncGenerator<T> {
  if (from >= to) return;
  const consumer = kafka.consumer({
    groupId: `replay-${randomUUID()}`,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    maxBytes: MAX_BYTES,
    maxWaitTimeInMs: 100,
  });
  const queue: { batch: T; last: number }[] = [];
  /** Next offset to pack: batches are packed in eachBatch, which kafkajs calls one at a time for a partition. */
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
        const taken = take(batch.messages, fetched, to);
        if (!taken) return;
        fetched = taken.last + 1;
        queue.push(taken);
        signal();
        // Backpressure: do not fetch further ahead than a few batches of what replay has consumed.
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
