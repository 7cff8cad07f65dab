// Bybit: the recorded legacy session (trade.SYMBOL frames among orderBookL2_25 frames and acks), the v5 publicTrade
// doc example, and malformed trades rejected naming the field.
import t from 'tap';
import type { Side } from '../../../src/contracts/tick.js';
import { tickProblem } from '../../../src/contracts/validate.js';
import { bybit } from '../../../src/ingest/venues/bybit.js';
import type { VenueTrade } from '../../../src/ingest/venues/venue-adapter.js';
import { docMessages, recordedFrames, tradeFields as fields } from '../../helpers/venue-recordings.js';

const INGEST = 1_700_000_000_000_000;
const frames = recordedFrames('BYBIT.ws.25.0.gz');

t.test('recorded legacy session: every trade of every trade.SYMBOL frame, field for field', async (t) => {
  // The independent reading: a regex over the raw text, one match per trade object.
  const TRADE =
    /\{"symbol":"([A-Z]+)USDT","tick_direction":"\w+","price":"([\d.]+)","size":([\d.]+),"timestamp":"[^"]+","trade_time_ms":"(\d+)","side":"(Buy|Sell)","trade_id":"([0-9a-f-]{36})"\}/g;
  const expected: { venueSymbol: string; symbol: string; tradeId: string; price: number; size: number; side: Side; eventTime: number; snapshot: boolean }[] =
    [];
  let tradeFrames = 0;
  for (const f of frames) {
    if (!f.text.startsWith('{"topic":"trade.')) continue;
    tradeFrames++;
    for (const m of f.text.matchAll(TRADE)) {
      expected.push({
        venueSymbol: `${m[1]}USDT`,
        symbol: `${m[1]}-USDT`,
        tradeId: m[6]!,
        price: Number(m[2]),
        size: Number(m[3]),
        side: m[5] === 'Buy' ? 'BUY' : 'SELL',
        eventTime: Number(m[4]) * 1000,
        snapshot: false,
      });
    }
  }
  const idCount = frames.filter((f) => f.text.startsWith('{"topic":"trade.')).reduce((n, f) => n + f.text.split('"trade_id":"').length - 1, 0);
  t.equal(expected.length, idCount, 'the regex finds every trade_id of the trade frames');

  const parsed: VenueTrade[] = [];
  for (const f of frames) {
    const out = bybit.parse(f.text, INGEST);
    if (!f.text.startsWith('{"topic":"trade.')) t.same(out, [], `line ${f.line}: no trade`);
    parsed.push(...out);
  }
  t.equal(tradeFrames, 66, '66 trade frames');
  t.equal(parsed.length, 101, '101 trades');
  t.same(fields(parsed), expected);
  for (const p of parsed) t.equal(tickProblem(p.tick), null, 'a plausible tick');
});

t.test('recorded messages, values written down by hand', async (t) => {
  const find = (s: string) => frames.find((f) => f.text.includes(s))!.text;
  // {"topic":"trade.BCHUSDT","data":[{"symbol":"BCHUSDT",...,"price":"1053.90","size":0.14,...,"trade_time_ms":"1618677785116","side":"Buy","trade_id":"01cacfe9-8d1c-5ee4-995d-d79a43f955a6"}]}
  t.same(fields(bybit.parse(find('01cacfe9-8d1c-5ee4-995d-d79a43f955a6'), INGEST)), [
    {
      venueSymbol: 'BCHUSDT',
      symbol: 'BCH-USDT',
      tradeId: '01cacfe9-8d1c-5ee4-995d-d79a43f955a6',
      price: 1053.9,
      size: 0.14,
      side: 'BUY',
      eventTime: 1618677785116000,
      snapshot: false,
    },
  ]);
  // {"topic":"trade.BCHUSDT","data":[{...,"price":"1054.95","size":3.35,...,"trade_time_ms":"1618677797685","side":"Buy","trade_id":"a50f6d52-..."},
  //   {...,"price":"1054.95","size":2.01,...,"trade_time_ms":"1618677797686",...},{...,"price":"1055.00","size":0.01,...,"trade_time_ms":"1618677797686",...}]}
  t.same(
    fields(bybit.parse(find('a50f6d52-e645-5373-bf81-f76fb00a4447'), INGEST)).map((f) => [f.price, f.size, f.side, f.eventTime, f.tradeId]),
    [
      [1054.95, 3.35, 'BUY', 1618677797685000, 'a50f6d52-e645-5373-bf81-f76fb00a4447'],
      [1054.95, 2.01, 'BUY', 1618677797686000, '16de1691-bb1e-5ec2-9a79-aa92b708ce73'],
      [1055, 0.01, 'BUY', 1618677797686000, '43fad778-490f-5c7d-83e6-5f54b9eb38e2'],
    ],
  );
});

t.test('v5 publicTrade: the doc example and messages written to its schema', async (t) => {
  const [doc, spot, ack, pong] = docMessages('bybit-publicTrade.json');
  t.same(fields(bybit.parse(doc!.text, INGEST)), [
    {
      venueSymbol: 'BTCUSDT',
      symbol: 'BTC-USDT',
      tradeId: '20f43950-d8dd-5b31-9112-a178eb6023af',
      price: 16578.5,
      size: 0.001,
      side: 'BUY',
      eventTime: 1672304486865000,
      snapshot: false,
    },
  ]);
  t.same(fields(bybit.parse(spot!.text, INGEST)), [
    {
      venueSymbol: 'ETHUSDC',
      symbol: 'ETH-USDC',
      tradeId: '2290000000061666327',
      price: 2045.17,
      size: 0.25,
      side: 'SELL',
      eventTime: 1700000000120000,
      snapshot: false,
    },
    {
      venueSymbol: 'ETHUSDC',
      symbol: 'ETH-USDC',
      tradeId: '2290000000061666328',
      price: 2045.18,
      size: 1,
      side: 'BUY',
      eventTime: 1700000000121000,
      snapshot: false,
    },
  ]);
  t.same(bybit.parse(ack!.text, 0), [], ack!.from);
  t.same(bybit.parse(pong!.text, 0), [], pong!.from);
});

t.test('legacy inverse frames: trade_time_ms as a number', async (t) => {
  const frame =
    '{"topic":"trade.BTCUSD","data":[{"timestamp":"2021-04-17T16:43:05.000Z","trade_time_ms":1618677785116,"symbol":"BTCUSD","side":"Sell","size":150,"price":61234.5,"tick_direction":"MinusTick","trade_id":"c5d3f6a0-1f0e-5e2b-9c0f-2d1f4e8b7a61"}]}';
  t.same(fields(bybit.parse(frame, 0)), [
    {
      venueSymbol: 'BTCUSD',
      symbol: 'BTC-USD',
      tradeId: 'c5d3f6a0-1f0e-5e2b-9c0f-2d1f4e8b7a61',
      price: 61234.5,
      size: 150,
      side: 'SELL',
      eventTime: 1618677785116000,
      snapshot: false,
    },
  ]);
});

t.test('frames without a trade give [] and never throw', async (t) => {
  for (const frame of [
    '{"success":true,"ret_msg":"","conn_id":"38cf0ac3-af67-483c-9bbc-b57d45910ecb","request":{"op":"subscribe","args":["trade.BCHUSDT"]}}',
    '{"topic":"orderBookL2_25.BCHUSDT","type":"delta","data":{"delete":[],"update":[],"insert":[]}}',
    '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[]}}',
    '{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":{}}',
    '{"op":"pong","args":["1672916271846"],"conn_id":"x"}',
    '{"topic":7}',
    '[]',
  ])
    t.same(bybit.parse(frame, 0), [], frame);
});

t.test('malformed trade messages: DecodeError naming the field', async (t) => {
  const v5 = { T: 1672304486865, s: 'BTCUSDT', S: 'Buy', v: '0.001', p: '16578.50', i: '1', BT: false };
  const bad = (change: Record<string, unknown>, message: RegExp) => {
    const frame = JSON.stringify({ topic: 'publicTrade.BTCUSDT', type: 'snapshot', ts: 1, data: [v5, { ...v5, ...change }] });
    t.throws(() => bybit.parse(frame, 0), { code: 'TE_DECODE', message }, frame);
  };
  bad({ p: undefined }, /^BYBIT publicTrade data\[1\] "p" \(price\) is missing$/);
  bad({ v: 'abc' }, /^BYBIT publicTrade data\[1\] "v" \(size\) "abc" is not a decimal number$/);
  bad({ v: '-0.001' }, /^BYBIT publicTrade data\[1\] "v" \(size\) "-0.001" is negative$/);
  bad({ T: '2022-12-29T09:01:26Z' }, /^BYBIT publicTrade data\[1\] "T" \(trade time\) .* is not a whole number of milliseconds$/);
  bad({ S: 'buy' }, /^BYBIT publicTrade data\[1\] "S" \(taker side\) "buy" is not one of Buy, Sell$/);
  bad({ i: null }, /^BYBIT publicTrade data\[1\] "i" \(trade id\) is missing$/);
  bad({ s: 'BTC' }, /^BYBIT publicTrade data\[1\] "s" \(symbol\) "BTC" does not end in a known quote asset/);
  t.throws(() => bybit.parse('{"topic":"publicTrade.BTCUSDT","data":{}}', 0), {
    code: 'TE_DECODE',
    message: /^BYBIT publicTrade "data" \(trades\) is an object, not an array$/,
  });
  const legacy = JSON.stringify({
    topic: 'trade.BCHUSDT',
    data: [{ symbol: 'BCHUSDT', price: '1053.90', size: -1, trade_time_ms: '1618677785116', side: 'Buy', trade_id: 'x' }],
  });
  t.throws(() => bybit.parse(legacy, 0), { code: 'TE_DECODE', message: /^BYBIT trade data\[0\] "size" \(size\) -1 is negative$/ });
});
