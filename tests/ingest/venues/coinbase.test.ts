// Coinbase: the recorded Exchange feed (match and last_match among l2update, ticker, snapshot and subscriptions), its
// maker-side rule checked against the feed's own ticker messages, Advanced Trade market_trades from the doc, and
// malformed trades rejected naming the field.
import t from 'tap';
import type { Side } from '../../../src/contracts/tick.js';
import { tickProblem } from '../../../src/contracts/validate.js';
import { coinbase } from '../../../src/ingest/venues/coinbase.js';
import type { VenueTrade } from '../../../src/ingest/venues/venue-adapter.js';
import { docMessages, recordedFrames, tradeFields as fields } from '../../helpers/venue-recordings.js';

const INGEST = 1_700_000_000_000_000;
const frames = recordedFrames('COINBASE.ws.28.0.gz');

/** ISO time → µs without the adapter's code: Date.parse for the whole seconds, the fraction's digits appended. */
const isoMicros = (iso: string) => Date.parse(iso.slice(0, 19) + 'Z') * 1000 + Number((/\.(\d+)Z$/.exec(iso)?.[1] ?? '').slice(0, 6).padEnd(6, '0'));

t.test('recorded Exchange feed: every match and last_match, field for field; the taker side from the ticker', async (t) => {
  // The independent reading: regexes over the raw text. The taker side comes from the `ticker` message the feed sent for
  // the same trade (the ticker's side is the taker's), not from the maker-side rule under test.
  const MATCH =
    /^\{"type":"(match|last_match)","trade_id":(\d+),"maker_order_id":"[^"]+","taker_order_id":"[^"]+","side":"(buy|sell)","size":"([\d.]+)","price":"([\d.]+)","product_id":"([A-Z]+-[A-Z]+)","sequence":\d+,"time":"([^"]+)"\}$/;
  const TICKER = /^\{"type":"ticker",.*"product_id":"([A-Z-]+)",.*"side":"(buy|sell)",.*"trade_id":(\d+),/;
  const takerSide = new Map<string, Side>();
  for (const f of frames) {
    const m = TICKER.exec(f.text);
    if (m) takerSide.set(`${m[1]}/${m[3]}`, m[2] === 'buy' ? 'BUY' : 'SELL');
  }
  const expected = frames.flatMap((f) => {
    const m = MATCH.exec(f.text);
    if (!m) return [];
    const side = takerSide.get(`${m[6]}/${m[2]}`);
    if (!side) throw new Error(`line ${f.line}: no ticker for trade ${m[2]}`);
    return [
      {
        venueSymbol: m[6]!,
        symbol: m[6]!,
        tradeId: m[2]!,
        price: Number(m[5]),
        size: Number(m[4]),
        side,
        eventTime: isoMicros(m[7]!),
        snapshot: m[1] === 'last_match',
      },
    ];
  });
  t.equal(expected.length, frames.filter((f) => /"type":"(last_)?match"/.test(f.text)).length, 'the regex finds every match message');
  t.equal(takerSide.size, 107, 'a ticker for each trade');

  const parsed: VenueTrade[] = [];
  let empty = 0;
  for (const f of frames) {
    const out = coinbase.parse(f.text, INGEST);
    if (!MATCH.test(f.text)) {
      t.same(out, [], `line ${f.line}: no trade`);
      empty++;
    }
    parsed.push(...out);
  }
  t.equal(parsed.length, 107, '107 trades (97 match, 10 last_match)');
  t.equal(empty, frames.length - 107, `the other ${frames.length - 107} frames give []`);
  t.same(fields(parsed), expected);
  for (const p of parsed) t.equal(tickProblem(p.tick), null, 'a plausible tick');
});

t.test('recorded messages, values written down by hand', async (t) => {
  const find = (s: string) => frames.find((f) => f.text.includes(s))!.text;
  // {"type":"last_match","trade_id":881613,...,"side":"sell","size":"0.04","price":"14.7775","product_id":"BAND-GBP",...,"time":"2021-04-17T16:43:30.244075Z"}
  t.same(fields(coinbase.parse(find('"type":"last_match","trade_id":881613'), INGEST)), [
    { venueSymbol: 'BAND-GBP', symbol: 'BAND-GBP', tradeId: '881613', price: 14.7775, size: 0.04, side: 'BUY', eventTime: 1618677810244075, snapshot: true },
  ]);
  // {"type":"match","trade_id":280232,...,"side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC",...,"time":"2021-04-17T16:43:37.089723Z"}
  t.same(fields(coinbase.parse(find('"type":"match","trade_id":280232'), INGEST)), [
    { venueSymbol: 'SKL-BTC', symbol: 'SKL-BTC', tradeId: '280232', price: 0.00001305, size: 985, side: 'BUY', eventTime: 1618677817089723, snapshot: false },
  ]);
  // {"type":"last_match","trade_id":82007,...,"side":"buy","size":"1008.2","price":"0.5752","product_id":"SKL-GBP",...,"time":"2021-04-17T16:43:29.571587Z"}
  t.same(fields(coinbase.parse(find('"type":"last_match","trade_id":82007'), INGEST)), [
    { venueSymbol: 'SKL-GBP', symbol: 'SKL-GBP', tradeId: '82007', price: 0.5752, size: 1008.2, side: 'SELL', eventTime: 1618677809571587, snapshot: true },
  ]);
});

t.test('Exchange feed: side is the maker’s, so the taker side is the opposite', async (t) => {
  const match = (side: string) =>
    JSON.stringify({ type: 'match', trade_id: 1, side, size: '1', price: '10', product_id: 'BTC-USD', sequence: 5, time: '2021-04-17T16:43:37.089723Z' });
  t.equal(coinbase.parse(match('sell'), 0)[0]!.tick.side, 'BUY', 'maker sold ⇒ taker bought');
  t.equal(coinbase.parse(match('buy'), 0)[0]!.tick.side, 'SELL', 'maker bought ⇒ taker sold');
  t.throws(() => coinbase.parse(match('BUY'), 0), { code: 'TE_DECODE', message: /^COINBASE match "side" \(maker side\) "BUY" is not one of buy, sell$/ });
});

t.test('Advanced Trade market_trades: the doc example and messages written to its schema', async (t) => {
  const [doc, update, heartbeat, subscriptions] = docMessages('coinbase-market_trades.json');
  t.same(fields(coinbase.parse(doc!.text, INGEST)), [
    { venueSymbol: 'ETH-USD', symbol: 'ETH-USD', tradeId: '000000000', price: 1260.01, size: 0.3, side: 'BUY', eventTime: 1565815347265000, snapshot: true },
  ]);
  t.same(fields(coinbase.parse(update!.text, INGEST)), [
    {
      venueSymbol: 'BTC-USD',
      symbol: 'BTC-USD',
      tradeId: '557733123',
      price: 21932.98,
      size: 0.00012345,
      side: 'SELL',
      eventTime: 1675973975987654,
      snapshot: false,
    },
    { venueSymbol: 'ETH-USD', symbol: 'ETH-USD', tradeId: '9', price: 1512.5, size: 1.5, side: 'BUY', eventTime: 1675973975000001, snapshot: false },
  ]);
  t.same(coinbase.parse(heartbeat!.text, INGEST), [], heartbeat!.from);
  t.same(coinbase.parse(subscriptions!.text, INGEST), [], subscriptions!.from);
  t.same(coinbase.parse('{"channel":"market_trades","events":[]}', 0), [], 'no events, no trades');
});

t.test('frames without a trade give [] and never throw', async (t) => {
  for (const frame of [
    '{"type":"heartbeat","last_trade_id":1,"product_id":"BTC-USD","sequence":1,"time":"2021-04-17T16:43:37.089723Z"}',
    '{"type":"error","message":"Failed to subscribe","reason":"BTC-XYZ is not a valid product"}',
    '{"type":"received","order_id":"x","side":"buy","size":"1","price":"1","product_id":"BTC-USD"}',
    '{"channel":"l2_data","events":[{"type":"update","product_id":"BTC-USD","updates":[]}]}',
    '{"channel":"ticker","events":[{"type":"snapshot","tickers":[{"product_id":"BTC-USD","price":"1"}]}]}',
    '[1,2]',
    'true',
  ])
    t.same(coinbase.parse(frame, 0), [], frame);
});

t.test('malformed trade messages: DecodeError naming the field', async (t) => {
  const trade = { trade_id: '1', product_id: 'BTC-USD', price: '100.5', size: '0.1', side: 'BUY', time: '2023-02-09T20:19:35.123456789Z' };
  const bad = (change: Record<string, unknown>, message: RegExp) => {
    const tr: Record<string, unknown> = { ...trade, ...change };
    for (const k of Object.keys(change)) if (change[k] === undefined) delete tr[k];
    const frame = JSON.stringify({ channel: 'market_trades', events: [{ type: 'update', trades: [trade, tr] }] });
    t.throws(() => coinbase.parse(frame, 0), { code: 'TE_DECODE', message }, frame);
  };
  const at = '^COINBASE market_trades events\\[0\\] trades\\[1\\]';
  bad({ price: undefined }, new RegExp(`${at} "price" \\(price\\) is missing$`));
  bad({ size: 'abc' }, new RegExp(`${at} "size" \\(size\\) "abc" is not a decimal number$`));
  bad({ size: '-0.1' }, new RegExp(`${at} "size" \\(size\\) "-0.1" is negative$`));
  bad({ time: '2023-02-09T20:19:35.1234567891Z' }, new RegExp(`${at} "time" \\(trade time\\) .* is not an ISO-8601 UTC time`));
  bad({ time: '2023-02-30T00:00:00Z' }, new RegExp(`${at} "time" \\(trade time\\) .* is not a date and time that exist$`));
  bad({ side: 'buy' }, new RegExp(`${at} "side" \\(taker side\\) "buy" is not one of BUY, SELL$`));
  bad({ trade_id: '' }, new RegExp(`${at} "trade_id" \\(trade id\\) "" is not a trade id`));
  bad({ product_id: 'BTCUSD' }, new RegExp(`${at} "product_id" \\(product\\) "BTCUSD" is not BASE-QUOTE$`));
  t.throws(() => coinbase.parse('{"channel":"market_trades","events":{}}', 0), {
    code: 'TE_DECODE',
    message: /^COINBASE market_trades "events" \(events\) is an object, not an array$/,
  });
  t.throws(() => coinbase.parse('{"channel":"market_trades","events":[{"type":"update"}]}', 0), {
    code: 'TE_DECODE',
    message: /^COINBASE market_trades events\[0\] "trades" \(trades\) is missing$/,
  });
  const match = { type: 'match', trade_id: 280232, side: 'sell', size: '985', price: '0.00001305', product_id: 'SKL-BTC', time: '2021-04-17T16:43:37.089723Z' };
  t.throws(() => coinbase.parse(JSON.stringify({ ...match, price: null }), 0), { code: 'TE_DECODE', message: /^COINBASE match "price" \(price\) is missing$/ });
  t.throws(() => coinbase.parse(JSON.stringify({ ...match, time: 1618677817 }), 0), {
    code: 'TE_DECODE',
    message: /^COINBASE match "time" \(trade time\) 1618677817 is not/,
  });
  t.throws(() => coinbase.parse(JSON.stringify({ ...match, trade_id: 1.5 }), 0), {
    code: 'TE_DECODE',
    message: /^COINBASE match "trade_id" \(trade id\) 1\.5 is not a trade id/,
  });
  t.throws(() => coinbase.parse('{"type":"match"', 0), { code: 'TE_DECODE', message: /^COINBASE frame is not JSON/ });
});
