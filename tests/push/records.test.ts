// Reading pushed batches: NDJSON with an error per bad record (index, line, field, reason, code), the JSON record
// forms, and framed Avro (the Kafka value form, back to back).
import t from 'tap';
import { readBatch, formatOf } from '../../src/push/batch.js';
import { FRAMED_AVRO } from '../../src/push/framed.js';
import { readNdjson } from '../../src/push/ndjson.js';
import { schema } from '../../src/stream/schemas.js';
import { encode } from '../../src/stream/serde.js';
import type { Tick } from '../../src/contracts/tick.js';
import type { Quote } from '../../src/contracts/quote.js';

const NOW = 1_704_067_201_000_000;
const ctx = { ingestTime: NOW, maxAheadMicros: 60_000_000 };
const lines = (...xs: unknown[]) => Buffer.from(xs.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n'));

const trade = { type: 'trade', venue: 'BRK', symbol: 'XAUUSD', eventTime: 1_704_067_200_000_000, price: 2050.5, size: 2, side: 'SELL', tradeId: 'T-1' };
const quote = { type: 'quote', venue: 'BRK', symbol: 'EURUSD', eventTime: 1_704_067_200_000_000, bid: 1.1, ask: 1.1002 };
const mt5 = { type: 'mt5', venue: 'MT5-DEMO', symbol: 'EURUSD', time_msc: 1_704_067_200_123, bid: 1.1, ask: 1.1002, last: 0, volume: 0, flags: 6 };

t.test('good records of every form', async (t) => {
  const out = readNdjson(lines(trade, '', quote, '   ', { ...mt5, seq: 4, time: 1_704_067_200 }), 100, ctx);
  t.equal(out.length, 3, 'blank lines are not records');
  t.same(
    out.map((r) => [r.index, r.line]),
    [
      [0, 1],
      [1, 3],
      [2, 5],
    ],
    'index counts records, line counts lines',
  );
  t.ok(out.every((r) => !r.error));
  t.same(out[0]!.items!.trades, [
    { venue: 'BRK', symbol: 'XAUUSD', eventTime: 1_704_067_200_000_000, price: 2050.5, size: 2, side: 'SELL', tradeId: 'T-1', ingestTime: NOW },
  ]);
  t.same(out[1]!.items!.quotes[0], {
    venue: 'BRK',
    symbol: 'EURUSD',
    eventTime: 1_704_067_200_000_000,
    bid: 1.1,
    ask: 1.1002,
    bidSize: null,
    askSize: null,
    quoteId: '1704067200000000',
    ingestTime: NOW,
  });
  t.equal(out[2]!.items!.quotes[0]!.quoteId, '1704067200123004');
  t.same(out[2]!.items!.trades, []);
  t.equal(out[0]!.raw.toString(), JSON.stringify(trade), 'the raw bytes are the line');
});

t.test('numbers as ids, default side, CRLF lines', async (t) => {
  const noSide: Record<string, unknown> = { ...trade };
  delete noSide.side;
  const out = readNdjson(Buffer.from(`${JSON.stringify({ ...noSide, tradeId: 42 })}\r\n${JSON.stringify({ ...quote, quoteId: 7 })}\r\n`), 100, ctx);
  t.equal(out[0]!.items!.trades[0]!.tradeId, '42');
  t.equal(out[0]!.items!.trades[0]!.side, 'UNKNOWN');
  t.equal(out[1]!.items!.quotes[0]!.quoteId, '7');
});

t.test('every bad record gets its own error; the good ones are kept', async (t) => {
  const body = lines(
    trade,
    '{not json',
    '[1,2]',
    { ...trade, price: -1 },
    { ...trade, prcie: 1 },
    { ...trade, side: 'LONG' },
    { ...trade, eventTime: 1_704_067_200_000 },
    { ...trade, eventTime: NOW + 3_600_000_000 },
    { ...trade, symbol: 'XAU USD' },
    { ...trade, venue: '' },
    { ...trade, tradeId: { a: 1 } },
    { ...quote, ask: 1.09 },
    { ...quote, bidSize: 'big' },
    { ...mt5, flags: 32 },
    { ...mt5, flags: 24, last: 0, volume: 1 },
    { ...mt5, flags: 24, last: 1.1 },
    { ...mt5, seq: 1000 },
    { ...mt5, time_msc: 1.5 },
    { type: 'order' },
    { ...mt5, bid: 0 },
    quote,
  );
  const out = readNdjson(body, 100, ctx);
  const errors = out.filter((r) => r.error).map((r) => ({ index: r.index, line: r.line, field: r.error!.field, code: r.error!.code }));
  t.same(errors, [
    { index: 1, line: 2, field: undefined, code: 'TE_DECODE' },
    { index: 2, line: 3, field: undefined, code: 'TE_DECODE' },
    { index: 3, line: 4, field: 'price', code: 'TE_INVALID_TICK' },
    { index: 4, line: 5, field: 'prcie', code: 'TE_INVALID_TICK' },
    { index: 5, line: 6, field: 'side', code: 'TE_INVALID_TICK' },
    { index: 6, line: 7, field: 'eventTime', code: 'TE_INVALID_TICK' },
    { index: 7, line: 8, field: 'eventTime', code: 'TE_INVALID_TICK' },
    { index: 8, line: 9, field: 'symbol', code: 'TE_INVALID_TICK' },
    { index: 9, line: 10, field: 'venue', code: 'TE_INVALID_TICK' },
    { index: 10, line: 11, field: 'tradeId', code: 'TE_INVALID_TICK' },
    { index: 11, line: 12, field: 'ask', code: 'TE_INVALID_QUOTE' },
    { index: 12, line: 13, field: 'bidSize', code: 'TE_INVALID_QUOTE' },
    { index: 13, line: 14, field: 'flags', code: 'TE_INVALID_TICK' },
    { index: 14, line: 15, field: 'last', code: 'TE_INVALID_TICK' },
    { index: 15, line: 16, field: 'volume', code: 'TE_INVALID_TICK' },
    { index: 16, line: 17, field: 'seq', code: 'TE_INVALID_TICK' },
    { index: 17, line: 18, field: 'time_msc', code: 'TE_INVALID_TICK' },
    { index: 18, line: 19, field: 'type', code: 'TE_DECODE' },
    { index: 19, line: 20, field: 'bid', code: 'TE_INVALID_QUOTE' },
  ]);
  t.equal(out.filter((r) => r.items).length, 2, 'the first and the last record are good');
  const reasons = out.filter((r) => r.error).map((r) => r.error!.reason);
  t.match(reasons[3], /unknown field "prcie"/);
  t.match(reasons[6], /ahead of ingestTime/);
  t.match(reasons[12], /mark no change/);
});

t.test('a record is taken whole: an MT5 deal with a bad quote half is rejected', async (t) => {
  const [r] = readNdjson(lines({ ...mt5, flags: 2 + 24, last: 1.1001, volume: 1, ask: 1.0 }), 10, ctx);
  t.equal(r!.error?.field, 'ask');
  t.equal(r!.items, undefined);
});

t.test('whole-batch problems: empty, too many records', async (t) => {
  t.throws(() => readNdjson(Buffer.from('\n \n'), 10, ctx), { code: 'TE_BAD_REQUEST', message: /no records/ });
  t.throws(() => readNdjson(lines(trade, trade, trade), 2, ctx), { code: 'TE_BAD_REQUEST', message: /more than 2 records/ });
  t.equal(
    readNdjson(Buffer.from([0xff, 0xfe, 0x0a].concat([...Buffer.from(JSON.stringify(trade))])), 10, ctx)[0]!.error?.reason,
    'the line is not valid UTF-8',
  );
});

t.test('content types', async (t) => {
  t.equal(formatOf('application/x-ndjson'), 'ndjson');
  t.equal(formatOf('application/ndjson; charset=utf-8'), 'ndjson');
  t.equal(formatOf(FRAMED_AVRO), 'avro');
  t.throws(() => formatOf('application/json'), { code: 'TE_UNSUPPORTED_MEDIA_TYPE' });
  t.throws(() => formatOf(''), { code: 'TE_UNSUPPORTED_MEDIA_TYPE', message: /\(none\)/ });
});

t.test('framed Avro: ticks and quotes back to back, ingest time replaced, bad records named', async (t) => {
  const tick: Tick = { venue: 'BRK', symbol: 'XAUUSD', eventTime: 1_704_067_200_000_000, price: 2050.5, size: 2, side: 'BUY', tradeId: '9', ingestTime: 1 };
  const q: Quote = {
    venue: 'BRK',
    symbol: 'EURUSD',
    eventTime: 1_704_067_200_000_000,
    bid: 1.1,
    ask: 1.2,
    bidSize: 5,
    askSize: null,
    quoteId: 'q1',
    ingestTime: 1,
  };
  const body = Buffer.concat([encode(schema('tick'), tick), encode(schema('quote'), q), encode(schema('tick'), { ...tick, price: 0 })]);
  const out = readBatch('avro', body, 10, ctx);
  t.same(out[0]!.items!.trades, [{ ...tick, ingestTime: NOW, venueSymbol: null, sequence: null }]);
  // A version 1 record (id 1) is read too, with null for the fields version 2 added.
  const v1 = readBatch('avro', encode(schema('tick', { version: 1 }), tick), 10, ctx);
  t.same(v1[0]!.items!.trades, [{ ...tick, ingestTime: NOW, venueSymbol: null, sequence: null }]);
  t.same(out[1]!.items!.quotes, [{ ...q, ingestTime: NOW }]);
  t.same(out[2]!.error, { code: 'TE_INVALID_TICK', field: 'price', reason: 'price 0 must be a number > 0 and at most 1e15' });
  t.same(out[1]!.raw, encode(schema('quote'), q), 'the raw bytes are the framed record');
  t.throws(() => readBatch('avro', body.subarray(0, body.length - 3), 10, ctx), { code: 'TE_BAD_REQUEST', message: /record 2 .*truncated/ });
  const badId = Buffer.from(encode(schema('tick'), tick));
  badId.writeUInt32BE(2, 1);
  t.throws(() => readBatch('avro', Buffer.concat([encode(schema('tick'), tick), badId]), 10, ctx), {
    code: 'TE_BAD_REQUEST',
    message: /record 1 \(byte \d+\): schema id 2/,
  });
  t.throws(() => readBatch('avro', Buffer.from([1, 0, 0, 0, 1]), 10, ctx), { code: 'TE_BAD_REQUEST', message: /magic byte 1/ });
  t.throws(() => readBatch('avro', Buffer.alloc(0), 10, ctx), { code: 'TE_BAD_REQUEST', message: /no records/ });
  t.throws(() => readBatch('avro', body, 2, ctx), { code: 'TE_BAD_REQUEST', message: /more than 2/ });
});
