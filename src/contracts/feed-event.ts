// The FeedEvent contract (Avro schemas/feed-event-v2.avsc, topic feed.events): what a venue feed saw that the ticks
// topic cannot show by itself — a hole in a venue's trade ids, filled from the venue's history or lost; or, for a
// venue whose ids say nothing about order (Bybit), an outage of its connection across which trades may be missing.

/**
 * - GAP_FILLED, GAP_UNFILLED: the trade ids fromId..toId (both included) were missing, then filled, or given up.
 * - GAP_POSSIBLE (version 2): a venue without trade-id continuity lost its connection; trades after fromId (the last
 *   one before, at fromTime) and before toId (the first one after, at toTime) may be missing — the ids are the bounds,
 *   not in the gap. Reason NO_CONTINUITY.
 */
export const FEED_EVENT_KINDS = ['GAP_FILLED', 'GAP_UNFILLED', 'GAP_POSSIBLE'] as const;
export type FeedEventKind = (typeof FEED_EVENT_KINDS)[number];

/**
 * Why a gap was given up (GAP_UNFILLED):
 * - NO_HISTORY: the venue has no call that returns past trades by id (or none is configured for it);
 * - FILL_FAILED: every request for the missing trades failed;
 * - FILL_INCOMPLETE: the venue's history answered, but without the missing trades (trimmed, or never published);
 * - HOLD_TIMEOUT: the trades after the gap waited the longest hold allowed (TE_FEED_MAX_HOLD_MS);
 * - HOLD_FULL: more trades waited behind gaps of the symbol than allowed (TE_FEED_MAX_HELD_TRADES);
 * - NO_CONTINUITY: (GAP_POSSIBLE) the venue's trade ids cannot show a gap, and its connection was lost.
 */
export const GAP_REASONS = ['NO_HISTORY', 'FILL_FAILED', 'FILL_INCOMPLETE', 'HOLD_TIMEOUT', 'HOLD_FULL', 'NO_CONTINUITY'] as const;
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
  /** GAP_POSSIBLE: event times (µs) of the trades fromId and toId; null for the other kinds (and in version 1). */
  fromTime: number | null;
  toTime: number | null;
}

export const FEED_EVENT_FIELDS = [
  'kind',
  'venue',
  'symbol',
  'venueSymbol',
  'fromId',
  'toId',
  'reason',
  'time',
  'fromTime',
  'toTime',
] as const satisfies readonly (keyof FeedEvent)[];
