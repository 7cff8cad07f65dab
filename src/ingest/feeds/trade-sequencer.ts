// A venue feed's trades, as its adapter parses them, in → each trade once, in order per symbol, out: the one place
// between the venue's frames and the ticks topic that drops duplicates and deals with lost trades.
//
// Per symbol (the venue's name of it): where the venue numbers trades consecutively (TRADE_ID_ORDER), a
// ContiguousSequence — duplicates dropped by id, holes filled from the venue's history before later trades are
// released, or reported; elsewhere a RecentIds window — duplicates dropped, nothing else knowable. Every decision is
// counted in the metrics (venue, symbol); gaps also become FeedEvents (the feed.events topic) and log lines.
import type { Config } from '../../config.js';
import { InvalidArgumentError, describe } from '../../errors.js';
import type { FeedEvent, GapReason } from '../../contracts/feed-event.js';
import type { Logger } from '../../log.js';
import { feedDuplicates, feedGapsFilled, feedGapsFound, feedGapsUnfilled, feedPossibleGaps, feedTradesHeld, feedTradesLost } from '../../metrics.js';
import type { VenueTrade } from '../venues/venue-adapter.js';
import { ContiguousSequence, type SequenceLimits, type SequenceOutput } from './contiguous-sequence.js';
import type { GapFiller } from './gap-filler.js';
import { decimalId, idRange, type IdRange } from './id-range.js';
import { RecentIds } from './recent-ids.js';
import type { TradeIdOrder } from './trade-id-order.js';
import { realTimers, type Timers } from './timers.js';

/** The cap of the backoff between two history requests for one hole that added nothing (from 100 ms, with jitter). */
export const FILL_RETRY_MAX_MS = 2000;

export interface SequencingLimits extends SequenceLimits {
  /** Unordered ids: how long an id is remembered after it was last seen. */
  dedupeWindowMs: number;
  /** Unordered ids: the most ids remembered per symbol. */
  dedupeMaxIds: number;
}

/** The limits from the configuration (the `feed` group). */
export function sequencingLimits(config: Config): SequencingLimits {
  return {
    gapWaitMs: config.feedGapWaitMs,
    maxHoldMs: config.feedMaxHoldMs,
    maxHeldTrades: config.feedMaxHeldTrades,
    fillAttempts: config.feedFillAttempts,
    fillRetryMaxMs: FILL_RETRY_MAX_MS,
    dedupeWindowMs: config.feedDedupeWindowMs,
    dedupeMaxIds: config.feedDedupeMaxIds,
  };
}

export interface TradeSequencerOptions {
  venue: string;
  /** How the venue numbers trades: TRADE_ID_ORDER[venue], or 'unordered' for Kraken's v1 frames. */
  order: TradeIdOrder;
  limits: SequencingLimits;
  /** Every released trade, in increasing id order per symbol, each once. */
  onRelease(trades: VenueTrade[]): void;
  /** Gaps filled from the venue's history or given up: the records of the feed.events topic. */
  onEvent?(event: FeedEvent): void;
  /** The venue's history by trade id (contiguous venues that have one); without it, holes are reported, not filled. */
  filler?: GapFiller;
  /** Per venue symbol, the last trade id already on the ticks topic: a restart continues after it, filling the hole. */
  resumeAfter?: ReadonlyMap<string, string>;
  timers?: Timers;
  log?: Pick<Logger, 'info' | 'warn'>;
  random?: () => number;
}

interface SymbolState {
  /** The engine's symbol, from the first trade (the metrics' and events' label). */
  symbol: string;
  contiguous?: ContiguousSequence;
  recent?: RecentIds;
  /** Unordered venues: the last trade released, and since when (ms) its connection was lost, if it was since. */
  last?: { id: string; eventTime: number };
  lostSince?: number;
}

export class TradeSequencer {
  readonly #symbols = new Map<string, SymbolState>();
  readonly #timers: Timers;
  readonly #resume = new Map<string, bigint>();
  #closed = false;

  /** InvalidArgumentError when a resume point is not a decimal trade id. */
  constructor(private readonly opts: TradeSequencerOptions) {
    this.#timers = opts.timers ?? realTimers;
    for (const [venueSymbol, id] of opts.resumeAfter ?? []) {
      const last = decimalId(id);
      if (last === undefined) throw new InvalidArgumentError(`resume point of ${opts.venue} ${venueSymbol} ${describe(id)} is not a decimal trade id`);
      this.#resume.set(venueSymbol, last);
    }
  }

  /**
   * One frame's trades, in arrival order. Released trades go to onRelease now or later (after a hole is filled or
   * given up). For a contiguous venue, a trade id that is not a decimal number throws DecodeError before any trade of
   * the frame is taken, like a malformed frame from the adapter.
   */
  push(trades: readonly VenueTrade[]): void {
    if (this.#closed || trades.length === 0) return;
    if (this.opts.order === 'unordered') return this.#pushUnordered(trades);
    const bySymbol = new Map<string, { range: IdRange; trade: VenueTrade }[]>();
    for (const trade of trades) {
      const range = idRange(trade);
      let items = bySymbol.get(trade.venueSymbol);
      if (items === undefined) bySymbol.set(trade.venueSymbol, (items = []));
      items.push({ range, trade });
    }
    for (const [venueSymbol, items] of bySymbol) this.#state(venueSymbol, items[0]!.trade).contiguous!.push(items);
  }

  /** Stops every symbol's timers; trades still held are dropped (a restart resumes from the ticks topic). */
  close(): void {
    this.#closed = true;
    for (const s of this.#symbols.values()) s.contiguous?.close();
  }

  /** Trades waiting behind holes now, over every symbol. */
  get heldCount(): number {
    let n = 0;
    for (const s of this.#symbols.values()) n += s.contiguous?.heldCount ?? 0;
    return n;
  }

  /** The highest trade id each symbol has released or given up, as a resume point (contiguous venues). */
  lastIds(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [venueSymbol, s] of this.#symbols) {
      const last = s.contiguous?.last;
      if (last !== undefined) out.set(venueSymbol, String(last));
    }
    return out;
  }

  /**
   * The connection carrying these venue symbols was lost at `sinceMs` and is back. For a venue whose trade ids cannot
   * show a gap, trades may be missing in between: the first trade of each symbol after it is reported with the last
   * one before (GAP_POSSIBLE on feed.events, a metric, a log line). Contiguous venues find their gaps by id.
   */
  outage(venueSymbols: readonly string[], sinceMs: number): void {
    if (this.opts.order !== 'unordered') return;
    for (const venueSymbol of venueSymbols) {
      const state = this.#symbols.get(venueSymbol);
      // A symbol that has had no trade yet has nothing to be continuous with (as at start).
      if (state?.last !== undefined) state.lostSince = Math.min(state.lostSince ?? Infinity, sinceMs);
    }
  }

  #pushUnordered(trades: readonly VenueTrade[]): void {
    const now = this.#timers.now();
    const out: VenueTrade[] = [];
    for (const trade of trades) {
      const state = this.#state(trade.venueSymbol, trade);
      if (state.recent!.seen(trade.tick.tradeId, now)) {
        feedDuplicates.inc({ venue: this.opts.venue, symbol: state.symbol });
        continue;
      }
      if (state.lostSince !== undefined && state.last !== undefined) this.#possibleGap(trade, state, state.last, state.lostSince);
      state.lostSince = undefined;
      state.last = { id: trade.tick.tradeId, eventTime: trade.tick.eventTime };
      out.push(trade);
    }
    if (out.length > 0) this.opts.onRelease(out);
  }

  #possibleGap(after: VenueTrade, state: SymbolState, before: { id: string; eventTime: number }, lostSinceMs: number): void {
    const { venue, log } = this.opts;
    const { symbol } = state;
    feedPossibleGaps.inc({ venue, symbol });
    const event: FeedEvent = {
      kind: 'GAP_POSSIBLE',
      venue,
      symbol,
      venueSymbol: after.venueSymbol,
      fromId: before.id,
      toId: after.tick.tradeId,
      reason: 'NO_CONTINUITY',
      time: this.#timers.now() * 1000,
      fromTime: before.eventTime,
      toTime: after.tick.eventTime,
    };
    log?.warn(
      { venue, symbol, venueSymbol: after.venueSymbol, afterId: before.id, beforeId: after.tick.tradeId, lostAt: new Date(lostSinceMs).toISOString() },
      'connection lost on a venue whose trade ids cannot show a gap: trades between these two may be missing',
    );
    this.opts.onEvent?.(event);
  }

  #state(venueSymbol: string, first: VenueTrade): SymbolState {
    let state = this.#symbols.get(venueSymbol);
    if (state !== undefined) return state;
    const { limits } = this.opts;
    state = { symbol: first.tick.symbol };
    if (this.opts.order === 'unordered') state.recent = new RecentIds(limits.dedupeWindowMs, limits.dedupeMaxIds);
    else {
      const resume = this.#resume.get(venueSymbol);
      state.contiguous = new ContiguousSequence(venueSymbol, limits, {
        timers: this.#timers,
        output: this.#output(venueSymbol, state.symbol),
        ...(this.opts.filler === undefined ? {} : { filler: this.opts.filler }),
        ...(resume === undefined ? {} : { resumeAfter: resume }),
        ...(this.opts.random === undefined ? {} : { random: this.opts.random }),
      });
    }
    this.#symbols.set(venueSymbol, state);
    return state;
  }

  #output(venueSymbol: string, symbol: string): SequenceOutput {
    const { venue, log } = this.opts;
    const labels = { venue, symbol };
    const event = (kind: FeedEvent['kind'], from: bigint, to: bigint, reason: GapReason | null): FeedEvent => ({
      kind,
      venue,
      symbol,
      venueSymbol,
      fromId: String(from),
      toId: String(to),
      reason,
      time: this.#timers.now() * 1000,
      fromTime: null,
      toTime: null,
    });
    return {
      release: (trades) => this.opts.onRelease(trades),
      duplicate: () => feedDuplicates.inc(labels),
      held: (count) => feedTradesHeld.set(labels, count),
      gapFound: () => feedGapsFound.inc(labels),
      gapFilled: (from, to) => {
        feedGapsFilled.inc(labels);
        log?.info({ venue, symbol, venueSymbol, fromId: String(from), toId: String(to) }, 'gap in trade ids filled from the venue history');
        this.opts.onEvent?.(event('GAP_FILLED', from, to, null));
      },
      gapUnfilled: (from, to, reason) => {
        const ids = to - from + 1n;
        feedGapsUnfilled.inc({ ...labels, reason });
        feedTradesLost.inc(labels, Number(ids));
        log?.warn(
          { venue, symbol, venueSymbol, fromId: String(from), toId: String(to), ids: String(ids), reason },
          'gap in trade ids given up: these trades are not on the ticks topic',
        );
        this.opts.onEvent?.(event('GAP_UNFILLED', from, to, reason));
      },
    };
  }
}
