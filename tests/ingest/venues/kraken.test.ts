// Kraken: the recorded v1 session (array trade frames among systemStatus, subscriptionStatus and heartbeats), the v2
// doc example, the ids made for v1 trades, and malformed trades rejected naming the field.
import t from 'tap';
import type { Side } from '../../../src/contracts/tick.js';
import { compareTradeIds } from '../../../src/contracts/trade-order.js';
import { tickProblem } from '../../../src/contracts/validate.js';
import { kraken } from '../../../src/ingest/venues/kraken.js';
import type { VenueTrade } from '../../../src/ingest/venues/venue-adapter.js';
import { docMessages, recordedFrames, tradeFields as fields } from '../../helpers/venue-recordings.js';

const INGEST = 1_700_000_000_000_000;
const frames = recordedFrames('KRAKEN.ws.48.0.gz');

t.test('recorded v1 session: every trade of every array frame, field for field', async (t) => {
  // The independent reading: regexes over the raw text; the time's digits put together as a string.
  const ENTRY = /\["([\d.]+)","([\d.]+)","(\d+)\.(\d{6})","([bs])","([lm])",""\]/g;
  const expected: { venueSymbol: string; price: number; size: number; side: Side; eventTime: number; tradeId: string }[] = [];
  for (const f of frames) {
    const pair = /,"trade","([A-Z]+\/[A-Z]+)"\]$/.exec(f.text)?.[1];
    if (!pair) continue;
    for (const m of f.text.matchAll(ENTRY)) {
      const micros = `${m[3]}${m[4]}`;
      expected.push({
        venueSymbol: pair,
        price: Number(m[1]),
        size: Number(m[2]),
        side: m[5] === 'b' ? 'BUY' : 'SELL',
        eventTime: Number(micros),
        tradeId: `${micros}000`,
      });
    }
  }
  const arrayFrames = frames.filter((f) => f.text.startsWith('['));
  t.equal(arrayFrames.length, 8, '8 trade frames');

  const parsed: VenueTrade[] = [];
  for (const f of frames) {
    const out = kraken.parse(f.text, INGEST);
    if (!f.text.startsWith('[')) t.same(out, [], `line ${f.line}: no trade`);
    parsed.push(...out);
  }
  t.equal(parsed.length, 10, '10 trades in 8 frames');
  t.equal(parsed.length, expected.length);
  t.same(
    fields(parsed).map(({ venueSymbol, price, size, side, eventTime, tradeId }) => ({ venueSymbol, price, size, side, eventTime, tradeId })),
    expected,
  );
  for (const p of parsed) {
    t.equal(p.tick.symbol, p.venueSymbol.replace('/', '-'), 'XMR/USD and SC/EUR need no alias');
    t.equal(tickProblem(p.tick), null, 'a plausible tick');
  }
});

t.test('recorded messages, values written down by hand', async (t) => {
  // [993,[["354.11000000","0.89594024","1618678142.557535","s","l",""]],"trade","XMR/USD"]
  t.same(fields(kraken.parse(frames.find((f) => f.text.includes('1618678142.557535'))!.text, INGEST)), [
    {
      venueSymbol: 'XMR/USD',
      symbol: 'XMR-USD',
      tradeId: '1618678142557535000',
      price: 354.11,
      size: 0.89594024,
      side: 'SELL',
      eventTime: 1618678142557535,
      snapshot: false,
    },
  ]);
  // [1921,[["0.042980","8500.00000000","1618678155.718950","b","m",""],["0.043000","2383.16665529","1618678155.720582","b","m",""]],"trade","SC/EUR"]
  t.same(fields(kraken.parse(frames.find((f) => f.text.includes('1618678155.718950'))!.text, INGEST)), [
    {
      venueSymbol: 'SC/EUR',
      symbol: 'SC-EUR',
      tradeId: '1618678155718950000',
      price: 0.04298,
      size: 8500,
      side: 'BUY',
      eventTime: 1618678155718950,
      snapshot: false,
    },
    {
      venueSymbol: 'SC/EUR',
      symbol: 'SC-EUR',
      tradeId: '1618678155720582000',
      price: 0.043,
      size: 2383.16665529,
      side: 'BUY',
      eventTime: 1618678155720582,
      snapshot: false,
    },
  ]);
});

t.test('v1: XBT is BTC; trades sharing a µs in one frame get ordinals, and order by (time, ordinal)', async (t) => {
  const frame = JSON.stringify([
    465,
    [
      ['51000.10000', '0.01000000', '1618678200.000001', 'b', 'm', ''],
      ['51000.20000', '0.02000000', '1618678200.000001', 's', 'l', ''],
      ['51000.30000', '0.03000000', '1618678199.999999', 'b', 'l', ''],
      ['51000.40000', '0.04000000', '1618678200.000001', 'b', 'l', ''],
    ],
    'trade',
    'XBT/CHF',
  ]);
  const out = kraken.parse(frame, 0);
  t.same(
    out.map((p) => [p.tick.symbol, p.venueSymbol, p.tick.tradeId]),
    [
      ['BTC-CHF', 'XBT/CHF', '1618678200000001000'],
      ['BTC-CHF', 'XBT/CHF', '1618678200000001001'],
      ['BTC-CHF', 'XBT/CHF', '1618678199999999000'],
      ['BTC-CHF', 'XBT/CHF', '1618678200000001002'],
    ],
  );
  t.same(kraken.parse(frame, 0), out, 'the same frame, the same ids');
  const ids = out.map((p) => p.tick.tradeId).sort(compareTradeIds);
  t.same(ids, ['1618678199999999000', '1618678200000001000', '1618678200000001001', '1618678200000001002'], 'numeric ids: time, then ordinal');
});

t.test('v2 trade channel: the doc example and messages written to its schema', async (t) => {
  const [snapshot, update, heartbeat, ack] = docMessages('kraken-trade.json');
  t.same(fields(kraken.parse(snapshot!.text, INGEST)), [
    {
      venueSymbol: 'MATIC/USD',
      symbol: 'MATIC-USD',
      tradeId: '4665846',
      price: 0.5147,
      size: 6423.46326,
      side: 'BUY',
      eventTime: 1695628116925533,
      snapshot: true,
    },
    {
      venueSymbol: 'MATIC/USD',
      symbol: 'MATIC-USD',
      tradeId: '4665847',
      price: 0.5147,
      size: 1136.19677815,
      side: 'BUY',
      eventTime: 1695628176925603,
      snapshot: true,
    },
  ]);
  t.same(fields(kraken.parse(update!.text, INGEST)), [
    { venueSymbol: 'BTC/USD', symbol: 'BTC-USD', tradeId: '62811238', price: 26472.5, size: 0.005, side: 'SELL', eventTime: 1695628201123456, snapshot: false },
  ]);
  t.same(kraken.parse(heartbeat!.text, 0), [], heartbeat!.from);
  t.same(kraken.parse(ack!.text, 0), [], ack!.from);
  // Amounts sent as JSON numbers are the doubles the same digits give as strings.
  const asStrings = snapshot!.text.replace(/"(price|qty)":([\d.]+)/g, '"$1":"$2"');
  t.same(fields(kraken.parse(asStrings, INGEST)), fields(kraken.parse(snapshot!.text, INGEST)), 'numbers and strings agree');
});

t.test('frames without a trade give [] and never throw', async (t) => {
  for (const frame of [
    '{"event":"heartbeat"}',
    '{"connectionID":18239578009413566319,"event":"systemStatus","status":"online","version":"1.8.3"}',
    '{"channelID":993,"channelName":"trade","event":"subscriptionStatus","pair":"XMR/USD","status":"subscribed","subscription":{"name":"trade"}}',
    '[336,{"a":["5541.30000","2.50700000","1534614248.456738"]},"ticker","XBT/USD"]',
    '[1234,{"as":[["5541.30000","2.50700000","1534614248.123678"]],"bs":[]},"book-10","XBT/USD"]',
    '{"channel":"status","type":"update","data":[{"api_version":"v2","system":"online"}]}',
    '{"channel":"book","type":"update","data":[]}',
    '[]',
    '[1,2,3]',
  ])
    t.same(kraken.parse(frame, 0), [], frame);
});

t.test('malformed trade messages: DecodeError naming the field', async (t) => {
  const entry = ['354.11000000', '0.89594024', '1618678142.557535', 's', 'l', ''];
  const v1 = (e: unknown[], pair: unknown = 'XMR/USD') => JSON.stringify([993, [entry, e], 'trade', pair]);
  const bad = (frame: string, message: RegExp) => t.throws(() => kraken.parse(frame, 0), { code: 'TE_DECODE', message }, frame);
  bad(v1([null, ...entry.slice(1)]), /^KRAKEN v1 trade\[1\] "price" \(price\) is missing$/);
  bad(v1([entry[0], 'abc', ...entry.slice(2)]), /^KRAKEN v1 trade\[1\] "volume" \(volume\) "abc" is not a decimal number$/);
  bad(v1([entry[0], '-0.5', ...entry.slice(2)]), /^KRAKEN v1 trade\[1\] "volume" \(volume\) "-0.5" is negative$/);
  bad(
    v1([entry[0], entry[1], '2021-04-17T16:49:02Z', ...entry.slice(3)]),
    /^KRAKEN v1 trade\[1\] "time" \(trade time\) .* is not a decimal number of seconds$/,
  );
  bad(v1([...entry.slice(0, 3), 'x', 'l', '']), /^KRAKEN v1 trade\[1\] "side" \(taker side\) "x" is not one of b, s$/);
  bad(v1(entry, 'XMRUSD'), /^KRAKEN v1 trade pair "XMRUSD" is not BASE\/QUOTE$/);
  bad(v1(entry, 7), /^KRAKEN v1 trade pair \(last element\) is 7, not a string$/);
  bad('[993,"x","trade","XMR/USD"]', /^KRAKEN v1 trade trades \(element 1\) is "x", not an array$/);
  const v2 = { symbol: 'BTC/USD', side: 'buy', price: 26472.5, qty: 0.005, ord_type: 'limit', trade_id: 62811238, timestamp: '2023-09-25T07:50:01.123456Z' };
  const two = (change: Record<string, unknown>) => JSON.stringify({ channel: 'trade', type: 'update', data: [v2, { ...v2, ...change }] });
  bad(two({ price: undefined }), /^KRAKEN trade data\[1\] "price" \(price\) is missing$/);
  bad(two({ qty: 'abc' }), /^KRAKEN trade data\[1\] "qty" \(quantity\) "abc" is not a decimal number$/);
  bad(two({ qty: -0.005 }), /^KRAKEN trade data\[1\] "qty" \(quantity\) -0\.005 is negative$/);
  bad(two({ timestamp: '2023-09-25T07:50:01.123456' }), /^KRAKEN trade data\[1\] "timestamp" \(trade time\) .* is not an ISO-8601 UTC time/);
  bad(two({ trade_id: 2 ** 53 + 2 }), /^KRAKEN trade data\[1\] "trade_id" \(trade id\) .* is not a trade id/);
  bad(JSON.stringify({ channel: 'trade', type: 'update', data: [v2, 'x'] }), /^KRAKEN trade data\[1\] is "x", not an object$/);
  bad('{"channel":"trade","data":[]}', /^KRAKEN trade "type" \(message type\) is missing$/);
});
