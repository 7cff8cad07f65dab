// Dead-letter publishing: the original bytes, key and source position, with the reason in headers.
import type { Producer } from 'kafkajs';
import type { RejectCode } from '../errors.js';
import { deadLetters } from '../metrics.js';
import { sendChunked } from './send.js';

export interface DeadLetter {
  key: Buffer | string | null;
  value: Buffer | null;
  code: RejectCode;
  reason: string;
  source: { topic: string; partition: number; offset: string } | { producer: string };
}

export const DLQ_HEADERS = { code: 'te-error-code', reason: 'te-error-reason', source: 'te-source' } as const;

export async function sendDeadLetters(producer: Producer, topic: string, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await sendChunked(
    producer,
    topic,
    letters.map((l) => ({
      key: l.key,
      value: l.value,
      headers: {
        [DLQ_HEADERS.code]: l.code,
        [DLQ_HEADERS.reason]: l.reason,
        [DLQ_HEADERS.source]: 'producer' in l.source ? `producer:${l.source.producer}` : `${l.source.topic}/${l.source.partition}@${l.source.offset}`,
      },
    })),
  );
  for (const l of letters) deadLetters.inc({ code: l.code });
}
