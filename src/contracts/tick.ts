// The Tick contract (schemas/tick-v2.avsc; version 1, schemas/tick.avsc, lacks the last two fields): one trade from one venue.

export type Side = 'BUY' | 'SELL' | 'UNKNOWN';

export interface Tick {
  venue: string;
  symbol: string;
  /** Event time, µs since the epoch (UTC). */
  eventTime: number;
  price: number;
  size: number;
  side: Side;
  /** Venue trade id; (venue, symbol, tradeId) is the tick's identity. */
  tradeId: string;
  /** When the engine ingested it, µs since the epoch. */
  ingestTime: number;
  /** The venue's own name of the instrument where it differs from `symbol`; null (or absent) otherwise. */
  venueSymbol?: string | null;
  /** Continuity of the venue's contiguous trade ids up to this trade; null (or absent) where unknown. */
  sequence?: TickSequence | null;
}

/** What a feed knows of the trades before this one, where the venue numbers trades consecutively. */
export interface TickSequence {
  /** The first trade after the feed (re)started without knowing the one before it: continuity before it is unknown. */
  first: boolean;
  /** Trade ids lost (a hole given up) right before this trade; 0 when none. */
  lostIds: number;
  /** Event time (µs) of the trade released before this one; this trade's own when there was none. */
  lostSince: number;
}

/** Whether trades may be missing right before `s`'s trade: a hole given up, or a start without a known predecessor. */
export function breaksContinuity(s: TickSequence): boolean {
  return s.first || s.lostIds > 0;
}

/** Field order of the contract; tests check it against schemas/tick-v2.avsc (and its first eight against tick.avsc). */
export const TICK_FIELDS = [
  'venue',
  'symbol',
  'eventTime',
  'price',
  'size',
  'side',
  'tradeId',
  'ingestTime',
  'venueSymbol',
  'sequence',
] as const satisfies readonly (keyof Tick)[];
