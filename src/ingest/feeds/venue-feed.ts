// A live venue feed, end to end: the venue's connections (VenueSession) → its adapter's trades → TradeSequencer (each
// trade once, in id order per symbol; gaps filled from the venue's REST history where it has one, else reported) →
// tick validation (implausible ones dead-lettered with the reason) → a TickSink (Kafka in production), in small
// batches. It also keeps the per-symbol metrics of what arrives (trades in, exchange-to-ingest lag, last trade) and
// answers /health: stale when a connection group has received nothing for its stale time.
//
// The sink is passed in, so this file knows nothing of Kafka: `KafkaTickSink` is the production one, an in-memory
// one serves the tests. Batches go out one at a time, in release order, so a symbol's ticks keep their id order.
import { ERROR_CODES, DecodeError } from '../../errors.js';
import type { FeedEvent } from '../../contracts/feed-event.js';
import type { Tick } from '../../contracts/tick.js';
import { tickProblem } from '../../contracts/validate.js';
import { logger, type Logger } from '../../log.js';
import { feedSymbolTradeAt, feedTradeLag, feedTradesIn } from '../../metrics.js';
import type { DeadLetter } from '../../stream/dlq.js';
import type { VenueAdapter, VenueTrade } from '../venues/venue-adapter.js';
import type { HttpGet } from './history-client.js';
import { TRADE_ID_ORDER } from './trade-id-order.js';
import { TradeSequencer, type SequencingLimits } from './trade-sequencer.js';
import { historyFillerFor } from './venue-history.js';
import { VenueSession, type StaleConnection } from './venue-session.js';
import type { VenueRules } from './venue-rules.js';

/** At most this many ticks per request to the broker (about 0.4 MB of Avro: below the broker's 1 MB record batch limit). */
const SEND_MAX = 5000;

/** Where a venue feed's output goes: valid ticks, rejected ones, feed events. Each call resolves once they are stored. */
export interface TickSink {
  send(ticks: Tick[]): Promise<void>;
  sendDeadLetters(letters: DeadLetter[]): Promise<void>;
  sendEvents(events: FeedEvent[]): Promise<void>;
}

export interface VenueFeedOptions {
  adapter: VenueAdapter;
  /** The engine's symbols (BTC-USDT); the adapter names them the venue's way. */
  symbols: readonly string[];
  sink: TickSink;
  limits: SequencingLimits;
  /** Per venue symbol, the last trade id already on the ticks topic (resume-points.ts): the feed continues after it. */
  resumeAfter?: ReadonlyMap<string, string>;
  /** How far a tick's event time may run ahead of its ingest time (µs; TE_MAX_FUTURE_MS × 1000). */
  maxAheadMicros: number;
  /** The WebSocket URL; default the adapter's. */
  url?: string;
  /** The REST base of the venue's history of trades (venue-history.ts); default the venue's real one. */
  restUrl?: string;
  /** The history's HTTP requests (default: Node's fetch, 10 s timeout). */
  historyTransport?: HttpGet;
  /** Replaces the venue's spacing of history requests (tests). */
  historySpacingMs?: number;
  rules?: VenueRules;
  backoffMaxMs?: number;
  backoffBaseMs?: number;
  random?: () => number;
  /** The metrics' venue label (two feeds of one venue in a process need two). */
  label?: string;
  /** A batch goes out this long after its first tick (50 ms), or at once when it holds `batchMax` (500). */
  batchMs?: number;
  batchMax?: number;
  /** How long stop() waits for trades held behind holes to be released (filled or given up) before dropping them. */
  drainMs?: number;
  /** A sink call that failed (not a broker outage: the Kafka sink waits those out): the feed cannot go on. */
  onFatal?: (err: Error) => void;
  log?: Logger;
}

/** What /health says of a feed: healthy unless a connection group has been silent for its stale time. */
export interface FeedHealth {
  healthy: boolean;
  /** One line naming every stale connection (empty when healthy). */
  message: string;
  stale: StaleConnection[];
}

export class VenueFeed {
  private readonly o: VenueFeedOptions;
  private readonly log: Logger;
  private readonly session: VenueSession;
  private readonly sequencer: TradeSequencer;
  private readonly label: string;
  /** Per symbol: its metrics' children, and its entry in the last-trade map. */
  private readonly symbolMetrics = new Map<
    string,
    { tradesIn: ReturnType<typeof feedTradesIn.labels>; lag: ReturnType<typeof feedTradeLag.labels>; key: string }
  >();
  private ticks: Tick[] = [];
  private letters: DeadLetter[] = [];
  private events: FeedEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The batch being sent; the next one waits for it (order). */
  private sending: Promise<void> = Promise.resolve();
  private inFlight = false;
  private failed = false;
  private stopping: Promise<void> | undefined;
  produced = 0;
  rejected = 0;

  constructor(options: VenueFeedOptions) {
    this.o = options;
    const { adapter } = options;
    this.label = options.label ?? adapter.venue;
    this.log = (options.log ?? logger('feed')).child({ venue: this.label });
    // InvalidArgumentError for a symbol that is not BASE-QUOTE: before anything connects.
    const venueSymbols = options.symbols.map((s) => adapter.venueSymbol(s));
    const filler = historyFillerFor(adapter.venue, {
      restUrl: options.restUrl,
      label: this.label,
      ...(options.historyTransport ? { transport: options.historyTransport } : {}),
      ...(options.historySpacingMs !== undefined ? { spacingMs: options.historySpacingMs } : {}),
    });
    this.sequencer = new TradeSequencer({
      venue: adapter.venue,
      order: TRADE_ID_ORDER[adapter.venue],
      limits: options.limits,
      onRelease: (trades) => this.onRelease(trades),
      onEvent: (event) => this.queue(() => this.events.push(event)),
      ...(filler ? { filler } : {}),
      ...(options.resumeAfter ? { resumeAfter: options.resumeAfter } : {}),
      log: this.log,
      ...(options.random ? { random: options.random } : {}),
    });
    this.session = new VenueSession({
      adapter,
      symbols: venueSymbols,
      onTrades: (trades) => this.onTrades(trades),
      onBack: (venueSymbols, lostAtMs) => this.sequencer.outage(venueSymbols, lostAtMs),
      log: this.log,
      ...(options.url ? { url: options.url } : {}),
      ...(options.rules ? { rules: options.rules } : {}),
      ...(options.backoffMaxMs !== undefined ? { backoffMaxMs: options.backoffMaxMs } : {}),
      ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.label ? { label: options.label } : {}),
    });
  }

  start(): void {
    this.session.start();
  }

  /** Stale when a connection group has received nothing for its stale time (TE_FEED_STALE_MS, or the venue's own). */
  health(nowMs = Date.now()): FeedHealth {
    const stale = this.session.staleConnections(nowMs);
    const message = stale
      .map((s) => `${s.connection} (${s.symbols} symbols) has received nothing for ${(s.silentMs / 1000).toFixed(1)} s (stale after ${s.staleMs / 1000} s)`)
      .join('; ');
    return { healthy: stale.length === 0, message, stale };
  }

  /** Ready once every connection group is subscribed and answered. */
  get connected(): boolean {
    return this.session.connected;
  }

  /**
   * Closes the connections, waits (at most `drainMs`) for trades held behind holes to be filled or given up, drops
   * what still waits then, and resolves once every batch is in the sink.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.session.stop();
      const drainUntil = performance.now() + (this.o.drainMs ?? Math.min(this.o.limits.maxHoldMs + 500, 10_000));
      while (this.sequencer.heldCount > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
      const dropped = this.sequencer.heldCount;
      if (dropped > 0) this.log.warn({ dropped }, 'venue feed stopped with trades still held behind a gap: not sent');
      this.sequencer.close();
      for (const { key } of this.symbolMetrics.values()) feedSymbolTradeAt.delete(key);
      await this.drain();
      this.log.info({ produced: this.produced, rejected: this.rejected }, 'venue feed stopped');
    })();
    return this.stopping;
  }

  private onTrades(trades: VenueTrade[]): void {
    const now = Date.now();
    for (const { tick, snapshot } of trades) {
      // Snapshots are old by design (re-sent on subscribe): they say nothing of the feed's delay.
      if (snapshot) continue;
      const m = this.metricsOf(tick.symbol);
      m.tradesIn.inc();
      m.lag.observe(Math.max(0, tick.ingestTime - tick.eventTime) / 1e6);
      feedSymbolTradeAt.set(m.key, { venue: this.label, symbol: tick.symbol, at: now });
    }
    try {
      this.sequencer.push(trades);
    } catch (err) {
      // A trade id the sequencer cannot order (not decimal on a contiguous venue): the frame is dropped, as a
      // malformed one is by the session.
      if (!(err instanceof DecodeError)) throw err;
      this.log.warn({ err: err.message }, 'venue trades not sequenced: dropped');
    }
  }

  private metricsOf(symbol: string) {
    let m = this.symbolMetrics.get(symbol);
    if (m === undefined) {
      const labels = { venue: this.label, symbol };
      m = { tradesIn: feedTradesIn.labels(labels), lag: feedTradeLag.labels(labels), key: `${this.label} ${symbol}` };
      this.symbolMetrics.set(symbol, m);
    }
    return m;
  }

  private onRelease(trades: VenueTrade[]): void {
    this.queue(() => {
      for (const { tick, venueSymbol } of trades) {
        // The venue's own name, where it differs from the engine's (tick schema version 2).
        tick.venueSymbol = venueSymbol === tick.symbol ? null : venueSymbol;
        const problem = tickProblem(tick, this.o.maxAheadMicros);
        if (problem === null) this.ticks.push(tick);
        else
          this.letters.push({
            key: tick.symbol,
            value: Buffer.from(JSON.stringify(tick)),
            code: ERROR_CODES.invalidTick,
            reason: problem,
            source: { producer: `venue:${this.o.adapter.venue}` },
          });
      }
    });
  }

  /** Adds to the next batch, and sends it when full, else within batchMs. */
  private queue(add: () => void): void {
    add();
    if (this.pending >= (this.o.batchMax ?? 500)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.o.batchMs ?? 50);
  }

  private get pending(): number {
    return this.ticks.length + this.letters.length + this.events.length;
  }

  /**
   * Sends what waits, unless a send is in flight: then it accumulates, and goes out in one request (up to
   * SEND_MAX ticks) as soon as that send ends — one request in flight (the idempotent producer's sequence numbers
   * stay in order), but never a request per small batch while the broker is busy with the previous one.
   */
  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight || this.failed || this.pending === 0) return;
    const ticks = this.ticks.length > SEND_MAX ? this.ticks.splice(0, SEND_MAX) : this.ticks;
    if (ticks === this.ticks) this.ticks = [];
    const letters = this.letters;
    const events = this.events;
    this.letters = [];
    this.events = [];
    this.inFlight = true;
    this.sending = (async () => {
      try {
        if (ticks.length > 0) await this.o.sink.send(ticks);
        if (letters.length > 0) await this.o.sink.sendDeadLetters(letters);
        if (events.length > 0) await this.o.sink.sendEvents(events);
        this.produced += ticks.length;
        this.rejected += letters.length;
      } catch (err) {
        this.failed = true;
        this.log.error({ err }, 'venue feed could not write its output');
        this.o.onFatal?.(err as Error);
      } finally {
        this.inFlight = false;
      }
      if (this.pending > 0) this.flush();
    })();
  }

  /** Resolves once nothing waits and nothing is in flight (or the sink failed). */
  private async drain(): Promise<void> {
    while (!this.failed && (this.inFlight || this.pending > 0)) {
      this.flush();
      await this.sending;
    }
  }
}
