// Each venue's history of trades by id, as a gap filler: which REST call, its real base URL, and the pace its public
// rate limit allows. Bybit has none (its ids give no order, and no call returns trades from an id).
import type { VenueName } from '../venues/venue-adapter.js';
import { BINANCE_REST_URL, BinanceGapFiller } from './binance-gap-filler.js';
import { COINBASE_REST_URL, CoinbaseGapFiller } from './coinbase-gap-filler.js';
import type { GapFiller } from './gap-filler.js';
import { HistoryClient, type HttpGet } from './history-client.js';
import { KRAKEN_REST_URL, KrakenGapFiller, krakenRateLimit } from './kraken-gap-filler.js';
import { OKX_REST_URL, OkxGapFiller } from './okx-gap-filler.js';
import type { Timers } from './timers.js';

interface VenueHistory {
  /** The venue's real REST base (TE_FEED_REST_URL replaces it). */
  restUrl: string;
  /**
   * Requests at least this far apart, over all of a feed's symbols:
   * - BINANCE: 6000 request weight a minute per IP, historicalTrades weighs 25 → 240 a minute.
   * - KRAKEN: public calls are limited per IP at a rate Kraken does not publish; 1 a second is what clients keep to
   *   (ccxt's kraken: rateLimit 1000 ms, Trades cost 1).
   * - OKX: history-trades, 20 requests per 2 s per IP.
   * - COINBASE: Exchange public endpoints, 10 requests a second per IP (bursts of 15).
   */
  spacingMs: number;
  filler(o: { get: HistoryClient['get']; base: string }): GapFiller;
  bodyRateLimit?: (body: string, nowMs: number) => number | null | undefined;
}

export const VENUE_HISTORIES: Readonly<Partial<Record<VenueName, VenueHistory>>> = {
  // The feed reads `@trade`, so the filler asks for trade ids (historicalTrades), not aggTrade ids.
  BINANCE: { restUrl: BINANCE_REST_URL, spacingMs: 250, filler: (o) => new BinanceGapFiller({ kind: 'trade', ...o }) },
  KRAKEN: { restUrl: KRAKEN_REST_URL, spacingMs: 1000, filler: (o) => new KrakenGapFiller(o), bodyRateLimit: krakenRateLimit },
  OKX: { restUrl: OKX_REST_URL, spacingMs: 100, filler: (o) => new OkxGapFiller(o) },
  COINBASE: { restUrl: COINBASE_REST_URL, spacingMs: 100, filler: (o) => new CoinbaseGapFiller(o) },
};

export interface HistoryFillerOptions {
  /** The REST base; empty or absent: the venue's real one. */
  restUrl?: string | undefined;
  transport?: HttpGet;
  /** Replaces the venue's spacing (tests). */
  spacingMs?: number;
  /** The metrics' venue label. */
  label?: string;
  timers?: Timers;
}

/** The venue's gap filler over one HistoryClient (spacing and 429s shared by every symbol); undefined for a venue without a history by id. */
export function historyFillerFor(venue: VenueName, o: HistoryFillerOptions = {}): GapFiller | undefined {
  const h = VENUE_HISTORIES[venue];
  if (h === undefined) return undefined;
  const client = new HistoryClient({
    venue: o.label ?? venue,
    spacingMs: o.spacingMs ?? h.spacingMs,
    ...(o.transport ? { transport: o.transport } : {}),
    ...(h.bodyRateLimit ? { bodyRateLimit: h.bodyRateLimit } : {}),
    ...(o.timers ? { timers: o.timers } : {}),
  });
  return h.filler({ get: client.get, base: o.restUrl || h.restUrl });
}
