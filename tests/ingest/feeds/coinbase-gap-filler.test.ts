// Coinbase's (Exchange API) trade history as a gap filler: the request URLs, the doc's example answer with its maker
// side flipped, malformed and error answers rejected, and paging down along CB-AFTER, against the Coinbase stand-in.
import t from 'tap';
import { tickProblem } from '../../../src/contracts/validate.js';
import { CoinbaseGapFiller, coinbaseTradesUrl, parseCoinbaseTrades } from '../../../src/ingest/feeds/coinbase-gap-filler.js';
import { HistoryClient } from '../../../src/ingest/feeds/history-client.js';
import { docMessages } from '../../helpers/venue-recordings.js';
import { VenueStandin } from '../../../src/standins/venue-standin.js';
import { tradeList } from '../../../src/standins/trade-list.js';

const INGEST = 1_700_000_000_000_000;
const doc = docMessages('coinbase-rest-trades.json');
const answer = (from: string) => doc.find((m) => m.from.startsWith(from))!.text;

t.test('request URLs: after = older than this id, 1000 a page', async (t) => {
  t.equal(coinbaseTradesUrl('BTC-USD', '86327328'), 'https://api.exchange.coinbase.com/products/BTC-USD/trades?after=86327328&limit=1000');
  t.equal(coinbaseTradesUrl('ETH-EUR', '5', 10, 'http://127.0.0.1:9'), 'http://127.0.0.1:9/products/ETH-EUR/trades?after=5&limit=10');
});

t.test("the doc's example answer: the maker's side 'sell' is a taker BUY (an up-tick)", async (t) => {
  const trades = parseCoinbaseTrades(answer('doc example'), 'BTC-USD', INGEST);
  t.same(trades, [
    {
      venueSymbol: 'BTC-USD',
      snapshot: true,
      tick: {
        venue: 'COINBASE',
        symbol: 'BTC-USD',
        eventTime: 1584664619860000,
        price: 6225.32,
        size: 0.06469797,
        side: 'BUY',
        tradeId: '86327327',
        ingestTime: INGEST,
      },
    },
  ]);
  t.equal(tickProblem({ ...trades[0]!.tick, ingestTime: trades[0]!.tick.eventTime }), null, 'a plausible tick');
});

t.test('malformed and error answers: DecodeError naming the item and field', async (t) => {
  t.throws(() => parseCoinbaseTrades(answer('written to the documented schema: an error'), 'BTC-USD', 0), {
    code: 'TE_DECODE',
    message: /^COINBASE products\/BTC-USD\/trades answer is not a list of trades: .*NotFound/,
  });
  const good = { time: '2024-01-01T00:00:00.123456Z', trade_id: 7, price: '1', size: '2', side: 'buy' };
  const bad = (change: Record<string, unknown>, message: RegExp) =>
    t.throws(() => parseCoinbaseTrades(JSON.stringify([good, { ...good, ...change }]), 'BTC-USD', 0), { code: 'TE_DECODE', message }, JSON.stringify(change));
  bad({ trade_id: undefined }, /^COINBASE products\/BTC-USD\/trades\[1\] "trade_id" \(trade id\) is missing$/);
  bad({ trade_id: 'abc' }, /^COINBASE products\/BTC-USD\/trades\[1\] trade id "abc" is not a decimal number$/);
  bad({ side: 'BUY' }, /"side" \(maker side\) "BUY" is not one of buy, sell$/);
  bad({ time: '2024-02-30T00:00:00Z' }, /"time" \(trade time\)/);
  bad({ size: '1e3' }, /"size" \(size\) "1e3"/);
});

t.test('fill: pages down along CB-AFTER from the hole end to its start, exactly its ids once', async (t) => {
  const list = tradeList(['BTC-USD', 'ETH-USD'], { count: 3000, seed: 7 });
  const s = await VenueStandin.start('COINBASE');
  t.teardown(() => s.close());
  s.setHistory(list);
  const client = new HistoryClient({ venue: 'COINBASE-TEST', spacingMs: 0 });
  const filler = new CoinbaseGapFiller({ get: client.get, base: s.restUrl });
  const got = await filler.fill('BTC-USD', '1200', '3500');
  t.same(
    got.map((x) => Number(x.tick.tradeId)).sort((a, b) => a - b),
    Array.from({ length: 2301 }, (_, i) => 1200 + i),
    'ids 1200…3500, once each',
  );
  const want = list.find((x) => x.venueSymbol === 'BTC-USD' && x.tradeId === '2345')!;
  t.match(got.find((x) => x.tick.tradeId === '2345')!.tick, {
    eventTime: want.timeMs * 1000,
    price: Number(want.price),
    size: Number(want.size),
    side: want.side,
  });
  t.same(
    s.restRequests.map((r) => new URL(r.path, 'http://x').searchParams.get('after')),
    ['3501', '2501', '1501'],
    'after the hole end + 1, then the CB-AFTER of each page',
  );
});
