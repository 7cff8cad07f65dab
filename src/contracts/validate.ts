// Plausibility checks on a decoded tick; the first failure's reason goes to the dead-letter topic.
import { InvalidTickError } from '../errors.js';
import type { Tick } from './tick.js';

/** 2000-01-01 and 2200-01-01 in µs: outside this an event time is a unit mistake, not a trade. */
const MIN_TIME = 946_684_800_000_000;
const MAX_TIME = 7_258_118_400_000_000;
const SIDES = new Set(['BUY', 'SELL', 'UNKNOWN']);
/**
 * Largest plausible price and size. Far above any market (a bitcoin priced in rials is ~1e11), and low enough
 * that nothing computed from ticks can overflow: price × size ≤ 1e30, a bar's sums of up to 2^53 trades
 * ≤ 1e46, an indicator's squared prices ≤ 1e30. Without it a size near 1.8e308 made a bar's volume Infinity
 * or NaN, which no store or JSON can hold.
 */
const MAX_AMOUNT = 1e15;

/**
 * Returns null when the tick is plausible, else the reason. Allocation-free on the good path.
 * `maxAhead` (µs): how far the event time may run ahead of the tick's ingest time (TE_MAX_FUTURE_MS). A venue
 * clock a little fast is normal; a tick dated years ahead is a broken clock or a unit mistake, and would drag
 * its partition's watermark so far that every later tick is late. Ticks without an ingest time (0: CSV files)
 * are not checked.
 */
export function tickProblem(t: Tick, maxAhead = Infinity): string | null {
  if (typeof t.symbol !== 'string' || t.symbol.length === 0 || t.symbol.length > 64) return 'symbol must be 1..64 characters';
  if (typeof t.venue !== 'string' || t.venue.length === 0 || t.venue.length > 64) return 'venue must be 1..64 characters';
  if (!Number.isInteger(t.eventTime) || t.eventTime < MIN_TIME || t.eventTime > MAX_TIME) {
    return `eventTime ${t.eventTime} is not µs since epoch between 2000 and 2200`;
  }
  if (t.ingestTime > 0 && t.eventTime - t.ingestTime > maxAhead) {
    return `eventTime ${t.eventTime} is ${t.eventTime - t.ingestTime} µs ahead of ingestTime ${t.ingestTime}, more than the ${maxAhead} µs allowed (TE_MAX_FUTURE_MS)`;
  }
  if (typeof t.price !== 'number' || !(t.price > 0 && t.price <= MAX_AMOUNT)) return `price ${t.price} must be a number > 0 and at most 1e15`;
  if (typeof t.size !== 'number' || !(t.size > 0 && t.size <= MAX_AMOUNT)) return `size ${t.size} must be a number > 0 and at most 1e15`;
  if (!SIDES.has(t.side)) return `side ${String(t.side)} must be BUY, SELL or UNKNOWN`;
  if (typeof t.tradeId !== 'string' || t.tradeId.length === 0 || t.tradeId.length > 128) return 'tradeId must be 1..128 characters';
  return null;
}

export function assertTick(t: Tick): Tick {
  const p = tickProblem(t);
  if (p) throw new InvalidTickError(p);
  return t;
}
