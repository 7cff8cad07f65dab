// The trades a venue stand-in sends: one trade as sent (what an adapter must read back), and a seeded list of them for
// tests that drive a stand-in trade by trade.
import { Prng } from '../ingest/prng.js';

/** One trade as the stand-in sent it: what the adapter must read back. */
export interface StandinTrade {
  venueSymbol: string;
  tradeId: string;
  price: string;
  size: string;
  side: 'BUY' | 'SELL';
  timeMs: number;
  /** The connections it went to (two while one replaces the other). */
  conns: number[];
}

/** A trade of a list a test sends (sendTrades). */
export type ListedTrade = Omit<StandinTrade, 'conns'>;

/**
 * A seeded list of trades: for each venue symbol, `count` trades with consecutive ids from `firstId`, interleaved
 * symbol by symbol, a random walk of prices (2 decimals), sizes (4 decimals) and sides, ms times 10 ms apart from
 * `startMs` (a minute ago by default: plausible, never ahead of the ingest time).
 */
export function tradeList(venueSymbols: readonly string[], { firstId = 1001, count = 60, seed = 11, startMs = Date.now() - 60_000 } = {}): ListedTrade[] {
  const prng = new Prng(seed);
  const prices = venueSymbols.map(() => 100 + 900 * prng.next());
  const out: ListedTrade[] = [];
  for (let i = 0; i < count; i++) {
    venueSymbols.forEach((venueSymbol, k) => {
      prices[k] = prices[k]! * (1 + (prng.next() - 0.5) * 0.002);
      out.push({
        venueSymbol,
        tradeId: String(firstId + i),
        price: prices[k]!.toFixed(2),
        size: (0.0001 + prng.next() * 3).toFixed(4),
        side: prng.next() < 0.5 ? 'BUY' : 'SELL',
        timeMs: startMs + 10 * (i * venueSymbols.length + k),
      });
    });
  }
  return out;
}
