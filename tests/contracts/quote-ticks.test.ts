// Quote tick rules (TE_PUSH_QUOTE_TICKS): which symbols' quotes become ticks, at which price, and how they are marked.
import t from 'tap';
import type { Quote } from '../../src/contracts/quote.js';
import { QuoteTickRules, quoteTick } from '../../src/contracts/quote-ticks.js';
import { tickProblem } from '../../src/contracts/validate.js';
import { loadConfig } from '../../src/config.js';

const q: Quote = {
  venue: 'MT5-DEMO',
  symbol: 'EURUSD',
  eventTime: 1_704_067_200_123_000,
  bid: 1.1,
  ask: 1.1004,
  bidSize: null,
  askSize: null,
  quoteId: '1704067200123000',
  ingestTime: 1_704_067_200_200_000,
};

t.test('rules: first match wins; no rule, no ticks', async (t) => {
  const r = QuoteTickRules.parse('EUR*, GBPUSD = mid; USDJPY=bid; *=ask');
  t.equal(r.sideOf('EURUSD'), 'mid');
  t.equal(r.sideOf('GBPUSD'), 'mid');
  t.equal(r.sideOf('USDJPY'), 'bid');
  t.equal(r.sideOf('XAUUSD'), 'ask');
  const none = QuoteTickRules.parse('');
  t.ok(none.empty);
  t.equal(none.sideOf('EURUSD'), undefined);
  t.ok(QuoteTickRules.parse('off').empty);
});

t.test('bad rules fail, and fail the configuration naming TE_PUSH_QUOTE_TICKS', async (t) => {
  for (const bad of ['EURUSD', 'EURUSD=last', '=mid', 'EUR USD=mid', 'EURUSD=mid;']) {
    t.throws(() => QuoteTickRules.parse(bad), { code: 'TE_INVALID_ARG' }, bad);
    t.throws(() => loadConfig({ env: { TE_PUSH_QUOTE_TICKS: bad } }), { code: 'TE_CONFIG', key: 'TE_PUSH_QUOTE_TICKS' }, bad);
  }
});

t.test('a quote becomes one tick of size 1 at the chosen price, marked in its trade id', async (t) => {
  const mid = quoteTick(q, 'mid');
  t.same(mid, {
    venue: 'MT5-DEMO',
    symbol: 'EURUSD',
    eventTime: q.eventTime,
    price: (1.1 + 1.1004) / 2,
    size: 1,
    side: 'UNKNOWN',
    tradeId: 'QM:1704067200123000',
    ingestTime: q.ingestTime,
  });
  t.equal(quoteTick(q, 'bid').price, 1.1);
  t.equal(quoteTick(q, 'bid').tradeId, 'QB:1704067200123000');
  t.equal(quoteTick(q, 'ask').price, 1.1004);
  t.equal(tickProblem(quoteTick({ ...q, quoteId: 'x'.repeat(120) }, 'ask')), null, 'the longest quote id still makes a valid trade id');
});
