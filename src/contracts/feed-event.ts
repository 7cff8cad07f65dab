// The FeedEvent contract (Avro schemas/feed-event.avsc, topic feed.events): what a venue feed saw that the ticks
// topic cannot show by itself — a hole in a venue's trade ids, filled from the venue's history or lost.

export const FEED_EVENT_KINDS = ['GAP_FILLED', 'GAP_UNFILLED'] as const;
export type FeedEventKind = (typeof FEED_EVENT_KINDS)[number];

/**
 * Why a gap was given up (GAP_UNFILLED):
 * - NO_HISTORY: the venue has no call that returns past trades by id (or none is configured for it);
 * - FILL_FAILED: every request for the missing trades failed;
 * - FILL_INCOMPLETE: the venue's history answered, but without the missing trades (trimmed, or never published);
 * - HOLD_TIMEOUT: the trades after the gap waited the longest hold allowed (TE_FEED_MAX_HOLD_MS);
 * - HOLD_FULL: more trades waited behind gaps of the symbol than allowed (TE_FEED_MAX_HELD_TRADES).
 */
export const GAP_REASONS = ['NO_HISTORY', 'FILL_FAILED', 'FILL_INCOMPLETE', 'HOLD_TIMEOUT', 'HOLD_FULL'] as const;
export type GapReason = (typeof GAP_REASONS)[number];

export interface FeedEvent {
  kind: FeedEventKind;
  venue: string;
  /** The engine's symbol (BASE-QUOTE); the record key, as on the ticks topic. */
  symbol: string;
  /** The venue's own name of the instrument ('BTCUSDT'), the one its history is asked with. */
  venueSymbol: string;
  /** The first and last venue trade id of the gap, both included, in the venue's decimal form. */
  fromId: string;
  toId: string;
  /** Why the gap was given up; null for GAP_FILLED. */
  reason: GapReason | null;
  /** When the feed decided (filled, or given up), µs since the epoch. */
  time: number;
}

export const FEED_EVENT_FIELDS = ['kind', 'venue', 'symbol', 'venueSymbol', 'fromId', 'toId', 'reason', 'time'] as const satisfies readonly (keyof FeedEvent)[];
