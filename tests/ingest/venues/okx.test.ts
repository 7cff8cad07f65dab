// OKX: the recorded v5 session (trades frames of spot, a future and a swap among tickers, books and subscribe events),
// and malformed trades rejected naming the field.
import t from 'tap';
import type { Side } from '../../../src/contracts/tick.js';
import { tickProblem } from '../../../src/contracts/validate.js';
import { okx } from '../../../src/ingest/venues/okx.js';
import type { VenueTrade } from '../../../src/ingest/venues/venue-adapter.js';
import { recordedFrames, tradeFields as fields } from '../../helpers/venue-recordings.js';

const INGEST = 1_700_000_000_000_000;
const frames = recordedFrames('OKX.ws.1.0.gz');

t.test('recorded session: every trade of every trades frame, field for field', async (t) => {
  // The independent reading: a regex over the raw text, one match per trade object.
  const TRADE = /\{"instId":"([A-Z0-9-]+)","tradeId":"(\d+)","px":"([\d.]+)","sz":"([\d.]+)","side":"(buy|sell)","ts":"(\d+)"\}/g;
  const isTrades = (text: string) => text.startsWith('{"arg":{"channel":"trades"') && text.includes('"data":');
  const expected: { venueSymbol: string; symbol: string; tradeId: string; price: number; size: number; side: Side; eventTime: number; snapshot: boolean }[] =
    [];
  for (const f of frames) {
    if (!isTrades(f.text)) continue;
    for (const m of f.text.matchAll(TRADE)) {
      expected.push({
        venueSymbol: m[1]!,
        symbol: m[1]!,
        tradeId: m[2]!,
        price: Number(m[3]),
        size: Number(m[4]),
        side: m[5] === 'buy' ? 'BUY' : 'SELL',
        eventTime: Number(m[6]) * 1000,
        snapshot: false,
      });
    }
  }
  const idCount = frames.reduce((n, f) => n + f.text.split('"tradeId":"').length - 1, 0);
  t.equal(expected.length, idCount, 'the regex finds every tradeId of the recording');

  const parsed: VenueTrade[] = [];
  for (const f of frames) {
    const out = okx.parse(f.text, INGEST);
    if (!isTrades(f.text)) t.same(out, [], `line ${f.line}: no trade`);
    parsed.push(...out);
  }
  t.equal(parsed.length, 74, '74 trades');
  t.same(fields(parsed), expected);
  t.same([...new Set(parsed.map((p) => p.tick.symbol))].sort(), ['BTC-USD-220527', 'BTC-USDT', 'UNI-USD-SWAP'], 'derivatives keep their instId');
  for (const p of parsed) t.equal(tickProblem(p.tick), null, 'a plausible tick');
});

t.test('recorded messages, values written down by hand', async (t) => {
  const find = (s: string) => frames.find((f) => f.text.includes(s))!.text;
  // {"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"338476307","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]}
  t.same(fields(okx.parse(find('"tradeId":"338476307"'), INGEST)), [
    {
      venueSymbol: 'BTC-USDT',
      symbol: 'BTC-USDT',
      tradeId: '338476307',
      price: 30236,
      size: 0.0002,
      side: 'BUY',
      eventTime: 1652459224818000,
      snapshot: false,
    },
  ]);
  // {"arg":{"channel":"trades","instId":"UNI-USD-SWAP"},"data":[{"instId":"UNI-USD-SWAP","tradeId":"12883020","px":"5.123","sz":"100","side":"sell","ts":"1652459215150"}]}
  t.same(fields(okx.parse(find('"tradeId":"12883020"'), INGEST)), [
    {
      venueSymbol: 'UNI-USD-SWAP',
      symbol: 'UNI-USD-SWAP',
      tradeId: '12883020',
      price: 5.123,
      size: 100,
      side: 'SELL',
      eventTime: 1652459215150000,
      snapshot: false,
    },
  ]);
  // {"arg":{"channel":"trades","instId":"BTC-USD-220527"},"data":[{"instId":"BTC-USD-220527","tradeId":"7849","px":"30218.8","sz":"1","side":"buy","ts":"1652459199958"}]}
  t.same(fields(okx.parse(find('"tradeId":"7849"'), INGEST)), [
    {
      venueSymbol: 'BTC-USD-220527',
      symbol: 'BTC-USD-220527',
      tradeId: '7849',
      price: 30218.8,
      size: 1,
      side: 'BUY',
      eventTime: 1652459199958000,
      snapshot: false,
    },
  ]);
});

t.test('a push with count (fills of one taker order aggregated) and several trades', async (t) => {
  const frame = JSON.stringify({
    arg: { channel: 'trades', instId: 'BTC-USDT' },
    data: [
      { instId: 'BTC-USDT', tradeId: '130639474', px: '42219.9', sz: '0.12060306', side: 'buy', ts: '1630048897897', count: '3' },
      { instId: 'BTC-USDT', tradeId: '130639475', px: '42220', sz: '0.5', side: 'sell', ts: '1630048897898', count: '1' },
    ],
  });
  t.same(
    fields(okx.parse(frame, 0)).map((f) => [f.tradeId, f.price, f.size, f.side, f.eventTime]),
    [
      ['130639474', 42219.9, 0.12060306, 'BUY', 1630048897897000],
      ['130639475', 42220, 0.5, 'SELL', 1630048897898000],
    ],
  );
  // "tradeId = 123 and count = 3 … aggregates the trades of tradeId = 123, 122, and 121": the ids it stands for.
  t.same(
    okx.parse(frame, 0).map((p) => p.idSpan),
    [3, 1],
    'count becomes idSpan',
  );
  const recorded = frames.find((f) => f.text.includes('"tradeId":"7849"'))!.text;
  t.equal(okx.parse(recorded, 0)[0]!.idSpan, undefined, 'no count (the 2022 recording): no idSpan, one fill');
});

t.test('frames without a trade give [] and never throw', async (t) => {
  for (const frame of [
    '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"}}',
    '{"event":"error","code":"60012","msg":"Invalid request"}',
    '{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT","last":"30236"}]}',
    '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[]}',
  ])
    t.same(okx.parse(frame, 0), [], frame);
  t.throws(
    () => okx.parse('pong', 0),
    { code: 'TE_DECODE', message: /^OKX frame is not JSON/ },
    'the text "pong" (the reply to a "ping") is not JSON: the connection handles it before parse',
  );
});

t.test('malformed trade messages: DecodeError naming the field', async (t) => {
  const trade = { instId: 'BTC-USDT', tradeId: '338476307', px: '30236', sz: '0.0002', side: 'buy', ts: '1652459224818' };
  const bad = (change: Record<string, unknown>, message: RegExp) => {
    const frame = JSON.stringify({ arg: { channel: 'trades', instId: 'BTC-USDT' }, data: [trade, { ...trade, ...change }] });
    t.throws(() => okx.parse(frame, 0), { code: 'TE_DECODE', message }, frame);
  };
  bad({ px: undefined }, /^OKX trades data\[1\] "px" \(price\) is missing$/);
  bad({ sz: 'abc' }, /^OKX trades data\[1\] "sz" \(size\) "abc" is not a decimal number$/);
  bad({ sz: '-0.0002' }, /^OKX trades data\[1\] "sz" \(size\) "-0.0002" is negative$/);
  bad({ ts: '1652459224818.5' }, /^OKX trades data\[1\] "ts" \(trade time\) "1652459224818.5" is not a whole number of milliseconds$/);
  bad({ ts: '' }, /^OKX trades data\[1\] "ts" \(trade time\) "" is not a whole number of milliseconds$/);
  bad({ side: 'BUY' }, /^OKX trades data\[1\] "side" \(taker side\) "BUY" is not one of buy, sell$/);
  bad({ tradeId: undefined }, /^OKX trades data\[1\] "tradeId" \(trade id\) is missing$/);
  bad({ instId: 'BTCUSDT' }, /^OKX trades data\[1\] "instId" \(instrument\) "BTCUSDT" is not BASE-QUOTE$/);
  for (const count of ['0', '-1', '1.5', '', 'three', 0, 2.5])
    bad({ count }, /^OKX trades data\[1\] "count" \(fills aggregated\) .* is not a whole number of at least 1$/);
  t.throws(() => okx.parse('{"arg":{"channel":"trades","instId":"BTC-USDT"}}', 0), { code: 'TE_DECODE', message: /^OKX trades "data" \(trades\) is missing$/ });
});
