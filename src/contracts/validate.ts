// Plausibility checks on a decoded tick or quote; the first failure's reason goes to the dead-letter topic (and,
// for pushed records, back to the client with the field it concerns).
import { InvalidTickError } from '../errors.js';
import type { Quote } from './quote.js';
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

/** What is wrong with a record, and which of its fields (the contract's field name) it concerns. */
export interface FieldProblem<T> {
  field: keyof T & string;
  reason: string;
}

const amount = (v: unknown): boolean => typeof v === 'number' && v > 0 && v <= MAX_AMOUNT;

/** The checks both contracts share: names, event time (and how far it may run ahead of the ingest time). */
function commonProblem(r: { venue: string; symbol: string; eventTime: number; ingestTime: number }, maxAhead: number): FieldProblem<Tick & Quote> | null {
  if (typeof r.symbol !== 'string' || r.symbol.length === 0 || r.symbol.length > 64) return { field: 'symbol', reason: 'symbol must be 1..64 characters' };
  if (typeof r.venue !== 'string' || r.venue.length === 0 || r.venue.length > 64) return { field: 'venue', reason: 'venue must be 1..64 characters' };
  if (!Number.isInteger(r.eventTime) || r.eventTime < MIN_TIME || r.eventTime > MAX_TIME) {
    return { field: 'eventTime', reason: `eventTime ${r.eventTime} is not µs since epoch between 2000 and 2200` };
  }
  if (r.ingestTime > 0 && r.eventTime - r.ingestTime > maxAhead) {
    return {
      field: 'eventTime',
      reason: `eventTime ${r.eventTime} is ${r.eventTime - r.ingestTime} µs ahead of ingestTime ${r.ingestTime}, more than the ${maxAhead} µs allowed (TE_MAX_FUTURE_MS)`,
    };
  }
  return null;
}

/**
 * The first problem of a tick and its field, or null when it is plausible. Allocation-free on the good path.
 * `maxAhead` (µs): how far the event time may run ahead of the tick's ingest time (TE_MAX_FUTURE_MS). A venue
 * clock a little fast is normal; a tick dated years ahead is a broken clock or a unit mistake, and would drag
 * its partition's watermark so far that every later tick is late. Ticks without an ingest time (0: CSV files)
 * are not checked.
 */
export function tickFieldProblem(t: Tick, maxAhead = Infinity): FieldProblem<Tick> | null {
  const common = commonProblem(t, maxAhead) as FieldProblem<Tick> | null;
  if (common) return common;
  if (!amount(t.price)) return { field: 'price', reason: `price ${t.price} must be a number > 0 and at most 1e15` };
  if (!amount(t.size)) return { field: 'size', reason: `size ${t.size} must be a number > 0 and at most 1e15` };
  if (!SIDES.has(t.side)) return { field: 'side', reason: `side ${String(t.side)} must be BUY, SELL or UNKNOWN` };
  if (typeof t.tradeId !== 'string' || t.tradeId.length === 0 || t.tradeId.length > 128)
    return { field: 'tradeId', reason: 'tradeId must be 1..128 characters' };
  return null;
}

/** Returns null when the tick is plausible, else the reason (tickFieldProblem's, without the field). */
export function tickProblem(t: Tick, maxAhead = Infinity): string | null {
  return tickFieldProblem(t, maxAhead)?.reason ?? null;
}

export function assertTick(t: Tick): Tick {
  const p = tickProblem(t);
  if (p) throw new InvalidTickError(p);
  return t;
}

/**
 * The first problem of a quote and its field, or null when it is plausible: the tick's checks of names and time,
 * prices and sizes in the tick's range (sizes may be null, or 0: an empty side), and a bid not above the ask — a
 * crossed book from one venue is a broken feed, and a mid price taken from it would be wrong.
 */
export function quoteFieldProblem(q: Quote, maxAhead = Infinity): FieldProblem<Quote> | null {
  const common = commonProblem(q, maxAhead) as FieldProblem<Quote> | null;
  if (common) return common;
  if (!amount(q.bid)) return { field: 'bid', reason: `bid ${q.bid} must be a number > 0 and at most 1e15` };
  if (!amount(q.ask)) return { field: 'ask', reason: `ask ${q.ask} must be a number > 0 and at most 1e15` };
  if (q.bid > q.ask) return { field: 'ask', reason: `ask ${q.ask} is below bid ${q.bid} (a crossed quote)` };
  for (const field of ['bidSize', 'askSize'] as const) {
    const v = q[field];
    if (v !== null && !(typeof v === 'number' && v >= 0 && v <= MAX_AMOUNT)) return { field, reason: `${field} ${v} must be null or a number from 0 to 1e15` };
  }
  // 120, not 128: a tick made from the quote (quote-ticks.ts) prefixes it in its trade id, which may have 128.
  if (typeof q.quoteId !== 'string' || q.quoteId.length === 0 || q.quoteId.length > 120)
    return { field: 'quoteId', reason: 'quoteId must be 1..120 characters' };
  return null;
}
