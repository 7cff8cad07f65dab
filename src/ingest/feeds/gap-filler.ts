// A venue's history of past trades by id, asked for the trades missing from a hole in the live feed's ids.
import type { VenueTrade } from '../venues/venue-adapter.js';
import { decimalId } from './id-range.js';

/** The event times (µs) of the trades on either side of a hole, where the sequence knows them: a history by time (Kraken) starts there. */
export interface HoleTimes {
  /** The trade released just before the hole (unknown when the sequence resumed from an id alone). */
  afterMicros?: number | undefined;
  /** The first trade held after the hole. */
  beforeMicros?: number | undefined;
}

export interface GapFiller {
  /**
   * The trades of `venueSymbol` with ids from `fromId` to `toId` (both included, decimal strings of any length),
   * as the venue's history gives them: in any order, possibly fewer than asked (a history that no longer reaches
   * back that far, or that does not hold them yet, or a first part of a long hole). One call is one attempt: it
   * throws when the request fails before anything came back, and the sequencer decides whether to ask again.
   */
  fill(venueSymbol: string, fromId: string, toId: string, times?: HoleTimes): Promise<VenueTrade[]>;
}

/** One page of a venue's history: its trades, and the cursor of the next page (undefined: nothing more to ask). */
export interface HistoryPage<C> {
  trades: readonly VenueTrade[];
  next: C | undefined;
}

/**
 * Asks a history page by page from `first` until a page says there is no next one, or `maxPages` were asked (a long
 * hole is then filled in parts: the sequencer asks again for the rest at once). Keeps the trades whose id is in
 * [from, to]. A page that fails after others brought trades ends the asking with those (progress); the sequencer's
 * next request for the rest then reports the failure if it lasts.
 */
export async function pageHistory<C>(
  from: bigint,
  to: bigint,
  first: C,
  maxPages: number,
  page: (cursor: C) => Promise<HistoryPage<C>>,
): Promise<VenueTrade[]> {
  const out: VenueTrade[] = [];
  let cursor: C | undefined = first;
  for (let n = 0; n < maxPages && cursor !== undefined; n++) {
    let got: HistoryPage<C>;
    try {
      got = await page(cursor);
    } catch (err) {
      if (out.length > 0) break;
      throw err;
    }
    for (const trade of got.trades) {
      const id = decimalId(trade.tick.tradeId);
      if (id !== undefined && id >= from && id <= to) out.push(trade);
    }
    cursor = got.next;
  }
  return out;
}
