// Tick and quote plausibility checks.
import t from 'tap';
import type { Quote } from '../../src/contracts/quote.js';
import type { Tick } from '../../src/contracts/tick.js';
import { assertTick, quoteFieldProblem, tickFieldProblem, tickProblem } from '../../src/contracts/validate.js';

const good: Tick = {
  venue: 'SIM',
  symbol: 'ETH-USD',
  eventTime: 1_704_067_200_000_000,
  price: 3100.5,
  size: 0.5,
  side: 'BUY',
  tradeId: '1',
  ingestTime: 1_704_067_200_000_100,
};

t.equal(tickProblem(good), null);
t.equal(tickProblem({ ...good, price: 1e15, size: 1e15 }), null, 'the largest price and size pass');
t.equal(tickProblem({ ...good, price: Number.MIN_VALUE, size: 5e-324 }), null, 'any positive price and size pass');
const bad: [Partial<Tick>, RegExp][] = [
  [{ symbol: '' }, /symbol/],
  [{ venue: '' }, /venue/],
  [{ eventTime: 1_704_067_200_000 }, /eventTime/], // milliseconds: a unit mistake
  [{ eventTime: 1.5 }, /eventTime/],
  [{ price: 0 }, /price/],
  [{ price: Number.NaN }, /price/],
  [{ size: -1 }, /size/],
  [{ size: Number.POSITIVE_INFINITY }, /size/],
  [{ size: 8.988465674311579e307 }, /size .* at most 1e15/], // finite, but a bar's volume would overflow
  [{ price: 1.0000000000000002e15 }, /price .* at most 1e15/],
  [{ price: '3' as never }, /price/],
  [{ size: '3' as never }, /size/],
  [{ side: 'LONG' as never }, /side/],
  [{ tradeId: '' }, /tradeId/],
];
for (const [patch, re] of bad) {
  t.match(tickProblem({ ...good, ...patch }), re, `rejects ${JSON.stringify(patch)}`);
}
t.throws(() => assertTick({ ...good, price: -2 }), { code: 'TE_INVALID_TICK' });

t.test('an event time too far ahead of the ingest time is invalid (TE_MAX_FUTURE_MS)', async (t) => {
  const minute = 60_000_000;
  t.equal(tickProblem({ ...good, eventTime: good.ingestTime + minute }, minute), null, 'exactly the bound passes');
  t.match(tickProblem({ ...good, eventTime: good.ingestTime + minute + 1 }, minute), /ahead of ingestTime .*TE_MAX_FUTURE_MS/, 'one µs more does not');
  const y2199 = Date.UTC(2199, 0, 1) * 1000;
  t.match(tickProblem({ ...good, eventTime: y2199 }, minute), /ahead of ingestTime/, 'a tick dated 2199 is invalid, though inside 2000..2200');
  t.equal(tickProblem({ ...good, eventTime: y2199 }), null, 'without a bound (the default) it passes, as before');
  t.equal(tickProblem({ ...good, eventTime: y2199, ingestTime: 0 }, minute), null, 'no ingest time (CSV files): not checked');
  t.equal(tickProblem({ ...good, eventTime: good.ingestTime - 86_400_000_000 }, minute), null, 'behind the ingest time by any amount: a backfill');
});

t.test('tickFieldProblem names the field of each problem', async (t) => {
  const cases: [Partial<Tick>, string][] = [
    [{ symbol: '' }, 'symbol'],
    [{ venue: 'x'.repeat(65) }, 'venue'],
    [{ eventTime: 1 }, 'eventTime'],
    [{ eventTime: good.ingestTime + 120_000_000 }, 'eventTime'],
    [{ price: 0 }, 'price'],
    [{ size: Number.NaN }, 'size'],
    [{ side: 'B' as never }, 'side'],
    [{ tradeId: 'x'.repeat(129) }, 'tradeId'],
  ];
  for (const [patch, field] of cases) t.equal(tickFieldProblem({ ...good, ...patch }, 60_000_000)?.field, field, JSON.stringify(patch).slice(0, 60));
  t.equal(tickFieldProblem(good), null);
  t.equal(tickProblem({ ...good, price: 0 }), tickFieldProblem({ ...good, price: 0 })!.reason, 'tickProblem is the same reason without the field');
});

t.test('quote checks: prices, a crossed book, optional sizes, quote id', async (t) => {
  const q: Quote = {
    venue: 'MT5-DEMO',
    symbol: 'EURUSD',
    eventTime: 1_704_067_200_000_000,
    bid: 1.1,
    ask: 1.1002,
    bidSize: null,
    askSize: 2_000_000,
    quoteId: '1704067200000000',
    ingestTime: 1_704_067_200_000_100,
  };
  t.equal(quoteFieldProblem(q), null);
  t.equal(quoteFieldProblem({ ...q, ask: q.bid }), null, 'a locked book (bid = ask) passes');
  t.equal(quoteFieldProblem({ ...q, bidSize: 0 }), null, 'an empty side passes');
  const bad: [Partial<Quote>, string, RegExp][] = [
    [{ bid: 0 }, 'bid', /bid 0/],
    [{ ask: Number.POSITIVE_INFINITY }, 'ask', /ask/],
    [{ ask: 1.0999 }, 'ask', /crossed/],
    [{ bidSize: -1 }, 'bidSize', /bidSize/],
    [{ askSize: Number.NaN }, 'askSize', /askSize/],
    [{ quoteId: '' }, 'quoteId', /quoteId/],
    [{ quoteId: 'x'.repeat(121) }, 'quoteId', /1\.\.120/],
    [{ eventTime: 1_704_067_200_000 }, 'eventTime', /eventTime/],
    [{ symbol: '' }, 'symbol', /symbol/],
  ];
  for (const [patch, field, re] of bad) {
    const p = quoteFieldProblem({ ...q, ...patch });
    t.equal(p?.field, field, JSON.stringify(patch).slice(0, 60));
    t.match(p?.reason, re);
  }
});
