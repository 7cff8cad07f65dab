// kafkajs 2.2.4 spent about 10 µs encoding each produced record (a zero-filled 512-byte encoder per record and per
// header, a Buffer per varint, Long objects for the timestamp delta, a spread copy of every message, a byte-at-a-time
// CRC-32C): the bound of every producer in the engine. patches/kafkajs+2.2.4.patch writes the common record straight
// into a buffer of its exact size, the varints in place, the CRC eight bytes a step; it decodes records with numbers
// for offsets and timestamps, and hashes keys for the default partitioner in 32-bit arithmetic instead of BigInt
// objects. These tests hold the patched code to independent versions written from the Kafka protocol (BigInt varints,
// a bitwise CRC-32C, a BigInt murmur2, Kafka's own murmur2 vectors), and decode whole produce requests back with
// kafkajs' own decoder. (The patched and unpatched copies gave byte-identical requests for 2,593 random ones,
// identical decoded batches for 2,000 and identical hashes for 100,010 keys when this was written; the broker checks
// every batch's CRC in the integration tests.)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import t from 'tap';

const require = createRequire(import.meta.url);
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
type EncoderLike = { buffer: Buffer; size(): number };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (a: object) => EncoderLike;
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => EncoderLike & {
  writeVarInt(n: number): EncoderLike;
  writeVarLong(n: number | object): EncoderLike;
};
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => {
  readInt16(): number;
  readInt32(): number;
  readString(): string;
  readBytes(n: number): Buffer;
};
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: object) => Promise<{
  firstTimestamp: string;
  records: { key: Buffer | null; value: Buffer | null; timestamp: string; offset: string; headers: Record<string, Buffer | Buffer[]> }[];
}>;
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (a: object) => { encode(): Promise<EncoderLike> };

t.test('the installed kafkajs carries the patch in every file it touches (npm install applied it)', async (t) => {
  const files = [
    'protocol/encoder.js',
    'protocol/request.js',
    'protocol/recordBatch/v0/index.js',
    'protocol/recordBatch/record/v0/index.js',
    'protocol/recordBatch/record/v0/decoder.js',
    'protocol/recordBatch/crc32C/crc32C.js',
    'producer/partitioners/default/murmur2.js',
    'consumer/batch.js',
  ];
  for (const f of files) {
    const path = require.resolve(`kafkajs/src/${f}`);
    t.match(readFileSync(path, 'utf8'), /tick-engine patch/, path);
  }
});

// --- independent references -------------------------------------------------------------------------------------

/** CRC-32C (Castagnoli), bit by bit, reflected polynomial 0x82F63B78. */
function crc32cBitwise(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A signed integer as Kafka's zigzag varint (LEB128 of the zigzag value). */
function varint(n: bigint): Buffer {
  let u = n >= 0n ? 2n * n : -2n * n - 1n;
  const out: number[] = [];
  while (u >= 128n) {
    out.push(Number(u % 128n) | 128);
    u /= 128n;
  }
  out.push(Number(u));
  return Buffer.from(out);
}

const asBytes = (v: unknown): Buffer | null => (v == null ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));
const field = (b: Buffer | null) => (b === null ? varint(-1n) : Buffer.concat([varint(BigInt(b.length)), b]));

interface Rec {
  offsetDelta: number;
  timestampDelta: number;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
}

/** A record (Kafka record format v2) as the protocol defines it. */
function referenceRecord(r: Rec): Buffer {
  const headers = Object.entries(r.headers ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v] as const]));
  const body = Buffer.concat([
    Buffer.from([0]),
    varint(BigInt(r.timestampDelta)),
    varint(BigInt(r.offsetDelta)),
    field(asBytes(r.key)),
    field(asBytes(r.value)),
    varint(BigInt(headers.length)),
    ...headers.flatMap(([k, v]) => [field(Buffer.from(k, 'utf8')), field(asBytes(v))]),
  ]);
  return Buffer.concat([varint(BigInt(body.length)), body]);
}

// --- random inputs ------------------------------------------------------------------------------------------------

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const text = () => pick(['', 'a', 'BTCUSDT', 'é✓漢字\u{1F600}', 'x'.repeat(Math.floor(rnd() * 300)), 'y'.repeat(20_000)]);
const bytes = () => pick([null, undefined, text(), Buffer.from(text()), randomBytes(Math.floor(rnd() * 200)), Buffer.alloc(0), randomBytes(70_000)]);
const headers = () =>
  pick<Record<string, unknown> | undefined>([
    undefined,
    {},
    { published: Buffer.from('1764777000123') },
    { a: text(), é: 'ü' },
    { m: [text(), Buffer.from('z')], n: [] },
  ]);
const delta = () => pick([0, 1, -1, 63, 64, -64, -65, 8191, 8192, 1_000_000, -1_000_000, 2 ** 31, -(2 ** 31) - 1, 2 ** 52 - 1, -(2 ** 52) + 1, 2 ** 40 + 3]);

t.test('CRC-32C (eight bytes a step) equals the bitwise definition', async (t) => {
  t.equal(crc32C(Buffer.from('123456789')), 0xe3069283, 'the standard check value');
  let bad = 0;
  for (let n = 0; n < 600; n++) {
    const b = randomBytes(n < 300 ? n : Math.floor(rnd() * 100_000));
    if (crc32C(b) !== crc32cBitwise(b)) bad++;
  }
  t.equal(bad, 0, '600 random buffers of 0 to 100,000 bytes, every length mod 8');
  const big = Buffer.alloc(4096, 0xff);
  t.equal(crc32C(big.subarray(3, 4000)), crc32cBitwise(big.subarray(3, 4000)), 'a view at an odd offset');
});

t.test('a record is encoded as the protocol defines it', async (t) => {
  let bad = 0;
  let n = 0;
  for (; n < 2000; n++) {
    const r: Rec = { offsetDelta: pick([0, 1, 63, 64, 8191, 8192, 100_000]), timestampDelta: delta(), key: bytes(), value: bytes(), headers: headers() };
    const got = Record(r).buffer;
    const want = referenceRecord(r);
    if (!got.equals(want)) {
      bad++;
      if (bad < 4)
        t.fail(`record ${n}`, { got: got.subarray(0, 40).toString('hex'), want: want.subarray(0, 40).toString('hex'), r: JSON.stringify(r).slice(0, 300) });
    }
  }
  t.equal(
    bad,
    0,
    `${n} random records: lengths across varint sizes, null and empty keys and values, strings and Buffers, headers (repeated keys included), negative and 2^52-sized deltas`,
  );
  // Outside the fast path (a Long delta, a delta past ±2^52): the generic encoder, same bytes.
  const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): object };
  const r = { offsetDelta: 3, key: 'k', value: Buffer.from('v') };
  t.same(Record({ ...r, timestampDelta: Long.fromNumber(-5) }).buffer, referenceRecord({ ...r, timestampDelta: -5 }), 'a Long delta');
  t.same(Record({ ...r, timestampDelta: 2 ** 53 - 1 }).buffer, referenceRecord({ ...r, timestampDelta: 2 ** 53 - 1 }), 'a delta past 2^52');
  t.throws(() => Record({ ...r, timestampDelta: 0, headers: { h: null } }), 'a null header value still throws, as before');
});

t.test('varints written in place equal the protocol', async (t) => {
  for (const n of [0, 1, -1, 63, 64, -65, 2 ** 20, 2 ** 30 - 1, -(2 ** 31)]) t.same(new Encoder().writeVarInt(n).buffer, varint(BigInt(n)), `varint ${n}`);
  for (const n of [0, -1, 2 ** 35, -(2 ** 40) - 7, 2 ** 52 - 1, -(2 ** 52) + 1])
    t.same(new Encoder().writeVarLong(n).buffer, varint(BigInt(n)), `varlong ${n}`);
});

t.test('a produce request decodes back to its messages, its batches carrying the right CRC', async (t) => {
  const now = 1764777000000;
  const partitions = [0, 1, 2].map((partition) => ({
    partition,
    firstSequence: 10 * partition,
    messages: Array.from({ length: partition === 1 ? 3000 : 7 }, (_, i) => ({
      key: pick(['BTCUSDT', 'ETH-USD', null, '']),
      value: i % 9 === 0 ? null : randomBytes(1 + Math.floor(rnd() * 120)),
      timestamp: pick([String(now + i), now - i, undefined]),
      headers: i % 5 === 0 ? { published: Buffer.from(String(now)) } : undefined,
    })),
  }));
  const encoded = (await produceRequest({ acks: -1, timeout: 30000, topicData: [{ topic: 'ticks', partitions }] }).encode()).buffer;
  const d = new Decoder(encoded);
  t.equal(d.readInt16(), -1, 'no transactional id');
  t.equal(d.readInt16(), -1, 'acks');
  t.equal(d.readInt32(), 30000, 'timeout');
  t.equal(d.readInt32(), 1, 'one topic');
  t.equal(d.readString(), 'ticks');
  t.equal(d.readInt32(), 3, 'three partitions');
  for (const p of partitions) {
    t.equal(d.readInt32(), p.partition, `partition ${p.partition}`);
    const batch = d.readBytes(d.readInt32());
    t.equal(batch.readUInt32BE(17), crc32cBitwise(batch.subarray(21)), `partition ${p.partition}: CRC over the batch after it`);
    const decoded = await decodeBatch(new Decoder(batch));
    t.equal(decoded.records.length, p.messages.length);
    let mismatches = 0;
    decoded.records.forEach((rec, i) => {
      const m = p.messages[i]!;
      const sameKey = (rec.key === null ? null : rec.key.toString()) === m.key;
      const sameValue = m.value === null ? rec.value === null : rec.value !== null && rec.value.equals(m.value);
      const sameTime = m.timestamp === undefined || rec.timestamp === String(m.timestamp);
      const sameHeaders = m.headers ? String(rec.headers.published) === String(now) : Object.keys(rec.headers).length === 0;
      if (!(sameKey && sameValue && sameTime && sameHeaders && rec.offset === String(i))) mismatches++;
    });
    t.equal(mismatches, 0, `partition ${p.partition}: every record's key, value, timestamp, headers and offset`);
  }
});

t.test('records decode to the same offsets, timestamps and headers whether the numbers fit a double or not', async (t) => {
  const now = 1764777000000;
  const messages = Array.from({ length: 300 }, (_, i) => ({
    key: `k${i}`,
    value: Buffer.from([i & 255]),
    timestamp: String(now + i * 1000),
    headers: i % 3 === 0 ? { a: ['1', '2'], __proto__x: 'p', toString: 'q' } : i % 3 === 1 ? { published: String(now) } : undefined,
  }));
  // a delta of about 2^50: 8 bytes of varint, past the decoder's 7-byte fast path (read by Long)
  messages[7]!.timestamp = String(now + 2 ** 50);
  const encoded = (await produceRequest({ acks: -1, timeout: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }] }).encode()).buffer;
  const batch = Buffer.from(encoded.subarray(27)); // after the request's fields up to the batch's size
  for (const first of [0n, 2n ** 53n - 100n, 2n ** 62n + 5n]) {
    batch.writeBigInt64BE(first, 0);
    const { records } = await decodeBatch(new Decoder(batch));
    const offsets = records.map((r) => r.offset);
    t.same(
      offsets,
      messages.map((_, i) => String(first + BigInt(i))),
      `first offset ${first}: every offset exact`,
    );
    t.same(
      records.map((r) => r.timestamp),
      messages.map((m) => m.timestamp),
      `first offset ${first}: every timestamp exact`,
    );
    const h = records[0]!.headers as unknown as Record<string, unknown>;
    t.same(h.a!.toString(), ['1', '2'].toString(), 'a repeated header key: an array of its values');
    t.equal(String(h.__proto__x), 'p');
    t.ok(Array.isArray(h.toString), "a header key shadowing an inherited name behaves as kafkajs' reduce made it (an array)");
    t.equal(String(records[1]!.headers.published), String(now));
    t.same(records[2]!.headers, {}, 'no headers: an empty object');
  }
});

t.test("the default partitioner's murmur2 in 32-bit arithmetic equals Kafka's", async (t) => {
  const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: unknown) => number;
  // Apache Kafka's own test vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2)
  const vectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of vectors) t.equal(murmur2(key), hash, key);
  // An independent version in BigInt, reduced mod 2^32 after every step.
  const u32 = (x: bigint) => BigInt.asUintN(32, x);
  const reference = (data: Buffer): number => {
    const m = 0x5bd1e995n;
    let h = u32(0x9747b28cn ^ BigInt(data.length));
    const n4 = data.length - (data.length % 4);
    for (let i = 0; i < n4; i += 4) {
      let k = BigInt(data.readUInt32LE(i));
      k = u32(k * m);
      k ^= k >> 24n;
      k = u32(k * m);
      h = u32(h * m) ^ k;
    }
    const rest = data.length % 4;
    if (rest >= 3) h ^= BigInt(data[n4 + 2]!) << 16n;
    if (rest >= 2) h ^= BigInt(data[n4 + 1]!) << 8n;
    if (rest >= 1) h = u32((h ^ BigInt(data[n4]!)) * m);
    h ^= h >> 13n;
    h = u32(h * m);
    h ^= h >> 15n;
    return Number(BigInt.asIntN(32, h));
  };
  let bad = 0;
  for (let i = 0; i < 3000; i++) {
    const key = i % 2 ? randomBytes(i % 45) : text().slice(0, i % 60);
    if (murmur2(key) !== reference(Buffer.isBuffer(key) ? key : Buffer.from(key))) bad++;
  }
  t.equal(bad, 0, '3,000 random keys (Buffers and strings, every length mod 4)');
});

t.test('a fetched batch keeps the messages at or past the fetched offset, compared exactly', async (t) => {
  const Batch = require('kafkajs/src/consumer/batch.js') as new (
    topic: string,
    fetchedOffset: string,
    data: { partition: number; highWatermark: string; messages: { offset: string; key: null }[]; abortedTransactions: [] },
  ) => { messages: { offset: string }[] };
  const offsets = [
    '0',
    '4',
    '5',
    '6',
    '999999',
    '1000000',
    '1000001',
    '123456789012344',
    '123456789012346',
    '9007199254740992',
    '9007199254740993',
    '9007199254740994',
  ];
  for (const fetched of ['0', '5', '1000000', '123456789012345', '9007199254740993']) {
    const messages = offsets.map((offset) => ({ offset, key: null }));
    const kept = new Batch('t', fetched, { partition: 0, highWatermark: '0', messages, abortedTransactions: [] }).messages.map((m) => m.offset);
    t.same(
      kept,
      offsets.filter((o) => BigInt(o) >= BigInt(fetched)),
      `fetched ${fetched} (past 2^53 too: compared as BigInt)`,
    );
  }
});
