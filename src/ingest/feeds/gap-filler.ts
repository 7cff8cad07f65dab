// A venue's history of past trades by id, asked for the trades missing from a hole in the live feed's ids.
import type { VenueTrade } from '../venues/venue-adapter.js';

export interface GapFiller {
  /**
   * The trades of `venueSymbol` with ids from `fromId` to `toId` (both included, decimal strings of any length),
   * as the venue's history gives them: in any order, possibly fewer than asked (a history that no longer reaches
   * back that far, or that does not hold them yet). One call is one attempt: it throws when the request fails, and
   * the sequencer decides whether to ask again.
   */
  fill(venueSymbol: string, fromId: string, toId: string): Promise<VenueTrade[]>;
}
