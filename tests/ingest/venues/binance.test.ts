// Binance: the recorded combined stream (aggTrade among depth, bookTicker and kline frames), the doc's trade event,
// the `m` rule (buyer is maker ⇒ the taker sold), and malformed trades rejected naming the field.
import t from 'tap';
import type { Side } from '../../../src/contracts/tick.js';
import { tickProblem } from '../../../src/contracts/validate.js';
import { binance } from '../../../src/ingest/venues/binance.js';
import { docMessages, recordedFrames } from '../../helpers/venue-recordings.js';

const INGEST = 1_700_000_000_000_000;
const frames = recordedFrames('BINANCE.ws.1.0.gz');

/** The fields the tests compare, in a form that prints well. */
const fields = (trades: ReturnType<typeof binance.parse>) =>
  trades.map(({ tick, venueSymbol }) => ({
    venueSymbol,
    symbol: tick.symbol,
    tradeId: tick.tradeId,
    price: tick.price,
    size: tick.size,
    side: tick.side,
    eventTime: tick.eventTime,
  }));

t.test('recorded session: the trades parsed are exactly the aggTrade events, field for field', async (t) => {
  // The independent reading: a regex over the raw text (no JSON.parse, no adapter code), `m` read from the doc's rule.
  const AGG = /"e":"aggTrade","E":\d+,"s":"([A-Z]+)","a":(\d+),"p":"([\d.]+)","q":"([\d.]+)","f":\d+,"l":\d+,"T":(\d+),"m":(true|false)/;
  const expected: { venueSymbol: string; tradeId: string; price: number; size: number; side: Side; eventTime: number }[] = [];
  for (const f of frames) {
    const m = AGG.exec(f.text);
    if (m)
      expected.push({
        venueSymbol: m[1]!,
        tradeId: m[2]!,
        price: Number(m[3]),
        size: Number(m[4]),
        side: m[6] === 'true' ? 'SELL' : 'BUY',
        eventTime: Number(m[5]) * 1000,
      });
  }
  t.equal(expected.length, frames.filter((f) => /"e":"(aggTrade|trade)"/.test(f.text)).length, 'the regex finds every trade event of the recording');

  const parsed = [];
  let empty = 0;
  for (const f of frames) {
    const out = binance.parse(f.text, INGEST);
    if (!/"e":"(aggTrade|trade)"/.test(f.text)) {
      t.same(out, [], `line ${f.line}: no trade`);
      empty++;
    }
    parsed.push(...out);
  }
  t.equal(parsed.length, 2, '2 trades in 265 frames');
  t.equal(empty, 263, 'the 263 depth, bookTicker and kline frames give []');
  t.same(
    fields(parsed).map(({ venueSymbol, tradeId, price, size, side, eventTime }) => ({ venueSymbol, tradeId, price, size, side, eventTime })),
    expected,
  );
  for (const p of parsed) {
    t.equal(p.tick.venue, 'BINANCE');
    t.equal(p.tick.ingestTime, INGEST);
    t.equal(p.snapshot, false);
    t.equal(tickProblem(p.tick), null, 'a plausible tick');
  }
});

t.test('recorded messages, values written down by hand', async (t) => {
  // {"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000",...,"T":1633998523963,"m":false,"M":true}}
  const nkn = frames.find((f) => f.text.includes('"a":15683430'))!;
  t.same(fields(binance.parse(nkn.text, INGEST)), [
    { venueSymbol: 'NKNUSDT', symbol: 'NKN-USDT', tradeId: '15683430', price: 0.3528, size: 58, side: 'BUY', eventTime: 1633998523963000 },
  ]);
  // {"stream":"lrcbtc@aggTrade","data":{"e":"aggTrade","E":1633998534486,"s":"LRCBTC","a":9213679,"p":"0.00000638","q":"177.00000000",...,"T":1633998534486,"m":false,"M":true}}
  const lrc = frames.find((f) => f.text.includes('"a":9213679'))!;
  t.same(fields(binance.parse(lrc.text, INGEST)), [
    { venueSymbol: 'LRCBTC', symbol: 'LRC-BTC', tradeId: '9213679', price: 0.00000638, size: 177, side: 'BUY', eventTime: 1633998534486000 },
  ]);
});

t.test('the doc trade event, raw and in the combined-stream wrapper', async (t) => {
  const [raw, combined] = docMessages('binance-trade.json');
  const want = [{ venueSymbol: 'BNBBTC', symbol: 'BNB-BTC', tradeId: '12345', price: 0.001, size: 100, side: 'SELL', eventTime: 123456785000 }];
  t.same(fields(binance.parse(raw!.text, INGEST)), want, raw!.from);
  t.same(fields(binance.parse(combined!.text, INGEST)), want, combined!.from);
});

t.test('the m rule: buyer is maker ⇒ the taker sold ⇒ SELL; otherwise BUY', async (t) => {
  const event = (e: 'trade' | 'aggTrade', m: boolean) =>
    JSON.stringify({ e, E: 1, s: 'BTCUSDT', t: 7, a: 7, p: '100', q: '1', T: 1_700_000_000_000, m, M: true });
  for (const e of ['trade', 'aggTrade'] as const) {
    t.equal(binance.parse(event(e, true), 0)[0]!.tick.side, 'SELL', `${e} m:true`);
    t.equal(binance.parse(event(e, false), 0)[0]!.tick.side, 'BUY', `${e} m:false`);
  }
});

t.test('frames without a trade give [] and never throw', async (t) => {
  for (const frame of [
    '{"result":null,"id":1}',
    '{"code":2,"msg":"Invalid request: unknown variable"}',
    '{"e":"24hrTicker","s":"BTCUSDT"}',
    '{"stream":"btcusdt@kline_1m","data":{"e":"kline","s":"BTCUSDT","k":{}}}',
    '{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}',
    '[]',
    'null',
    '42',
    '"trade"',
  ])
    t.same(binance.parse(frame, 0), [], frame);
});

t.test('malformed trade messages: DecodeError naming the field', async (t) => {
  const good = { e: 'trade', E: 1, s: 'BTCUSDT', t: 12345, p: '0.001', q: '100', T: 1_700_000_000_000, m: true, M: true };
  const bad = (change: Record<string, unknown>, message: RegExp, combined = false) => {
    const event: Record<string, unknown> = { ...good, ...change };
    for (const k of Object.keys(change)) if (change[k] === undefined) delete event[k];
    const frame = JSON.stringify(combined ? { stream: 'btcusdt@trade', data: event } : event);
    t.throws(() => binance.parse(frame, 0), { name: 'DecodeError', code: 'TE_DECODE', message }, frame);
  };
  bad({ p: undefined }, /^BINANCE trade "p" \(price\) is missing$/);
  bad({ p: '' }, /^BINANCE trade "p" \(price\) "" is not a decimal number$/);
  bad({ q: 'abc' }, /^BINANCE trade "q" \(quantity\) "abc" is not a decimal number$/);
  bad({ q: '-1.5' }, /^BINANCE trade "q" \(quantity\) "-1.5" is negative$/);
  bad({ q: '1e3' }, /^BINANCE trade "q" \(quantity\) "1e3" is not a decimal number$/, true);
  bad({ T: 'yesterday' }, /^BINANCE trade "T" \(trade time\) "yesterday" is not a whole number of milliseconds$/);
  bad({ T: 1.5 }, /^BINANCE trade "T" \(trade time\) 1\.5 is not a whole number of milliseconds$/);
  bad({ m: 'true' }, /^BINANCE trade "m" \(buyer is maker\) "true" is not true or false$/);
  bad({ t: undefined }, /^BINANCE trade "t" \(trade id\) is missing$/);
  bad({ t: 2 ** 60 }, /^BINANCE trade "t" \(trade id\) .* is not a trade id/);
  bad({ s: 'BTCXYZ' }, /^BINANCE trade "s" \(symbol\) "BTCXYZ" does not end in a known quote asset/);
  bad({ e: 'aggTrade', a: undefined }, /^BINANCE aggTrade "a" \(aggregate trade id\) is missing$/);
  t.throws(() => binance.parse('not json', 0), { code: 'TE_DECODE', message: /^BINANCE frame is not JSON/ });
});
