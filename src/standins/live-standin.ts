// A venue stand-in fed live by the engine's simulator: its symbols trade at a rate on the wall clock, each trade sent
// in the venue's form to the connections subscribed to its symbol, with consecutive trade ids per symbol, and the REST
// history answering from what it sent (the last `maxTrades`). What `tick-engine venue-standin` and the demo serve.
import type { Side } from '../contracts/tick.js';
import { InvalidArgumentError } from '../errors.js';
import { FeedSimulator } from '../ingest/simulator.js';
import { adapterFor } from '../ingest/venues/index.js';
import type { Logger } from '../log.js';
import type { ListedTrade } from './trade-list.js';
import { VenueStandin } from './venue-standin.js';

/** The venue names `--venue` and TE_DEMO_VENUES take. */
export const STANDIN_VENUES = ['binance', 'coinbase', 'kraken', 'bybit', 'okx'] as const;
export type StandinVenue = (typeof STANDIN_VENUES)[number];

/**
 * Each venue's symbols when none are given: different instruments per venue, because bars are keyed by symbol alone
 * and two venues' trades of one symbol would be folded into the same bars.
 */
export const STANDIN_SYMBOLS: Readonly<Record<StandinVenue, readonly string[]>> = {
  binance: ['BTC-USDT', 'ETH-USDT'],
  coinbase: ['BTC-USD', 'ETH-USD'],
  kraken: ['BTC-EUR', 'ETH-EUR'],
  bybit: ['SOL-USDT', 'XRP-USDT'],
  okx: ['DOGE-USDT', 'LINK-USDT'],
};

/** The first trade id of every symbol: a venue's ids are never small. */
const FIRST_ID = 1_000_001;
/** How often the trades due by the wall clock go out. */
const TICK_MS = 50;

export interface LiveStandinOptions {
  venue: StandinVenue;
  /** BASE-QUOTE (the engine's form); the venue's adapter names them its way. Default STANDIN_SYMBOLS[venue]. */
  symbols?: readonly string[];
  /** Mean trades per second over all its symbols (outside the simulator's bursts). */
  rate: number;
  seed: number;
  port?: number;
  /** The REST history keeps this many of the last trades sent (default 200,000). */
  maxTrades?: number;
  /** Heartbeats (Kraken, Coinbase) or ping frames (the others), this often (default 1000 ms). */
  heartbeatMs?: number;
  log?: Logger;
}

/** `binance` → the adapter's venue (BINANCE); InvalidArgumentError naming the venues for anything else. */
export function standinVenue(name: string): StandinVenue {
  const v = name.trim().toLowerCase();
  if (!(STANDIN_VENUES as readonly string[]).includes(v)) throw new InvalidArgumentError(`unknown venue '${name}': one of ${STANDIN_VENUES.join(', ')}`);
  return v as StandinVenue;
}

export class LiveStandin {
  /** Trades sent so far (to a connection or not: all of them are in the REST history). */
  sent = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly standin: VenueStandin,
    readonly symbols: readonly string[],
    private readonly sim: FeedSimulator,
    private readonly venueSymbols: ReadonlyMap<string, string>,
    private readonly wallStart: number,
    private readonly clockStart: number,
  ) {}

  /** InvalidArgumentError for a symbol the venue cannot name; a listen error (port taken) as Node gives it. */
  static async start(o: LiveStandinOptions): Promise<LiveStandin> {
    const adapter = adapterFor(o.venue);
    const symbols = o.symbols !== undefined && o.symbols.length > 0 ? o.symbols : STANDIN_SYMBOLS[o.venue];
    const venueSymbols = new Map(symbols.map((s) => [s, adapter.venueSymbol(s)]));
    const standin = await VenueStandin.start(adapter.venue, {
      seed: o.seed,
      maxTrades: o.maxTrades ?? 200_000,
      ...(o.port !== undefined ? { port: o.port } : {}),
    });
    standin.heartbeats(o.heartbeatMs ?? 1000);
    const clockStart = Date.now() * 1000;
    const sim = new FeedSimulator({ symbols: symbols.length, names: symbols, rate: o.rate, seed: o.seed, start: clockStart, jitter: 0, venue: adapter.venue });
    const live = new LiveStandin(standin, symbols, sim, venueSymbols, performance.now(), clockStart);
    live.timer = setInterval(() => live.round(), TICK_MS);
    o.log?.info(
      { venue: adapter.venue, url: standin.url, restUrl: standin.restUrl, symbols: [...venueSymbols.values()], rate: o.rate },
      'venue stand-in listening',
    );
    return live;
  }

  get url(): string {
    return this.standin.url;
  }

  get restUrl(): string {
    return this.standin.restUrl;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.standin.close();
  }

  /** The trades the feed clock has reached by now, in order, each to the connections subscribed to its symbol. */
  private round(): void {
    const until = this.clockStart + (performance.now() - this.wallStart) * 1000;
    const batch: ListedTrade[] = [];
    while (this.sim.now < until) {
      const t = this.sim.next();
      batch.push({
        venueSymbol: this.venueSymbols.get(t.symbol)!,
        // The simulator numbers each symbol's trades 1, 2, 3, …: consecutive, as these venues' ids are.
        tradeId: String(FIRST_ID - 1 + Number(t.tradeId)),
        price: String(t.price),
        size: String(t.size),
        side: venueSide(t.side, t.tradeId),
        timeMs: Math.floor(t.eventTime / 1000),
      });
    }
    if (batch.length === 0) return;
    this.standin.sendTrades(batch);
    this.sent += batch.length;
  }
}

/** Venues report a taker side for every trade; the simulator's rare UNKNOWN becomes one, alternating by id. */
function venueSide(side: Side, tradeId: string): 'BUY' | 'SELL' {
  if (side === 'BUY' || side === 'SELL') return side;
  return Number(tradeId) % 2 === 0 ? 'BUY' : 'SELL';
}
