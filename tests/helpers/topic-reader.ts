// Every record of a topic, read with either isolation level: read_committed (what the engine's consumers see) or
// read_uncommitted (everything written, aborted transactions included). Unlike readTopic (stores.ts), it knows it
// has reached the end when the consumer's position passes the partition's end, control records included: the last
// offset of a transactional topic is a commit marker, which no consumer is ever handed.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReadRecord {
  partition: number;
  offset: number;
  message: KafkaMessage;
}

export async function readWhole(kafka: Kafka, topic: string, opts: { readUncommitted: boolean }, timeoutMs = 60_000): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  // kafkajs's fetchTopicOffsets reports the last stable offset: once no transaction is open, the end of each partition.
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]));
  const out: ReadRecord[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100, readUncommitted: opts.readUncommitted });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic}: timed out with ${out.length} records`)), timeoutMs);
      // Every fetched batch, even one left empty by filtering (only control records, or only aborted ones), reports
      // the last offset it covered.
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        const end = remaining.get(e.payload.partition);
        if (end !== undefined && Number(e.payload.lastOffset) >= end - 1) remaining.delete(e.payload.partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer.run({
        eachBatch: async ({ batch }) => {
          const end = ends.find((x) => x.partition === batch.partition);
          for (const message of batch.messages)
            if (end && Number(message.offset) < Number(end.high)) out.push({ partition: batch.partition, offset: Number(message.offset), message });
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
