// Wire format and schemas: round trips, header checks, and the TS contracts matching the .avsc files.
import { readFileSync } from 'node:fs';
import t from 'tap';
import avro from 'avsc';
import { BAR_FIELDS, type Bar } from '../../src/contracts/bar.js';
import { FEED_EVENT_FIELDS, type FeedEvent } from '../../src/contracts/feed-event.js';
import { QUOTE_FIELDS, type Quote } from '../../src/contracts/quote.js';
import { TICK_FIELDS, type Tick } from '../../src/contracts/tick.js';
import { schema } from '../../src/stream/schemas.js';
import { decode, encode } from '../../src/stream/serde.js';
import { projectRoot } from '../../src/paths.js';
import { SAMPLE_TICK } from '../helpers/sample-tick.js';

const tick: Tick = { ...SAMPLE_TICK };

t.test('tick round trip in the schema-registry wire format', async (t) => {
  const s = schema('tick');
  const buf = encode(s, tick);
  t.equal(buf[0], 0, 'magic byte');
  t.equal(buf.readUInt32BE(1), s.id, 'schema id');
  // An independent Avro reader of the body (what any Avro consumer does after the 5-byte header).
  const body = avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/tick.avsc`, 'utf8'))).fromBuffer(buf.subarray(5));
  t.same({ ...body }, tick);
  t.same({ ...decode<Tick>(s, buf) }, tick);
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
  const bar: Bar = {
    symbol: 'A',
    interval: '1s',
    bucketStart: 0,
    open: 1,
    high: 2,
    low: 0.5,
    close: 1.5,
    volume: 3,
    quoteVolume: 4,
    vwap: 4 / 3,
    tradeCount: 7,
    buyVolume: 1,
    firstEventTime: 1,
    lastEventTime: 2,
    revision: 0,
    final: true,
  };
  t.same({ ...decode<Bar>(schema('bar'), encode(schema('bar'), bar)) }, bar);
});

t.test('feed events: the TypeScript fields are the Avro fields, and both kinds round-trip (reason null or an enum symbol)', async (t) => {
  const s = schema('feedEvent');
  t.equal(s.id, 5, 'a new id: ids of published schemas never change');
  t.same(
    (s.json.fields as { name: string }[]).map((f) => f.name),
    [...FEED_EVENT_FIELDS],
  );
  const events: FeedEvent[] = [
    {
      kind: 'GAP_UNFILLED',
      venue: 'BYBIT',
      symbol: 'BTC-USDT',
      venueSymbol: 'BTCUSDT',
      fromId: '17',
      toId: '42',
      reason: 'NO_HISTORY',
      time: 1_700_000_000_123_456,
    },
    { kind: 'GAP_FILLED', venue: 'BINANCE', symbol: 'BTC-USDT', venueSymbol: 'BTCUSDT', fromId: '3220151555', toId: '3220151555', reason: null, time: 1 },
  ];
  const independent = avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/feed-event.avsc`, 'utf8')));
  for (const e of events) {
    const buf = encode(s, e);
    t.equal(buf.readUInt32BE(1), 5);
    t.same({ ...independent.fromBuffer(buf.subarray(5)) }, e);
    t.same({ ...decode<FeedEvent>(s, buf) }, e);
  }
});

t.test('quotes: the TypeScript fields are the Avro fields; sizes round-trip as null or a number; ids never change', async (t) => {
  const s = schema('quote');
  t.equal(s.id, 6, 'a new id for the quote schema');
  t.same(
    ['tick', 'bar', 'signal', 'frame', 'feedEvent'].map((n) => schema(n as never).id),
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
