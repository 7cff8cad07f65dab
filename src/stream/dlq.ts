// Dead-letter publishing: the original bytes, key and source position, with the reason in headers.
//
// A record can be valid for its own topic and still too large to dead-letter (the headers add to it, and the
// dead-letter topic may take less). Such a record is dead-lettered in a reduced form — the reason, the source
// position, the original size, a SHA-256 of the bytes and their first KiB — so a poison record never stops
// consumption: an aggregator that cannot dead-letter a record cannot commit past it either.
import { createHash } from 'node:crypto';
import type { Message } from 'kafkajs';
import type { RejectCode } from '../errors.js';
import { deadLetters } from '../metrics.js';
import { sendChunked, type Sender } from './send.js';

export interface DeadLetter {
  key: Buffer | string | null;
  value: Buffer | null;
  code: RejectCode;
  reason: string;
  source: { topic: string; partition: number; offset: string } | { producer: string };
}

export const DLQ_HEADERS = {
  code: 'te-error-code',
  reason: 'te-error-reason',
  source: 'te-source',
  /** Reduced form only: 'true', the original value's size in bytes, and its SHA-256 (hex). */
  truncated: 'te-truncated',
  originalBytes: 'te-original-bytes',
  sha256: 'te-original-sha256',
} as const;

/** Letters whose key and value together are larger than this go out reduced (well under the broker's 1 MiB default). */
export const MAX_LETTER_BYTES = 256 * 1024;
/** How much of a reduced letter's value (and key) is kept. */
export const REDUCED_PREFIX_BYTES = 1024;
/** Reasons are ours, but may quote input: never let one make a letter large. */
const MAX_REASON_CHARS = 1024;

const bytes = (x: Buffer | string | null): number => (x === null ? 0 : typeof x === 'string' ? Buffer.byteLength(x) : x.length);
const asBuffer = (x: Buffer | string): Buffer => (typeof x === 'string' ? Buffer.from(x) : x);

function sourceOf(l: DeadLetter): string {
  return 'producer' in l.source ? `producer:${l.source.producer}` : `${l.source.topic}/${l.source.partition}@${l.source.offset}`;
}

/** The dead-letter record of `l`: whole, or reduced when `reduce` (or when it is too large to send whole). */
export function letterMessage(l: DeadLetter, reduce = false): Message {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.code]: l.code,
    [DLQ_HEADERS.reason]: l.reason.length > MAX_REASON_CHARS ? `${l.reason.slice(0, MAX_REASON_CHARS)}…` : l.reason,
    [DLQ_HEADERS.source]: sourceOf(l),
  };
  if (!reduce && bytes(l.key) + bytes(l.value) <= MAX_LETTER_BYTES) return { key: l.key, value: l.value, headers };
  const value = l.value ?? Buffer.alloc(0);
  headers[DLQ_HEADERS.truncated] = 'true';
  headers[DLQ_HEADERS.originalBytes] = String(value.length);
  headers[DLQ_HEADERS.sha256] = createHash('sha256').update(value).digest('hex');
  const key = l.key === null ? null : asBuffer(l.key).subarray(0, REDUCED_PREFIX_BYTES);
  return { key, value: l.value === null ? null : value.subarray(0, REDUCED_PREFIX_BYTES), headers };
}

/** The broker refused a record or batch for its size (kafkajs wraps the protocol error; look through the causes). */
function tooLarge(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined; e; e = (e.cause ?? e.originalError) as typeof e) {
    if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE' || e.type === 'INVALID_RECORD') return true;
  }
  return false;
}

export async function sendDeadLetters(producer: Sender, topic: string, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  try {
    await sendChunked(
      producer,
      topic,
      letters.map((l) => letterMessage(l)),
    );
  } catch (err) {
    // The dead-letter topic takes less than we thought: send every letter reduced (chunks that went through
    // already are sent again, reduced: the dead-letter topic is at-least-once).
    if (!tooLarge(err)) throw err;
    await sendChunked(
      producer,
      topic,
      letters.map((l) => letterMessage(l, true)),
    );
  }
  for (const l of letters) deadLetters.inc({ code: l.code });
}
