// OKX's trade history as a gap filler: the request URLs, the doc's example answer, malformed and error answers
// rejected naming the field, and paging down by trade id from the hole's end, against the OKX stand-in (127.0.0.1).
import t from 'tap';
import { tickProblem } from '../../../src/contracts/validate.js';
import { HistoryClient } from '../../../src/ingest/feeds/history-client.js';
import { OkxGapFiller, okxHistoryUrl, parseOkxHistory } from '../../../src/ingest/feeds/okx-gap-filler.js';
import { docMessages } from '../../helpers/venue-recordings.js';
import { VenueStandin } from '../../../src/standins/venue-standin.js';
import { tradeList } from '../../../src/standins/trade-list.js';

const INGEST = 1_700_000_000_000_000;
const doc = docMessages('okx-rest-history-trades.json');
const answer = (from: string) => doc.find((m) => m.from.startsWith(from))!.text;

t.test('request URLs: type=1 (by trade id), after = below this id, 100 a page', async (t) => {
  t.equal(okxHistoryUrl('BTC-USDT', '242720721'), 'https://www.okx.com/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=242720721&limit=100');
  t.equal(
    okxHistoryUrl('BTC-USD-SWAP', '5', 10, 'http://127.0.0.1:9'),
    'http://127.0.0.1:9/api/v5/market/history-trades?instId=BTC-USD-SWAP&type=1&after=5&limit=10',
  );
});

t.test("the doc's example answer, parsed as the WebSocket adapter parses the same trades", async (t) => {
  const trades = parseOkxHistory(answer('doc example'), INGEST);
  t.same(trades, [
    {
      venueSymbol: 'BTC-USDT',
      snapshot: true,
      tick: {
        venue: 'OKX',
        symbol: 'BTC-USDT',
        eventTime: 1654161646974000,
        price: 29963.2,
        size: 0.00001,
        side: 'SELL',
        tradeId: '242720720',
        ingestTime: INGEST,
      },
    },
    {
      venueSymbol: 'BTC-USDT',
      snapshot: true,
      tick: {
        venue: 'OKX',
        symbol: 'BTC-USDT',
        eventTime: 1654161641568000,
        price: 29964.1,
        size: 0.00001,
        side: 'SELL',
        tradeId: '242720719',
        ingestTime: INGEST,
      },
    },
  ]);
  for (const x of trades) t.equal(tickProblem({ ...x.tick, ingestTime: x.tick.eventTime }), null, 'a plausible tick');
  const withCount = JSON.parse(answer('doc example')) as { data: Record<string, string>[] };
  withCount.data[0]!.count = '3';
  t.equal(parseOkxHistory(JSON.stringify(withCount), 0)[0]!.idSpan, 3, 'a count, were one there, is the idSpan as on the WebSocket');
});

t.test('malformed and error answers: DecodeError naming the field', async (t) => {
  t.throws(() => parseOkxHistory(answer('written to the documented schema: an error'), 0), {
    code: 'TE_DECODE',
    message: /^OKX history-trades answer is an error: code "51001" "Instrument ID does not exist"$/,
  });
  t.throws(() => parseOkxHistory('[]', 0), { code: 'TE_DECODE', message: /not an object/ });
  const good = { instId: 'BTC-USDT', side: 'buy', sz: '1', source: '0', px: '2', tradeId: '7', ts: '1700000000000' };
  const bad = (change: Record<string, unknown>, message: RegExp) =>
    t.throws(
      () => parseOkxHistory(JSON.stringify({ code: '0', msg: '', data: [good, { ...good, ...change }] }), 0),
      { code: 'TE_DECODE', message },
      JSON.stringify(change),
    );
  bad({ tradeId: undefined }, /^OKX history-trades data\[1\] "tradeId" \(trade id\) is missing$/);
  bad({ tradeId: 'x1' }, /^OKX history-trades data\[1\] trade id "x1" is not a decimal number$/);
  bad({ px: '-2' }, /"px" \(price\) "-2" is negative$/);
  bad({ side: 'BUY' }, /"side" \(taker side\) "BUY" is not one of buy, sell$/);
  bad({ ts: 'now' }, /"ts" \(trade time\)/);
  bad({ count: '0' }, /"count" \(fills aggregated\) "0" is not a whole number of at least 1$/);
});

t.test('fill: pages down from the hole end to its start, exactly its ids once; the history lacking some: what it has', async (t) => {
  const list = tradeList(['BTC-USDT', 'ETH-USDT'], { count: 400, seed: 6 });
  const s = await VenueStandin.start('OKX');
  t.teardown(() => s.close());
  s.setHistory(list);
  const client = new HistoryClient({ venue: 'OKX-TEST', spacingMs: 0 });
  const filler = new OkxGapFiller({ get: client.get, base: s.restUrl });
  const got = await filler.fill('ETH-USDT', '1050', '1300');
  t.same(
    got.map((x) => Number(x.tick.tradeId)).sort((a, b) => a - b),
    Array.from({ length: 251 }, (_, i) => 1050 + i),
    'ids 1050…1300, once each',
  );
  t.ok(got.every((x) => x.venueSymbol === 'ETH-USDT'));
  const want = list.find((x) => x.venueSymbol === 'ETH-USDT' && x.tradeId === '1111')!;
  t.match(got.find((x) => x.tick.tradeId === '1111')!.tick, {
    eventTime: want.timeMs * 1000,
    price: Number(want.price),
    size: Number(want.size),
    side: want.side,
  });
  t.same(
    s.restRequests.map((r) => new URL(r.path, 'http://x').searchParams.get('after')),
    ['1301', '1201', '1101'],
    'after the hole end + 1, then after the lowest id of each page',
  );

  s.setHistory(list.filter((x) => x.tradeId !== '1002'));
  const short = await filler.fill('BTC-USDT', '1001', '1003');
  t.same(short.map((x) => x.tick.tradeId).sort(), ['1001', '1003'], 'a missing trade is simply absent (the sequencer gives it up)');
});
