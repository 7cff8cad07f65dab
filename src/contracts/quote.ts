// The Quote contract (schemas/quote.avsc, topic quotes): one top-of-book update of one venue — what brokers and FX
// venues without trades publish.

export interface Quote {
  venue: string;
  symbol: string;
  /** Event time, µs since the epoch (UTC). */
  eventTime: number;
  bid: number;
  ask: number;
  /** Sizes at the bid and the ask where the venue gives them, else null. */
  bidSize: number | null;
  askSize: number | null;
  /** The venue's id of this update; (venue, symbol, quoteId) is the quote's identity. */
  quoteId: string;
  /** When the engine ingested it, µs since the epoch. */
  ingestTime: number;
}

export const QUOTE_FIELDS = [
  'venue',
  'symbol',
  'eventTime',
  'bid',
  'ask',
  'bidSize',
  'askSize',
  'quoteId',
  'ingestTime',
] as const satisfies readonly (keyof Quote)[];
