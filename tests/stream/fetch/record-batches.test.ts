// Reading record batches in place, against batches encoded by kafkajs's own RecordBatch encoder (its
// producer's code path): values, null values, offsets, keys and headers skipped, gzip, a partial trailing
// batch, [from, to) windows, keys and timestamps (create and log append time), control batches and aborted transactions, unsupported codecs and formats.
import { createRequire } from 'node:module';
import t from 'tap';
import { KafkaReadError } from '../../../src/errors.js';
import { readRecordBatches, type BatchesRead } from '../../../src/stream/fetch/record-batches.js';
import { Prng } from '../../../src/ingest/prng.js';

const require = createRequire(import.meta.url);
type Encoder = { buffer: Buffer };
interface RecordInput {
  offsetDelta: number;
  timestampDelta?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer>;
}
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: object) => Promise<Encoder> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: RecordInput) => Encoder;
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

interface Expected {
  offset: number;
  value: Buffer | null;
}

async function batch(
  base: number,
  records: RecordInput[],
  opts: { compression?: number; producerId?: number; transactional?: boolean; firstTimestamp?: number } = {},
): Promise<Buffer> {
  const enc = await RecordBatch({
    compression: opts.compression ?? 0,
    ...(opts.firstTimestamp === undefined ? {} : { firstTimestamp: opts.firstTimestamp, maxTimestamp: opts.firstTimestamp + 1000 }),
    firstOffset: Long.fromNumber(base),
    lastOffsetDelta: records[records.length - 1]!.offsetDelta,
    producerId: Long.fromNumber(opts.producerId ?? -1),
    transactional: opts.transactional ?? false,
    records: records.map((r) => Record(r)),
  });
  return enc.buffer;
}

/** A control batch (one record whose key is version 0, type 0 = abort / 1 = commit): an encoded batch with the control bit set. */
async function marker(offset: number, producerId: number, abort: boolean): Promise<Buffer> {
  const key = Buffer.from([0, 0, 0, abort ? 0 : 1]);
  const b = await batch(offset, [{ offsetDelta: 0, key, value: Buffer.from([0, 0, 0, 0, 0, 0]) }], { producerId, transactional: true });
  b.writeInt16BE(b.readInt16BE(21) | 0x20, 21);
  return b;
}

function values(read: BatchesRead): Expected[] {
  const out: Expected[] = [];
  for (const run of read.runs)
    for (let i = 0; i < run.lengths.length; i++)
      out.push({
        offset: run.offsets[i]!,
        value: run.lengths[i]! < 0 ? null : Buffer.from(run.data.subarray(run.starts[i]!, run.starts[i]! + run.lengths[i]!)),
      });
  return out;
}

t.test('values, offsets and null values of plain and gzip batches, keys and headers skipped', async (t) => {
  const prng = new Prng(11);
  const rand = () => prng.next();
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const parts: Buffer[] = [];
  const bases: number[] = [];
  const expected: Expected[] = [];
  let offset = 100;
  for (let b = 0; b < 30; b++) {
    const count = 1 + Math.floor(rand() * 40);
    const records: RecordInput[] = [];
    let delta = 0;
    for (let i = 0; i < count; i++) {
      const value = rand() < 0.1 ? null : bytes(Math.floor(rand() * 300));
      const key = rand() < 0.5 ? null : bytes(1 + Math.floor(rand() * 20));
      const headers: Record<string, Buffer> = rand() < 0.3 ? { h: bytes(5), 'x-long': bytes(200) } : {};
      records.push({ offsetDelta: delta, timestampDelta: Math.floor(rand() * 1e12), key, value, headers });
      expected.push({ offset: offset + delta, value });
      delta += 1 + (rand() < 0.1 ? 2 : 0); // gaps, as compaction leaves
    }
    parts.push(await batch(offset, records, { compression: b % 3 === 2 ? 1 : 0 }));
    bases.push(offset);
    offset += delta;
  }
  const whole = Buffer.concat(parts);
  const read = readRecordBatches(whole, 0, Infinity, [], true);
  t.same(values(read), expected, `all ${expected.length} values with their offsets, in order`);
  t.equal(read.next, offset, 'next: the offset after the last batch');
  t.ok(read.runs.length > 1, 'gzip batches make runs of their own');

  // A fetch response may end inside a batch: that one is left for the next fetch.
  const cut = whole.subarray(0, whole.length - parts[parts.length - 1]!.length + 30);
  const partial = readRecordBatches(cut, 0, Infinity, [], true);
  const lastBase = bases[bases.length - 1]!;
  t.equal(partial.next, lastBase, 'next: the partial batch’s first offset');
  t.same(
    values(partial),
    expected.filter((e) => e.offset < lastBase),
    'a partial trailing batch is not read',
  );

  // Windows: only offsets in [from, to).
  for (const [from, to] of [
    [expected[5]!.offset, expected[200]!.offset],
    [expected[3]!.offset + 1, expected[3]!.offset + 2],
    [0, expected[0]!.offset],
  ] as const) {
    t.same(
      values(readRecordBatches(whole, from, to, [], true)),
      expected.filter((e) => e.offset >= from && e.offset < to),
      `[${from}, ${to})`,
    );
  }
});

t.test('control batches are skipped; read_committed leaves out aborted transactions up to their markers', async (t) => {
  const v = (s: string) => Buffer.from(s);
  const rec = (d: number, s: string): RecordInput => ({ offsetDelta: d, key: null, value: v(s) });
  const parts = [
    await batch(0, [rec(0, 'plain-0'), rec(1, 'plain-1')]),
    await batch(2, [rec(0, 'p7-aborted-2'), rec(1, 'p7-aborted-3')], { producerId: 7, transactional: true }),
    await batch(4, [rec(0, 'p8-committed-4')], { producerId: 8, transactional: true }),
    await batch(5, [rec(0, 'p7-aborted-5')], { producerId: 7, transactional: true }),
    await marker(6, 7, true),
    await marker(7, 8, false),
    await batch(8, [rec(0, 'p7-committed-8')], { producerId: 7, transactional: true }),
    await batch(9, [rec(0, 'idempotent-9')], { producerId: 9 }),
  ];
  const whole = Buffer.concat(parts);
  const aborted = [{ producerId: 7n, firstOffset: 2 }];
  const text = (r: BatchesRead) => values(r).map((e) => `${e.offset}:${e.value!.toString()}`);
  t.same(
    text(readRecordBatches(whole, 0, 100, aborted, true)),
    ['0:plain-0', '1:plain-1', '4:p8-committed-4', '8:p7-committed-8', '9:idempotent-9'],
    'read_committed',
  );
  t.same(
    text(readRecordBatches(whole, 0, 100, aborted, false)),
    ['0:plain-0', '1:plain-1', '2:p7-aborted-2', '3:p7-aborted-3', '4:p8-committed-4', '5:p7-aborted-5', '8:p7-committed-8', '9:idempotent-9'],
    'read_uncommitted: everything but the markers',
  );
  t.equal(readRecordBatches(whole, 0, 100, aborted, true).next, 10, 'markers advance the next offset');
  t.same(
    text(readRecordBatches(Buffer.concat(parts.slice(3)), 5, 100, aborted, true)),
    ['8:p7-committed-8', '9:idempotent-9'],
    'an aborted transaction that began before the fetch offset',
  );
});

t.test('what cannot be read is a KafkaReadError naming it', async (t) => {
  const b = await batch(40, [{ offsetDelta: 0, key: null, value: Buffer.from('x') }]);
  const snappy = Buffer.from(b);
  snappy.writeInt16BE(2, 21);
  t.throws(() => readRecordBatches(snappy, 0, 100, [], true), {
    code: 'TE_KAFKA_READ',
    message: /offset 40: snappy compression is not supported/,
    fatal: true,
  });
  const old = Buffer.from(b);
  old[16] = 1;
  t.throws(() => readRecordBatches(old, 0, 100, [], true), { code: 'TE_KAFKA_READ', message: /message format v1/, fatal: true });
  const overrun = Buffer.from(b);
  overrun[61] = 0x7e; // first record's length: 63 bytes, past the batch's end
  t.throws(() => readRecordBatches(overrun, 0, 100, [], true), KafkaReadError);
});

t.test("keys and timestamps: the record's own, or the batch's max under log append time", async (t) => {
  const records: RecordInput[] = [
    { offsetDelta: 0, timestampDelta: 5, key: Buffer.from('BTC'), value: Buffer.from('a') },
    { offsetDelta: 1, timestampDelta: 7, key: null, value: null },
    { offsetDelta: 2, timestampDelta: 9, key: Buffer.from(''), value: Buffer.from('c') },
  ];
  const first = 1_700_000_000_000;
  for (const compression of [0, 1]) {
    const b = await batch(40, records, { compression, firstTimestamp: first });
    const read = (buf: Buffer) => {
      const run = readRecordBatches(buf, 0, Infinity, [], true).runs[0]!;
      return Array.from(run.offsets, (_, i) => ({
        key: run.keyLengths[i]! < 0 ? null : run.data.subarray(run.keyStarts[i]!, run.keyStarts[i]! + run.keyLengths[i]!).toString(),
        timestamp: run.timestamps[i]!,
      }));
    };
    t.same(
      read(b),
      [
        { key: 'BTC', timestamp: first + 5 },
        { key: null, timestamp: first + 7 },
        { key: '', timestamp: first + 9 },
      ],
      `create time (compression ${compression})`,
    );
    b.writeInt16BE(b.readInt16BE(21) | 0x08, 21);
    t.same(
      read(b).map((r) => r.timestamp),
      [first + 1000, first + 1000, first + 1000],
      `log append time: the batch's max timestamp (compression ${compression})`,
    );
  }
});
