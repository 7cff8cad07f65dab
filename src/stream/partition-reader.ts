// Reads one partition's offset range [from, to) in order, as an async iterable with backpressure
// (a private consumer group; the other partitions are paused). Used by replay.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

const MAX_QUEUED_BATCHES = 2;

export async function* readPartition(kafka: Kafka, topic: string, partition: number, from: number, to: number): AsyncGenerator<KafkaMessage> {
  if (from >= to) return;
  // Small fetches: replay memory should not scale with how far ahead the broker could send.
  const consumer = kafka.consumer({ groupId: `replay-${randomUUID()}`, maxBytesPerPartition: 1024 * 1024, maxBytes: 2 * 1024 * 1024, maxWaitTimeInMs: 100 });
  const queue: KafkaMessage[][] = [];
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
        if (batch.partition !== partition) return;
        const msgs = batch.messages.filter((m) => Number(m.offset) >= from && Number(m.offset) < to);
        if (msgs.length === 0) return;
        queue.push(msgs);
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
      const msgs = queue.shift();
      drained?.();
      drained = undefined;
      if (!msgs) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      for (const m of msgs) {
        const o = Number(m.offset);
        if (o < next) continue; // re-delivered after a seek
        next = o + 1;
        yield m;
      }
    }
  } finally {
    closing = true;
    queue.length = 0;
    drained?.();
    await consumer.disconnect();
  }
}
