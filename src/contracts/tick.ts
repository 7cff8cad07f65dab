// The Tick contract (schemas/tick.avsc): one trade from one venue.

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
}

export const TICK_FIELDS = ['venue', 'symbol', 'eventTime', 'price', 'size', 'side', 'tradeId', 'ingestTime'] as const satisfies readonly (keyof Tick)[];
