// Dead letters: whole when they fit, reduced (reason, source, size, SHA-256, first KiB) when they would not.
import { createHash } from 'node:crypto';
import t from 'tap';
import { DLQ_HEADERS, letterMessage, MAX_LETTER_BYTES, REDUCED_PREFIX_BYTES, type DeadLetter } from '../../src/stream/dlq.js';

const letter = (value: Buffer, key: string | null = 'BTC-USD'): DeadLetter => ({
  key,
  value,
  code: 'TE_DECODE',
  reason: 'not in the wire format',
  source: { topic: 'ticks', partition: 2, offset: '41' },
});

t.test('a letter that fits goes whole', async (t) => {
  const v = Buffer.alloc(MAX_LETTER_BYTES - 7, 1);
  const m = letterMessage(letter(v));
  t.equal(m.value, v, 'the original bytes');
  t.same(m.headers, { [DLQ_HEADERS.code]: 'TE_DECODE', [DLQ_HEADERS.reason]: 'not in the wire format', [DLQ_HEADERS.source]: 'ticks/2@41' });
});

t.test('a letter that would not fit goes reduced', async (t) => {
  const v = Buffer.alloc(1_000_000);
  for (let i = 0; i < v.length; i++) v[i] = (i * 7) & 0xff;
  const m = letterMessage(letter(v));
  t.same(m.value, v.subarray(0, REDUCED_PREFIX_BYTES), 'the first KiB');
  const h = m.headers as Record<string, string>;
  t.equal(h[DLQ_HEADERS.truncated], 'true');
  t.equal(h[DLQ_HEADERS.originalBytes], '1000000');
  t.equal(h[DLQ_HEADERS.sha256], createHash('sha256').update(v).digest('hex'));
  t.equal(h[DLQ_HEADERS.source], 'ticks/2@41', 'where it came from');
  t.equal(h[DLQ_HEADERS.code], 'TE_DECODE');
  t.ok(m.key!.length <= REDUCED_PREFIX_BYTES);
  const forced = letterMessage(letter(Buffer.from('small')), true);
  t.equal((forced.headers as Record<string, string>)[DLQ_HEADERS.originalBytes], '5', 'reduction on demand (the broker refused the whole one)');
  const longReason = letterMessage({ ...letter(Buffer.from('x')), reason: 'r'.repeat(10_000) });
  t.ok(String((longReason.headers as Record<string, string>)[DLQ_HEADERS.reason]).length <= 1025, 'a long reason is cut');
});
