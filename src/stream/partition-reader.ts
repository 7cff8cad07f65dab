// Reads one partition's offset range [from, to) in order, as an async iterable of packed batches with
// backpressure (a private consumer group; the other partitions are paused). Used by replay.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { PackedBatch } from '../aggregate/pre-aggregate.js';

/**
 * Fetch sizes. Small fetches are both leaner and faster here: with 1 MiB per partition (≈12,000 ticks a
 * batch) replay peaked at 220–280 MB RSS, because the message objects kafkajs makes for a whole fetch
 * outlive young-generation GCs and get promoted; with 256 KiB (≈2,500 ticks) they mostly die young: a bare
 * read of a partition ran ~1.5× faster, and replay peaks at 130–145 MB (about one run in eight still has V8
 * promote most of the young generation and peaks near 190 MB). Below ~128 KiB round trips cost throughput.
 */
const MAX_BYTES_PER_PARTITION = 256 * 1024;
const MAX_BYTES = 512 * 1024;
/** Packed batches read ahead of the consumer: one being aggregated while the next is fetched. */
const MAX_QUEUED_BATCHES = 2;

/**
 * The values of `messages` in [from, to) and at or past `next` (kafkajs re-delivers after a seek), copied
 * back to back: kafkajs's message objects and the fetch buffer their values point into can then die young.
 */
function pack(messages: KafkaMessage[], next: number, to: number): PackedBatch | undefined {
  let count = 0;
  let total = 0;
  const keep = new Float64Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const o = Number(messages[i]!.offset);
    keep[i] = o >= next && o < to ? o : -1;
    if (keep[i]! < 0) continue;
    count++;
    total += messages[i]!.value?.length ?? 0;
  }
  if (count === 0) return undefined;
  const data = Buffer.allocUnsafeSlow(total);
  const lengths = new Int32Array(count);
  const offsets = new Float64Array(count);
  let pos = 0;
  let k = 0;
  for (let i = 0; i < messages.length; i++) {
    if (keep[i]! < 0) continue;
    const v = messages[i]!.value;
    offsets[k] = keep[i]!;
    if (v) {
      v.copy(data, pos);
      pos += v.length;
      lengths[k++] = v.length;
    } else lengths[k++] = -1;
  }
  return { data, lengths, offsets };
}

/** Turns a fetched batch into what the reader yields: the messages in [from, to) at or past `next`, and the last offset taken. */
export type BatchTaker<T> = (messages: KafkaMessage[], next: number, to: number) => { batch: T; last: number } | undefined;

/** Values packed back to back (replay: the aggregation's input format). */
export const packValues: BatchTaker<PackedBatch> = (messages, next, to) => {
  const packed = pack(messages, next, to);
  return packed && { batch: packed, last: packed.offsets[packed.offsets.length - 1]! };
};

/** The kafkajs messages themselves, keys included (small reads such as state snapshots). */
export const keepMessages: BatchTaker<KafkaMessage[]> = (messages, next, to) => {
  const kept = messages.filter((m) => Number(m.offset) >= next && Number(m.offset) < to);
  return kept.length ? { batch: kept, last: Number(kept[kept.length - 1]!.offset) } : undefined;
};

export function readPartition(kafka: Kafka, topic: string, partition: number, from: number, to: number): AsyncGenerator<PackedBatch>;
export function readPartition<T>(kafka: Kafka, topic: string, partition: number, from: number, to: number, take: BatchTaker<T>): AsyncGenerator<T>;
export async function* readPartition<T>(
  kafka: Kafka,
  topic: string,
  partition: number,
  from: number,
  to: number,
  take: BatchTaker<T> = packValues as unknown as BatchTaker<T>,
): AsyncGenerator<T> {
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
