// Wire format and schemas: round trips, header checks, and the TS contracts matching the .avsc files.
import { readFileSync } from 'node:fs';
import t from 'tap';
import avro from 'avsc';
import { BAR_FIELDS, type Bar } from '../../src/contracts/bar.js';
import { FEED_EVENT_FIELDS, type FeedEvent } from '../../src/contracts/feed-event.js';
import { QUOTE_FIELDS, type Quote } from '../../src/contracts/quote.js';
import { TICK_FIELDS, type Tick } from '../../src/contracts/tick.js';
import { schema, schemaById } from '../../src/stream/schemas.js';
import { decode, encode } from '../../src/stream/serde.js';
import { projectRoot } from '../../src/paths.js';
import { SAMPLE_BAR, SAMPLE_TICK } from '../helpers/sample-tick.js';

const tick: Tick = { ...SAMPLE_TICK, venueSymbol: 'BTCUSD', sequence: { first: false, lostIds: 12, lostSince: SAMPLE_TICK.eventTime - 5_000_000 } };

/** A schema file read independently of src/stream/schemas.ts (what any Avro consumer has). */
const avsc = (file: string) => avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/${file}`, 'utf8')) as avro.Schema);

t.test('tick round trip in the schema-registry wire format', async (t) => {
  const s = schema('tick');
  t.equal(s.version, 2, 'writers write the latest version');
  const buf = encode(s, tick);
  t.equal(buf[0], 0, 'magic byte');
  t.equal(buf.readUInt32BE(1), 7, 'schema id of tick version 2');
  // An independent Avro reader of the body (what any Avro consumer does after the 5-byte header).
  const body = avsc('tick-v2.avsc').fromBuffer(buf.subarray(5)) as Tick;
  t.same({ ...body, sequence: { ...body.sequence! } }, tick);
  const back = decode<Tick>(s, buf);
  t.same({ ...back, sequence: { ...back.sequence! } }, tick);
});

t.test('encode writes header + the Avro body, whatever its size (past the scratch buffer too), each record a buffer of its own', async (t) => {
  const s = schema('tick');
  const independent = avsc('tick-v2.avsc');
  const sizes = [1, 100, 70_000, 10, 300_000, 5];
  const out = sizes.map((n) => encode(s, { ...tick, tradeId: 'x'.repeat(n) }));
  sizes.forEach((n, i) => {
    const want = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), independent.toBuffer({ ...tick, tradeId: 'x'.repeat(n) })]);
    t.ok(out[i]!.equals(want), `a trade id of ${n} bytes: ${out[i]!.length} bytes, as header + avsc's toBuffer`);
  });
  t.equal(out[0]!.subarray(5).toString('latin1').includes('x'), true, 'the first record still holds its own bytes after larger ones were written');
  t.throws(() => encode(s, { ...tick, price: 'not a number' }), 'an invalid value still throws');
});

t.test('schema evolution: tick and bar version 1 and 2 readers read each other (avsc resolvers, both ways)', async (t) => {
  const tickV1 = avsc('tick.avsc');
  const tickV2 = avsc('tick-v2.avsc');
  const v1Tick: Tick = { ...tick };
  delete v1Tick.venueSymbol;
  delete v1Tick.sequence;
  // A version 1 reader (an old consumer) reads version 2 data: the new fields are skipped.
  const v2Data = tickV2.toBuffer(tick);
  t.same({ ...tickV1.fromBuffer(v2Data, tickV1.createResolver(tickV2)) }, v1Tick, 'v1 reader, v2 data: v1 fields, exact');
  // A version 2 reader reads version 1 data: the new fields take their defaults (null).
  const v1Data = tickV1.toBuffer(v1Tick);
  t.same({ ...tickV2.fromBuffer(v1Data, tickV2.createResolver(tickV1)) }, { ...v1Tick, venueSymbol: null, sequence: null }, 'v2 reader, v1 data: nulls');
  // The same through the wire format: decode() resolves whichever registered version wrote the record.
  const wireV1 = encode(schema('tick', { version: 1 }), tick);
  t.equal(wireV1.readUInt32BE(1), 1);
  t.same({ ...decode<Tick>(schema('tick'), wireV1) }, { ...v1Tick, venueSymbol: null, sequence: null }, 'decode(tick) of an id 1 record');
  t.same({ ...decode<Tick>(schema('tick', { version: 1 }), encode(schema('tick'), tick)) }, v1Tick, 'decode(tick v1) of an id 7 record');

  const barV1 = avsc('bar.avsc');
  const barV2 = avsc('bar-v2.avsc');
  const bar: Bar = { ...SAMPLE_BAR, revision: 2, complete: false };
  const v1Bar: Partial<Bar> = { ...bar };
  delete v1Bar.complete;
  t.same({ ...barV1.fromBuffer(barV2.toBuffer(bar), barV1.createResolver(barV2)) }, v1Bar, 'v1 reader, v2 bar');
  t.same({ ...barV2.fromBuffer(barV1.toBuffer(v1Bar), barV2.createResolver(barV1)) }, { ...v1Bar, complete: null }, 'v2 reader, v1 bar: complete null');
  for (const complete of [true, false, null]) {
    const wire = encode(schema('bar'), { ...bar, complete });
    t.equal(wire.readUInt32BE(1), 8);
    t.equal(decode<Bar>(schema('bar'), wire).complete, complete, `complete ${String(complete)} round-trips`);
  }
  t.same({ ...decode<Bar>(schema('bar'), encode(schema('bar', { version: 1 }), bar)) }, { ...v1Bar, complete: null }, 'decode(bar) of an id 2 record');
  // Another name's id is still refused.
  t.throws(() => decode(schema('bar'), wireV1), { code: 'TE_DECODE', message: 'schema id 1 is not the bar schema (id 2 or 8)' });
});

t.test('schema ids never change: the published ones as they were, new versions appended', async (t) => {
  const index = JSON.parse(readFileSync(`${projectRoot()}/schemas/index.json`, 'utf8')) as {
    schemas: { id: number; name: string; version: number; file: string }[];
  };
  t.same(
    index.schemas.map((e) => [e.id, e.name, e.version, e.file]),
    [
      [1, 'tick', 1, 'tick.avsc'],
      [2, 'bar', 1, 'bar.avsc'],
      [3, 'signal', 1, 'signal.avsc'],
      [4, 'frame', 1, 'ws-frame.avsc'],
      [5, 'feedEvent', 1, 'feed-event.avsc'],
      [6, 'quote', 1, 'quote.avsc'],
      [7, 'tick', 2, 'tick-v2.avsc'],
      [8, 'bar', 2, 'bar-v2.avsc'],
      [9, 'feedEvent', 2, 'feed-event-v2.avsc'],
    ],
  );
  t.same([schema('tick', { version: 1 }).id, schema('bar', { version: 1 }).id, schema('tick').id, schema('bar').id], [1, 2, 7, 8]);
  t.equal(schemaById(7)?.name, 'tick');
  // Version 2 is version 1 plus fields with defaults, in the same order: every v1 field unchanged.
  for (const [v1, v2] of [
    ['tick.avsc', 'tick-v2.avsc'],
    ['bar.avsc', 'bar-v2.avsc'],
  ] as const) {
    const f1 = (JSON.parse(readFileSync(`${projectRoot()}/schemas/${v1}`, 'utf8')) as { fields: { name: string; type: unknown }[] }).fields;
    const f2 = (JSON.parse(readFileSync(`${projectRoot()}/schemas/${v2}`, 'utf8')) as { fields: { name: string; type: unknown; default?: unknown }[] }).fields;
    t.same(
      f2.slice(0, f1.length).map((f) => [f.name, f.type]),
      f1.map((f) => [f.name, f.type]),
      `${v2} starts with ${v1}'s fields`,
    );
    t.ok(
      f2.slice(f1.length).every((f) => f.default === null),
      `${v2}'s new fields default to null`,
    );
  }
});

t.test('decode errors carry TE_DECODE and say why', async (t) => {
  const s = schema('tick');
  const good = encode(s, tick);
  t.throws(() => decode(s, null), { code: 'TE_DECODE', message: /shorter than/ });
  t.throws(() => decode(s, Buffer.from([1, 0, 0, 0, 1, 2])), { code: 'TE_DECODE', message: /magic byte 1/ });
  const wrongId = Buffer.from(good);
  wrongId.writeUInt32BE(999, 1);
  t.throws(() => decode(s, wrongId), { code: 'TE_DECODE', message: /schema id 999/ });
  t.throws(() => decode(s, good.subarray(0, good.length - 3)), { code: 'TE_DECODE' });
  t.throws(() => decode(s, Buffer.concat([good, Buffer.from([0])])), { code: 'TE_DECODE', message: /trailing/ });
});

t.test('TypeScript contracts list exactly the Avro fields, in order', async (t) => {
  t.same(
    (schema('tick').json.fields as { name: string }[]).map((f) => f.name),
    [...TICK_FIELDS],
  );
  t.same(
    (schema('bar').json.fields as { name: string }[]).map((f) => f.name),
    [...BAR_FIELDS],
  );
  const bar: Bar = { ...SAMPLE_BAR, symbol: 'A', interval: '1s', bucketStart: 0, firstEventTime: 1, lastEventTime: 2 };
  t.same({ ...decode<Bar>(schema('bar'), encode(schema('bar'), bar)) }, bar);
});

t.test('feed events: the TypeScript fields are the Avro fields of version 2; every kind round-trips; version 1 records read as version 2', async (t) => {
  const s = schema('feedEvent');
  t.equal(s.id, 9, 'version 2 has a new id: ids of published schemas never change');
  t.equal(schema('feedEvent', { version: 1 }).id, 5);
  t.same(
    (s.json.fields as { name: string }[]).map((f) => f.name),
    [...FEED_EVENT_FIELDS],
  );
  const events: FeedEvent[] = [
    {
      kind: 'GAP_UNFILLED',
      venue: 'KRAKEN',
      symbol: 'BTC-USD',
      venueSymbol: 'BTC/USD',
      fromId: '17',
      toId: '42',
      reason: 'NO_HISTORY',
      time: 1_700_000_000_123_456,
      fromTime: null,
      toTime: null,
    },
    {
      kind: 'GAP_FILLED',
      venue: 'BINANCE',
      symbol: 'BTC-USDT',
      venueSymbol: 'BTCUSDT',
      fromId: '3220151555',
      toId: '3220151555',
      reason: null,
      time: 1,
      fromTime: null,
      toTime: null,
    },
    {
      kind: 'GAP_POSSIBLE',
      venue: 'BYBIT',
      symbol: 'BTC-USDT',
      venueSymbol: 'BTCUSDT',
      fromId: '2290000000061666327',
      toId: '2290000000061666331',
      reason: 'NO_CONTINUITY',
      time: 1_700_000_009_000_000,
      fromTime: 1_700_000_000_100_000,
      toTime: 1_700_000_008_700_000,
    },
  ];
  const independent = avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/feed-event-v2.avsc`, 'utf8')));
  for (const e of events) {
    const buf = encode(s, e);
    t.equal(buf.readUInt32BE(1), 9);
    t.same({ ...independent.fromBuffer(buf.subarray(5)) }, e);
    t.same({ ...decode<FeedEvent>(s, buf) }, e);
  }
  // A record a version 1 writer wrote (an older feed) reads as version 2, the new fields null.
  const v1 = schema('feedEvent', { version: 1 });
  const old: Omit<FeedEvent, 'fromTime' | 'toTime'> & Partial<FeedEvent> = { ...events[0]! };
  delete old.fromTime;
  delete old.toTime;
  t.same({ ...decode<FeedEvent>(s, encode(v1, old)) }, events[0], 'version 1 record → version 2, times null');
});

t.test('quotes: the TypeScript fields are the Avro fields; sizes round-trip as null or a number; ids never change', async (t) => {
  const s = schema('quote');
  t.equal(s.id, 6, 'a new id for the quote schema');
  t.same(
    ['tick', 'bar', 'signal', 'frame', 'feedEvent'].map((n) => schema(n as never, { version: 1 }).id),
    [1, 2, 3, 4, 5],
    'the ids published before it are unchanged',
  );
  t.same(
    (s.json.fields as { name: string }[]).map((f) => f.name),
    [...QUOTE_FIELDS],
  );
  const quotes: Quote[] = [
    {
      venue: 'MT5-DEMO',
      symbol: 'EURUSD',
      eventTime: 1_704_067_200_123_000,
      bid: 1.1,
      ask: 1.1002,
      bidSize: null,
      askSize: null,
      quoteId: '1704067200123000',
      ingestTime: 1_704_067_200_200_000,
    },
    { venue: 'BRK', symbol: 'GBPUSD', eventTime: 1, bid: 1.27, ask: 1.2702, bidSize: 1e6, askSize: 0, quoteId: 'q', ingestTime: 2 },
  ];
  const independent = avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/quote.avsc`, 'utf8')), { wrapUnions: false });
  for (const q of quotes) {
    const buf = encode(s, q);
    t.equal(buf.readUInt32BE(1), 6);
    t.same({ ...independent.fromBuffer(buf.subarray(5)) }, q);
    t.same({ ...decode<Quote>(s, buf) }, q);
  }
});
