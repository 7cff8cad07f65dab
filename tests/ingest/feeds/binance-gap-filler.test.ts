// Binance's trade history as a gap filler: the request URLs, the doc's example answers parsed, paging over a hole
// against a fake history (no network), and malformed answers rejected naming the field.
import t from 'tap';
import { tickProblem } from '../../../src/contracts/validate.js';
import { BinanceGapFiller, binanceHistoryUrl, parseBinanceHistory } from '../../../src/ingest/feeds/binance-gap-filler.js';
import { docMessages } from '../../helpers/venue-recordings.js';

const INGEST = 1_700_000_000_000_000;
const doc = docMessages('binance-rest-history.json');
const answer = (from: string) => doc.find((m) => m.from.startsWith(from))!.text;

t.test('request URLs: historicalTrades for trade ids, aggTrades for aggregate ids, fromId included, 1000 a page', async (t) => {
  t.equal(binanceHistoryUrl('trade', 'BTCUSDT', '3220151555'), 'https://api.binance.com/api/v3/historicalTrades?symbol=BTCUSDT&fromId=3220151555&limit=1000');
  t.equal(binanceHistoryUrl('aggTrade', 'BNBBTC', '26129', 500), 'https://api.binance.com/api/v3/aggTrades?symbol=BNBBTC&fromId=26129&limit=500');
  t.equal(binanceHistoryUrl('trade', 'BTCUSDT', '1', 10, 'http://127.0.0.1:9'), 'http://127.0.0.1:9/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1&limit=10');
});

t.test("the doc's example answers, parsed as the WebSocket adapter parses the same trades", async (t) => {
  t.same(parseBinanceHistory('trade', answer('doc example: GET /api/v3/historicalTrades'), 'BNBBTC', INGEST), [
    {
      venueSymbol: 'BNBBTC',
      snapshot: true,
      tick: { venue: 'BINANCE', symbol: 'BNB-BTC', eventTime: 1499865549590000, price: 4.000001, size: 12, side: 'SELL', tradeId: '28457', ingestTime: INGEST },
    },
  ]);
  t.same(parseBinanceHistory('aggTrade', answer('doc example: GET /api/v3/aggTrades'), 'BNBBTC', INGEST), [
    {
      venueSymbol: 'BNBBTC',
      snapshot: true,
      tick: {
        venue: 'BINANCE',
        symbol: 'BNB-BTC',
        eventTime: 1498793709153000,
        price: 0.01633102,
        size: 4.70443515,
        side: 'SELL',
        tradeId: '26129',
        ingestTime: INGEST,
      },
    },
  ]);
  for (const p of parseBinanceHistory('trade', answer('doc example: GET /api/v3/historicalTrades'), 'BNBBTC', INGEST))
    t.equal(tickProblem({ ...p.tick, eventTime: 1_700_000_000_000_000 }), null, 'a plausible tick (the doc dates it 2017)');
  t.same(
    parseBinanceHistory(
      'trade',
      JSON.stringify([{ id: 1, price: '1', qty: '1', quoteQty: '1', time: 1, isBuyerMaker: false, isBestMatch: true }]),
      'BTCUSDT',
      0,
    )[0]!.tick.side,
    'BUY',
    'isBuyerMaker false: the taker bought',
  );
});

t.test("the doc's tickers: a symbol's trade ids are consecutive (count = lastId − firstId + 1)", async (t) => {
  for (const from of ['doc example: GET /api/v3/ticker/24hr', 'doc example: GET /api/v3/ticker/tradingDay']) {
    const { firstId, lastId, count } = JSON.parse(answer(from)) as { firstId: number; lastId: number; count: number };
    t.equal(lastId - firstId + 1, count, `${from}: ${firstId}…${lastId}, ${count} trades`);
  }
});

t.test('malformed answers: DecodeError naming the item and field', async (t) => {
  t.throws(() => parseBinanceHistory('trade', answer('written to the documented schema: an error'), 'BTCUSDT', 0), {
    code: 'TE_DECODE',
    message: /^BINANCE historicalTrades answer is not a list of trades: .*-1121,.*Invalid symbol/,
  });
  t.throws(() => parseBinanceHistory('trade', '<html>', 'BTCUSDT', 0), { code: 'TE_DECODE', message: /^BINANCE historicalTrades answer is not JSON/ });
  const good = { id: 7, price: '1.5', qty: '2', quoteQty: '3', time: 1_700_000_000_000, isBuyerMaker: true, isBestMatch: true };
  const bad = (change: Record<string, unknown>, message: RegExp) =>
    t.throws(
      () => parseBinanceHistory('trade', JSON.stringify([good, { ...good, ...change }]), 'BTCUSDT', 0),
      { code: 'TE_DECODE', message },
      JSON.stringify(change),
    );
  bad({ id: undefined }, /^BINANCE historicalTrades\[1\] "id" \(trade id\) is missing$/);
  bad({ id: 'abc' }, /^BINANCE historicalTrades\[1\] trade id "abc" is not a decimal number$/);
  bad({ price: '-1' }, /^BINANCE historicalTrades\[1\] "price" \(price\) "-1" is negative$/);
  bad({ time: 'soon' }, /^BINANCE historicalTrades\[1\] "time" \(trade time\)/);
  bad({ isBuyerMaker: 'yes' }, /^BINANCE historicalTrades\[1\] "isBuyerMaker" \(buyer is maker\) "yes" is not true or false$/);
  t.throws(() => parseBinanceHistory('aggTrade', JSON.stringify([{ p: '1', q: '1', T: 1, m: true }]), 'BTCUSDT', 0), {
    code: 'TE_DECODE',
    message: /^BINANCE aggTrades\[0\] "a" \(aggregate trade id\) is missing$/,
  });
});

/** A fake Binance history of trade ids first..last (some missing), answering pages as the real one does. */
function fakeHistory(first: number, last: number, missing: ReadonlySet<number> = new Set()) {
  const urls: string[] = [];
  const get = async (url: string) => {
    urls.push(url);
    const q = new URL(url).searchParams;
    const from = Number(q.get('fromId'));
    const limit = Number(q.get('limit'));
    const page = [];
    for (let id = Math.max(from, first); id <= last && page.length < limit; id++)
      if (!missing.has(id)) page.push({ id, price: '1', qty: '1', quoteQty: '1', time: 1_700_000_000_000 + id, isBuyerMaker: id % 2 === 0, isBestMatch: true });
    return { body: JSON.stringify(page), header: () => undefined };
  };
  return { urls, get };
}

t.test('fill: pages from the hole start until its end is covered, keeps only the hole, stops at a short page', async (t) => {
  const h = fakeHistory(1, 100_000);
  const filler = new BinanceGapFiller({ kind: 'trade', get: h.get, limit: 1000, nowMicros: () => INGEST });
  const trades = await filler.fill('BTCUSDT', '1500', '3700');
  t.same(
    trades.map((x) => Number(x.tick.tradeId)),
    Array.from({ length: 2201 }, (_, i) => 1500 + i),
    'every id of the hole, once, in order',
  );
  t.same(
    h.urls.map((u) => new URL(u).searchParams.get('fromId')),
    ['1500', '2500', '3500'],
    'three pages of 1000',
  );
  t.ok(trades.every((x) => x.tick.ingestTime === INGEST && x.snapshot));

  const end = fakeHistory(1, 2100);
  t.same((await new BinanceGapFiller({ kind: 'trade', get: end.get }).fill('BTCUSDT', '2000', '5000')).length, 101, 'the history ends at 2100: what it has');
  t.equal(end.urls.length, 1, 'a short page ends the asking');

  const holey = fakeHistory(1, 50, new Set([10, 11]));
  t.same(
    (await new BinanceGapFiller({ kind: 'trade', get: holey.get, limit: 5 }).fill('BTCUSDT', '8', '14')).map((x) => x.tick.tradeId),
    ['8', '9', '12', '13', '14'],
    'ids the history lacks are simply absent (the sequencer gives them up)',
  );
  await t.rejects(
    new BinanceGapFiller({ kind: 'trade', get: () => Promise.reject(new Error('HTTP 429')) }).fill('BTCUSDT', '1', '2'),
    /HTTP 429/,
    'a failed request fails the attempt',
  );
});
