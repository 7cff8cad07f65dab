// Produce many records without exceeding the broker's record-batch size limit (message.max.bytes, 1 MiB).
import type { Message, Producer } from 'kafkajs';

const MAX_CHUNK_BYTES = 512 * 1024;

function size(m: Message): number {
  const v = m.value;
  const k = m.key;
  return 64 + (v ? (typeof v === 'string' ? Buffer.byteLength(v) : v.length) : 0) + (k ? (typeof k === 'string' ? Buffer.byteLength(k) : k.length) : 0);
}

/** Send in order, in chunks under the limit; resolves when every chunk is acknowledged by all in-sync replicas. */
export async function sendChunked(producer: Producer, topic: string, messages: Message[]): Promise<void> {
  let start = 0;
  while (start < messages.length) {
    let end = start;
    let bytes = 0;
    while (end < messages.length && (end === start || bytes + size(messages[end]!) <= MAX_CHUNK_BYTES)) bytes += size(messages[end++]!);
    await producer.send({ topic, acks: -1, messages: messages.slice(start, end) });
    start = end;
  }
}
