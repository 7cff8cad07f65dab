// The hand-written tick decoder against avsc (serde.decode): same accept/reject decision on every input,
// same Tick when accepted. Random ticks, edge values, hand-built bodies, truncations and byte flips, in both versions
// of the tick schema (id 1: version 1 bodies, read with null for the fields version 2 added; id 7: version 2).
import t, { type Test } from 'tap';
import avro from 'avsc';
import { DecodeError } from '../../src/errors.js';
import { Prng } from '../../src/ingest/prng.js';
import type { Tick } from '../../src/contracts/tick.js';
import { schema } from '../../src/stream/schemas.js';
import { decode, encode } from '../../src/stream/serde.js';
import { emptyTick } from '../../src/contracts/tick-cursor.js';
import { decodeTick, TickDecoder } from '../../src/stream/tick-decoder.js';
import { SAMPLE_TICK } from '../helpers/sample-tick.js';
import { EDGE_DOUBLES, EDGE_LONGS, randomString, randomTick } from '../helpers/random-ticks.js';

const s = schema('tick');
const s1 = schema('tick', { version: 1 });
const longType = avro.Type.forSchema('long');
const stringType = avro.Type.forSchema('string');
const doubleType = avro.Type.forSchema('double');

type Outcome = { ok: true; tick: Tick } | { ok: false; reason: string };

function viaAvsc(buf: Buffer | null): Outcome {
  try {
    return { ok: true, tick: { ...decode<Tick>(s, buf) } };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return { ok: false, reason: err.message };
  }
}

function viaDecoder(dec: TickDecoder, buf: Buffer | null): Outcome {
  try {
    return { ok: true, tick: dec.decode(buf) };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return { ok: false, reason: err.message };
  }
}

/** Field by field with Object.is (NaN equals NaN, -0 differs from 0); undefined when equal. */
function difference(a: Tick, b: Tick): string | undefined {
  const keys = Object.keys(a);
  if (keys.join() !== Object.keys(b).join()) return `fields ${keys.join()} vs ${Object.keys(b).join()}`;
  for (const k of keys as (keyof Tick)[]) {
    if (k === 'sequence') {
      const [x, y] = [JSON.stringify(a[k]), JSON.stringify(b[k])];
      if (x !== y) return `sequence: ${x} vs ${y}`;
    } else if (!Object.is(a[k], b[k])) return `${k}: ${String(a[k])} vs ${String(b[k])}`;
  }
  return undefined;
}

/** Checks one input; returns a description of the disagreement, or undefined. */
function disagreement(dec: TickDecoder, buf: Buffer | null): string | undefined {
  const a = viaAvsc(buf);
  const b = viaDecoder(dec, buf);
  if (a.ok !== b.ok)
    return `avsc ${a.ok ? 'accepts' : `rejects (${a.reason})`}, decoder ${b.ok ? 'accepts' : `rejects (${b.reason})`}: ${buf?.toString('hex')}`;
  if (a.ok && b.ok) {
    const d = difference(a.tick, b.tick);
    if (d) return `${d}: ${buf?.toString('hex')}`;
  }
  return undefined;
}

/** Runs every input; one assertion for the lot (with the first few disagreements). */
function agreeOnAll(t: Test, dec: TickDecoder, inputs: Iterable<Buffer | null>, what: string): { accepted: number; rejected: number } {
  const bad: string[] = [];
  let accepted = 0;
  let rejected = 0;
  for (const buf of inputs) {
    const d = disagreement(dec, buf);
    if (d && bad.length < 5) bad.push(d);
    if (viaAvsc(buf).ok) accepted++;
    else rejected++;
  }
  t.same(bad, [], `${what}: decoder agrees with avsc (${accepted} accepted, ${rejected} rejected)`);
  return { accepted, rejected };
}

/** Hand-built bodies below are version 1 ones. */
const header = (id = s1.id) => {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(id, 1);
  return h;
};
const str = (x: string) => stringType.toBuffer(x);
const lng = (x: number) => longType.toBuffer(x);
const dbl = (x: number) => doubleType.toBuffer(x);
/** A wire-format record from raw body parts (each a Buffer or bytes). */
const record = (...parts: (Buffer | number[])[]) => Buffer.concat([header(), ...parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)))]);

const base: Tick = { ...SAMPLE_TICK, venueSymbol: null, sequence: null };
/** The body of `base` with some fields replaced by raw bytes. */
function body(over: Partial<Record<keyof Tick, Buffer | number[]>>): Buffer {
  const f = (k: keyof Tick, enc: () => Buffer) => over[k] ?? enc();
  return record(
    f('venue', () => str(base.venue)),
    f('symbol', () => str(base.symbol)),
    f('eventTime', () => lng(base.eventTime)),
    f('price', () => dbl(base.price)),
    f('size', () => dbl(base.size)),
    f('side', () => lng(1)),
    f('tradeId', () => str(base.tradeId)),
    f('ingestTime', () => lng(base.ingestTime)),
  );
}

/** `x` as a version 1 record (id 1): what an older writer sends. */
const asV1 = (x: Tick) => encode(s1, x);

t.test('random ticks decode to the same Tick as avsc', async (t) => {
  const rng = new Prng(20261123);
  // Far more distinct symbols than the interner has slots: collisions must never give a wrong string.
  const symbols = Array.from({ length: 10_000 }, (_, i) => (i % 7 === 0 ? randomString(rng, 30) : `SYM${i}`));
  const dec = new TickDecoder();
  const ticks = Array.from({ length: 50_000 }, () => randomTick(rng, symbols));
  const { rejected } = agreeOnAll(
    t,
    dec,
    ticks.map((x) => encode(s, x)),
    '50,000 random ticks',
  );
  t.equal(rejected, 0, 'every encodable tick decodes');
  t.ok(
    ticks.some((x) => x.sequence) && ticks.some((x) => x.sequence === null),
    'version 2 ticks with and without a sequence (and a venue symbol) are among them',
  );
  // Version 1 records (id 1): the same decision and values, null for the fields version 2 added.
  const v1 = agreeOnAll(t, dec, ticks.slice(0, 10_000).map(asV1), '10,000 random version 1 ticks');
  t.equal(v1.rejected, 0);
  const back = dec.decode(asV1(ticks[0]!));
  t.same([back.venueSymbol, back.sequence, back.tradeId], [null, null, ticks[0]!.tradeId], 'a version 1 record reads with null new fields');
  // decodeTick (the shared instance) too.
  t.same(difference(decodeTick(encode(s, base)), base), undefined, 'decodeTick gives the tick');
});

t.test('decodeInto reads only [start, end) of a larger buffer and reuses the output object', async (t) => {
  const rng = new Prng(3);
  const ticks = Array.from({ length: 200 }, () => randomTick(rng, ['A', 'B']));
  const parts = ticks.map((x) => encode(s, x));
  const all = Buffer.concat(parts);
  const dec = new TickDecoder();
  const out = emptyTick();
  let pos = 0;
  const bad: string[] = [];
  parts.forEach((p, i) => {
    const problem = dec.decodeInto(all, pos, pos + p.length, out);
    const d = problem ?? difference({ ...out }, { ...decode<Tick>(s, p) });
    if (d && bad.length < 3) bad.push(`record ${i}: ${d}`);
    // One byte short, with the next record's bytes right behind it: must still be truncated.
    if (i < parts.length - 1 && dec.decodeInto(all, pos, pos + p.length - 1, out) === null) bad.push(`record ${i} accepted one byte short`);
    pos += p.length;
  });
  t.same(bad, [], 'every record decodes in place; a short range is never completed by the bytes after it');
});

t.test('edge values: longs, doubles, empty and non-ASCII strings', async (t) => {
  const dec = new TickDecoder();
  const inputs: Buffer[] = [];
  for (const v of EDGE_LONGS) inputs.push(encode(s, { ...base, eventTime: v, ingestTime: -v }));
  for (const v of EDGE_DOUBLES) for (const w of EDGE_DOUBLES) inputs.push(encode(s, { ...base, price: v, size: w }));
  for (const x of [
    '',
    'a',
    'é',
    '日本語の銘柄',
    '😀',
    'x'.repeat(15),
    'x'.repeat(16),
    'x'.repeat(17),
    'y'.repeat(32),
    'y'.repeat(33),
    'z'.repeat(300),
    'ab\u0000cd',
  ]) {
    inputs.push(encode(s, { ...base, venue: x, symbol: x, tradeId: x }));
  }
  // Other NaN bit patterns than the canonical one: both read the bytes as they are.
  const nan = Buffer.from([1, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
  const negNan = Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0xff]);
  inputs.push(body({ price: nan, size: negNan }));
  const { rejected } = agreeOnAll(t, dec, inputs, 'edge values');
  t.equal(rejected, 0);
});

t.test('hand-built bodies: varints, enum indexes, string lengths, invalid UTF-8', async (t) => {
  const dec = new TickDecoder();
  const cases: Buffer[] = [
    // Non-canonical (over-long) varints: avsc accepts them.
    body({ side: [0x80, 0x00] }),
    body({ side: [0x82, 0x80, 0x80, 0x80, 0x00] }),
    body({ eventTime: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00] }),
    body({ venue: [0x86, 0x00, 0x41, 0x42, 0x43] }),
    // Longs past 2^53: rejected as avsc's long type rejects them, at and around the bound.
    body({ eventTime: lng(9007199254740990) }),
    body({ eventTime: [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f] }), // zigzag 2^54 - 2 → 2^53 - 1
    body({ eventTime: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f] }), // → -2^53
    body({ eventTime: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20] }), // 2^53
    body({ ingestTime: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] }), // 64-bit max magnitude
    body({ ingestTime: [...Array<number>(12).fill(0xff), 0x01] }), // longer than 64 bits
    body({ eventTime: [...Array<number>(160).fill(0x80), 0x01] }), // past double range: Infinity/NaN arithmetic
    body({ venue: [...Array<number>(160).fill(0x80), 0x01] }),
    body({ side: [...Array<number>(160).fill(0x80), 0x01] }),
    // Enum indexes.
    body({ side: lng(0) }),
    body({ side: lng(2) }),
    body({ side: lng(3) }),
    body({ side: lng(-1) }),
    body({ side: lng(2 ** 40) }),
    // String lengths.
    body({ symbol: lng(-1) }),
    body({ symbol: lng(-(2 ** 40)) }),
    body({ symbol: lng(2 ** 40) }),
    body({ tradeId: lng(200) }),
    body({ tradeId: [0x00] }),
    // Invalid UTF-8: decoded with replacement characters, like Buffer#toString.
    body({ symbol: [0x02, 0xff, 0xfe] }),
    body({ symbol: [0x04, 0x41, 0xc3, 0x28, 0x42] }),
    body({ tradeId: [0x06, 0xe2, 0x82, 0x41, 0x80, 0xed, 0xa0] }),
    body({ venue: [0x08, 0xf0, 0x9f, 0x98, 0x80] }),
    body({ venue: [0x06, 0xf0, 0x9f, 0x98] }),
  ];
  const { accepted, rejected } = agreeOnAll(t, dec, cases, 'hand-built bodies');
  t.ok(accepted >= 10 && rejected >= 10, 'both outcomes are exercised');
});

t.test('every truncation of several records is rejected by both', async (t) => {
  const rng = new Prng(9);
  const dec = new TickDecoder();
  const inputs: (Buffer | null)[] = [null, Buffer.alloc(0)];
  const records = [
    encode(s, base),
    asV1(base),
    ...Array.from({ length: 6 }, () => encode(s, randomTick(rng, ['AAPL', 'MSFT']))),
    ...Array.from({ length: 3 }, () => asV1(randomTick(rng, ['AAPL', 'MSFT']))),
  ];
  for (const r of records) for (let len = 0; len < r.length; len++) inputs.push(r.subarray(0, len));
  const { accepted } = agreeOnAll(t, dec, inputs, 'every prefix');
  t.equal(accepted, 0, 'no prefix is a record');
  // Extra bytes after a whole record.
  agreeOnAll(
    t,
    dec,
    records.map((r) => Buffer.concat([r, Buffer.from([0])])),
    'trailing bytes',
  );
});

t.test('random byte flips: same decision, same value when accepted', async (t) => {
  const rng = new Prng(77);
  const dec = new TickDecoder();
  const records = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? asV1 : (x: Tick) => encode(s, x))(randomTick(rng, ['AAPL', 'MSFT', 'ÉTÉ'])));
  function* flipped(): Generator<Buffer> {
    for (let k = 0; k < 60_000; k++) {
      const r = Buffer.from(records[rng.int(records.length)]!);
      const flips = 1 + rng.int(3);
      for (let f = 0; f < flips; f++) {
        // Mostly the body; the header sometimes (magic byte, schema id).
        const at = rng.next() < 0.05 ? rng.int(5) : 5 + rng.int(r.length - 5);
        r[at] = rng.next() < 0.5 ? rng.int(256) : r[at]! ^ (1 << rng.int(8));
      }
      yield r;
    }
    // Random bodies behind a valid header.
    for (let k = 0; k < 20_000; k++) {
      const b = Buffer.alloc(rng.int(80));
      for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
      yield Buffer.concat([header(k % 2 ? s.id : s1.id), b]);
    }
  }
  const { accepted, rejected } = agreeOnAll(t, dec, flipped(), '80,000 corrupted records');
  t.ok(accepted > 1000 && rejected > 1000, 'both outcomes are exercised');
});

t.test('reasons: DecodeError (TE_DECODE) that says why', async (t) => {
  const dec = new TickDecoder();
  const good = encode(s, base);
  t.throws(() => dec.decode(null), { code: 'TE_DECODE', message: /record of 0 bytes is shorter than the 5-byte/ });
  t.throws(() => dec.decode(Buffer.from([1, 0, 0, 0, 1, 2])), { code: 'TE_DECODE', message: /unknown magic byte 1/ });
  const wrongId = Buffer.from(good);
  wrongId.writeUInt32BE(999, 1);
  t.throws(() => dec.decode(wrongId), { code: 'TE_DECODE', message: 'schema id 999 is not the tick schema (id 1 or 7)' });
  t.throws(() => dec.decode(good.subarray(0, good.length - 3)), { code: 'TE_DECODE', message: 'Avro body is truncated for tick' });
  t.throws(() => dec.decode(Buffer.concat([good, Buffer.from([0, 0])])), { code: 'TE_DECODE', message: '2 trailing bytes after the tick body' });
  t.throws(() => dec.decode(body({ side: lng(3) })), { code: 'TE_DECODE', message: /invalid dev\.tickengine\.v1\.Side enum index: 3/ });
  t.throws(() => dec.decode(body({ symbol: lng(-2) })), { code: 'TE_DECODE', message: /negative string length -2/ });
  // Version 2: the unions' branch index must be 0 (null) or 1.
  const v2 = encode(s, base);
  t.equal(v2.subarray(-2).toString('hex'), '0000', 'a version 2 body without venue symbol and sequence ends with two null branches');
  t.throws(() => dec.decode(Buffer.concat([v2.subarray(0, -1), lng(2)])), { code: 'TE_DECODE', message: /invalid union index: 2/ });
  t.throws(() => dec.decode(v2.subarray(0, -1)), { code: 'TE_DECODE', message: 'Avro body is truncated for tick' });
  t.throws(() => dec.decode(body({ eventTime: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20] })), { code: 'TE_DECODE', message: /potential precision loss/ });
  // The ids are the registered ones of the tick schema's two versions; another schema's id is refused.
  t.same([new TickDecoder().v1Id, new TickDecoder().v2Id], [1, 7]);
  t.throws(() => dec.decode(Buffer.concat([header(schema('bar').id), good.subarray(5)])), { code: 'TE_DECODE', message: /schema id 8 is not the tick schema/ });
  t.same(new TickDecoder().decode(good), base);
});
