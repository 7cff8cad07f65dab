// Tick plausibility checks.
import t from 'tap';
import type { Tick } from '../../src/ingest/tick.js';
import { assertTick, tickProblem } from '../../src/ingest/validate.js';

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
