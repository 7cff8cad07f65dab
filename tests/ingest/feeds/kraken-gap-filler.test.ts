// Kraken's trade history as a gap filler: the pair's REST name and request URLs, the doc's example answers, malformed
// answers rejected naming the element, and the search by time: from the trade before the hole, stepping back when the
// time it starts from is past the hole. Against the Kraken stand-in's REST history (127.0.0.1).
import t, { type Test as Tap } from 'tap';
import { tickProblem } from '../../../src/contracts/validate.js';
import { KrakenGapFiller, krakenPair, krakenTradesUrl, parseKrakenTrades } from '../../../src/ingest/feeds/kraken-gap-filler.js';
import { HistoryClient } from '../../../src/ingest/feeds/history-client.js';
import { docMessages } from '../../helpers/venue-recordings.js';
import { VenueStandin, type ListedTrade } from '../../../src/standins/venue-standin.js';
import { tradeList } from '../../../src/standins/trade-list.js';

const INGEST = 1_700_000_000_000_000;
const doc = docMessages('kraken-rest-trades.json');
const answer = (from: string) => doc.find((m) => m.from.startsWith(from))!.text;

t.test("pairs by Kraken's REST names; since in ns; up to 1000 a page", async (t) => {
  t.equal(krakenPair('BTC/USD'), 'XBTUSD');
  t.equal(krakenPair('DOGE/BTC'), 'XDGXBT');
  t.equal(krakenPair('ETH/USDT'), 'ETHUSDT');
  t.equal(krakenTradesUrl('XBTUSD', 1688669597827736000n), 'https://api.kraken.com/0/public/Trades?pair=XBTUSD&since=1688669597827736000&count=1000');
  t.equal(krakenTradesUrl('ETHUSD', 0n, 5, 'http://127.0.0.1:9'), 'http://127.0.0.1:9/0/public/Trades?pair=ETHUSD&since=0&count=5');
});

t.test("the doc's example answer: trade ids as the 7th element, times in seconds to µs, b/s the taker's side", async (t) => {
  const { trades, last } = parseKrakenTrades(answer('doc example'), 'BTC/USD', INGEST);
  t.equal(last, 1688671969993150842n, 'the cursor, exactly (past 2^53)');
  t.same(
    trades.map((x) => x.tick),
    [
      {
        venue: 'KRAKEN',
        symbol: 'BTC-USD',
        eventTime: 1688669597827736,
        price: 30243.4,
        size: 0.34507674,
        side: 'BUY',
        tradeId: '61044952',
        ingestTime: INGEST,
      },
      {
        venue: 'KRAKEN',
        symbol: 'BTC-USD',
        eventTime: 1688669598280411,
        price: 30243.3,
        size: 0.0037696,
        side: 'SELL',
        tradeId: '61044953',
        ingestTime: INGEST,
      },
      {
        venue: 'KRAKEN',
        symbol: 'BTC-USD',
        eventTime: 1688669602698379,
        price: 30243.3,
        size: 0.01235716,
        side: 'SELL',
        tradeId: '61044956',
        ingestTime: INGEST,
      },
    ],
  );
  t.ok(trades.every((x) => x.venueSymbol === 'BTC/USD' && x.snapshot));
  for (const x of trades) t.equal(tickProblem({ ...x.tick, ingestTime: x.tick.eventTime }), null, 'a plausible tick');
});

t.test('malformed answers: DecodeError naming the element; an answer without trade ids (before 2023) cannot fill a hole', async (t) => {
  t.throws(() => parseKrakenTrades(answer('support article'), 'BTC/USD', 0), {
    code: 'TE_DECODE',
    message: /^KRAKEN Trades XXBTZUSD\[0\] "trade_id" \(trade id \(element 7\)\) is missing$/,
  });
  t.throws(() => parseKrakenTrades(answer('written to the documented schema: an error'), 'BTC/USD', 0), {
    code: 'TE_DECODE',
    message: /^KRAKEN Trades answer has errors: "EQuery:Unknown asset pair"$/,
  });
  t.throws(() => parseKrakenTrades('<html>', 'BTC/USD', 0), { code: 'TE_DECODE', message: /not JSON/ });
  const good = ['1.5', '2', 1_700_000_000.5, 'b', 'm', '', 7];
  const bad = (item: unknown[], message: RegExp, extra: Record<string, unknown> = {}) =>
    t.throws(
      () => parseKrakenTrades(JSON.stringify({ error: [], result: { XXBTZUSD: [good, item], last: '1', ...extra } }), 'BTC/USD', 0),
      { code: 'TE_DECODE', message },
      JSON.stringify(item),
    );
  bad(['-1', '2', 1, 'b', 'm', '', 8], /^KRAKEN Trades XXBTZUSD\[1\] "price" \(price\) "-1" is negative$/);
  bad(['1', '2', 'soon', 'b', 'm', '', 8], /^KRAKEN Trades XXBTZUSD\[1\] "time" \(trade time\) "soon" is not a decimal number of seconds$/);
  bad(['1', '2', 1e21, 'b', 'm', '', 8], /"time" \(trade time\) "1e\+21" is not a decimal number of seconds$/);
  bad(['1', '2', 1, 'x', 'm', '', 8], /"side" \(taker side\) "x" is not one of b, s$/);
  bad(['1', '2', 1, 'b', 'm', '', 'abc'], /^KRAKEN Trades XXBTZUSD\[1\] trade id "abc" is not a decimal number$/);
  bad(['1', '2', 1, 'b', 'm', '', 2 ** 60], /"trade_id" \(trade id \(element 7\)\) .* is not a trade id/);
  bad(good, /holds 2 pairs, not one/, { XETHZUSD: [] });
  bad(good, /"last" \(cursor\) "x" is not a nanosecond time/, { last: 'x' });
});

const timeUs = (list: ListedTrade[], id: number) => list.find((x) => Number(x.tradeId) === id)!.timeMs * 1000;

async function standin(t: Tap, list: ListedTrade[]) {
  const s = await VenueStandin.start('KRAKEN');
  t.teardown(() => s.close());
  s.setHistory(list);
  const client = new HistoryClient({ venue: 'KRAKEN-TEST', spacingMs: 0 });
  return { s, filler: new KrakenGapFiller({ get: client.get, base: s.restUrl }) };
}

t.test('from the trade before the hole (less a second), along `last`, until past the hole: exactly its ids, once', async (t) => {
  const list = tradeList(['BTC/USD', 'ETH/USD'], { count: 3000, seed: 3 });
  const { s, filler } = await standin(t, list);
  const got = await filler.fill('BTC/USD', '1500', '3700', { afterMicros: timeUs(list, 1499), beforeMicros: timeUs(list, 3701) });
  t.same(
    got.map((x) => Number(x.tick.tradeId)),
    Array.from({ length: 2201 }, (_, i) => 1500 + i),
    'ids 1500…3700, once, oldest first',
  );
  t.ok(got.every((x) => x.venueSymbol === 'BTC/USD' && x.tick.symbol === 'BTC-USD'));
  const want = list.find((x) => x.venueSymbol === 'BTC/USD' && x.tradeId === '2222')!;
  t.match(got.find((x) => x.tick.tradeId === '2222')!.tick, {
    eventTime: want.timeMs * 1000,
    price: Number(want.price),
    size: Number(want.size),
    side: want.side,
  });
  const sinces = s.restRequests.map((r) => new URL(r.path, 'http://x').searchParams.get('since'));
  t.equal(sinces[0], String(BigInt(timeUs(list, 1499) - 1_000_000) * 1000n), 'the first request starts a second before the trade before the hole');
  t.equal(s.restRequests.length, 3, 'three pages of up to 1000 (1450…2449, 2450…3449, 3450…4000)');
  t.ok(s.restRequests.every((r) => r.path.includes('pair=XBTUSD')));
});

t.test('without the time before the hole: a minute before the trade after it, stepping back while the page starts past the hole', async (t) => {
  const list = tradeList(['BTC/USD'], { count: 3000, seed: 4 });
  const { s, filler } = await standin(t, list);
  // As if the trade after the hole were 65 s later than it is: the first page starts 5 s past it.
  const got = await filler.fill('BTC/USD', '1100', '1120', { beforeMicros: timeUs(list, 1121) + 65_000_000 });
  t.same(
    got.map((x) => x.tick.tradeId),
    Array.from({ length: 21 }, (_, i) => String(1100 + i)),
  );
  const firstIds = s.restRequests.map((r) => r.path);
  t.equal(firstIds.length, 2, 'one page past the hole, one a minute earlier that holds it');
});

t.test('a hole the history does not hold: what it has, and no endless paging', async (t) => {
  const list = tradeList(['BTC/USD'], { count: 50, seed: 5 }).filter((x) => x.tradeId !== '1030');
  const { s, filler } = await standin(t, list);
  const got = await filler.fill('BTC/USD', '1029', '1031', { afterMicros: timeUs(list, 1028) });
  t.same(
    got.map((x) => x.tick.tradeId),
    ['1029', '1031'],
  );
  t.equal(s.restRequests.length, 1, 'a short page is the end');
});
