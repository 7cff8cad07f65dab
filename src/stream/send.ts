// Produce many records without exceeding the broker's record-batch size limit (message.max.bytes, 1 MiB).
import type { Message, Producer } from 'kafkajs';
import { backoffMs, sleep } from '../backoff.js';

const MAX_CHUNK_BYTES = 512 * 1024;

/** What sends: a producer, or one of its transactions (whose records are visible only once it commits). */
export type Sender = Pick<Producer, 'send'>;

function size(m: Message): number {
  const v = m.value;
  const k = m.key;
  return 64 + (v ? (typeof v === 'string' ? Buffer.byteLength(v) : v.length) : 0) + (k ? (typeof k === 'string' ? Buffer.byteLength(k) : k.length) : 0);
}

/** Send in order, in chunks under the limit; resolves when every chunk is acknowledged by all in-sync replicas. */
export async function sendChunked(producer: Sender, topic: string, messages: Message[]): Promise<void> {
  let start = 0;
  while (start < messages.length) {
    let end = start;
    let bytes = 0;
    while (end < messages.length && (end === start || bytes + size(messages[end]!) <= MAX_CHUNK_BYTES)) bytes += size(messages[end++]!);
    await producer.send({ topic, acks: -1, messages: messages.slice(start, end) });
    start = end;
  }
}

export interface PatientOptions {
  /** Gives up (rethrows the last error) once aborted. */
  signal?: AbortSignal;
  /** Longest wait between two attempts. */
  maxDelayMs: number;
  /** Called on the first failure of a run of failures, and on the success that ends it. */
  onDown?(err: unknown): void;
  onUp?(): void;
}

/**
 * sendChunked that waits out a broker outage: a chunk that fails is sent again, with backoff, until it is
 * acknowledged (chunks already acknowledged are not sent again). Only an abort gives up.
 */
export async function sendPatiently(producer: Producer, topic: string, messages: Message[], opts: PatientOptions): Promise<void> {
  let start = 0;
  let failing = false;
  while (start < messages.length) {
    let end = start;
    let bytes = 0;
    while (end < messages.length && (end === start || bytes + size(messages[end]!) <= MAX_CHUNK_BYTES)) bytes += size(messages[end++]!);
    for (let attempt = 0; ; attempt++) {
      try {
        await producer.send({ topic, acks: -1, messages: messages.slice(start, end) });
        if (failing) opts.onUp?.();
        failing = false;
        break;
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (!failing) opts.onDown?.(err);
        failing = true;
        await sleep(backoffMs(attempt, opts.maxDelayMs));
      }
    }
    start = end;
  }
}
