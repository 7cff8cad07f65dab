// One symbol's trades from a venue that numbers them with consecutive ids: each id released once, in id order; the
// trades after a hole held while the venue's history is asked for the missing ones; a hole that cannot be filled
// reported with its exact ids, and the trades behind it released.
//
// State: `last`, the highest id released or given up (every id up to it is settled), and `held`, the trades beyond a
// hole, by id. A trade whose ids start at last + 1 is released (then any held trades that now follow on); one that
// ends at or below `last` is a duplicate; one further on is held. Nothing is released past a hole until the hole is
// filled or given up, so a symbol's trades always leave in increasing id order.
//
// A hole first waits `gapWaitMs` for its trades to arrive late on their own (reordered delivery). Then the history
// is asked for the first hole, [last + 1, first held id − 1]; an answer that adds anything is used at once and the
// next hole asked for; `fillAttempts` answers in a row that add nothing (failed or incomplete) give the hole up.
// Apart from that, holes are given up when a held trade has waited `maxHoldMs` (every hole before it), or when more
// than `maxHeldTrades` wait (the lowest holes, until few enough wait).
//
// Every released trade's tick carries what is known of the trades before it (tick.sequence, schemas/tick-v2.avsc):
// the first one after a start without a resume point is `first`; the one released right after ids were given up
// carries their count and the event time of the trade released before them (`first` too when that is unknown: a
// resumed sequence whose first hole was given up). Aggregation marks the bars those ranges touch incomplete.
import { backoffMs } from '../../backoff.js';
import type { GapReason } from '../../contracts/feed-event.js';
import type { VenueTrade } from '../venues/venue-adapter.js';
import type { GapFiller } from './gap-filler.js';
import { idRange, type IdRange } from './id-range.js';
import type { Timers } from './timers.js';

export interface SequenceLimits {
  /** How long a hole waits for late trades before the history is asked. */
  gapWaitMs: number;
  /** The longest a trade is held behind a hole. */
  maxHoldMs: number;
  /** The most trades held behind holes of one symbol. */
  maxHeldTrades: number;
  /** Answers in a row that add nothing before a hole is given up. */
  fillAttempts: number;
  /** Cap of the backoff between two of those answers. */
  fillRetryMaxMs: number;
}

/** Where a sequence's decisions go (the trade sequencer turns them into output, metrics, events and log lines). */
export interface SequenceOutput {
  /** Trades in increasing id order, each once. */
  release(trades: VenueTrade[]): void;
  /** A trade the feed delivered again (a reconnect's overlap, a snapshot re-sent): dropped. */
  duplicate(trade: VenueTrade): void;
  /** How many trades now wait behind holes. */
  held(count: number): void;
  /** A hole the history is asked for (or given up without asking); reported once. */
  gapFound(from: bigint, to: bigint): void;
  /** A found hole whose every trade was released. */
  gapFilled(from: bigint, to: bigint): void;
  /** Ids given up: never released; each id reported once. */
  gapUnfilled(from: bigint, to: bigint, reason: GapReason): void;
}

export interface SequenceDeps {
  timers: Timers;
  output: SequenceOutput;
  /** The venue's history; without one, a hole is given up (NO_HISTORY) once it has waited gapWaitMs. */
  filler?: GapFiller;
  /** The last id already released before this process (from the ticks topic): the sequence continues after it. */
  resumeAfter?: bigint;
  random?: () => number;
}

interface Held {
  range: IdRange;
  trade: VenueTrade;
  /** When it was held (ms). */
  since: number;
}

/** A hole as it was when it opened; trades arriving into it may split it, but it stays one gap until all settled. */
interface Gap {
  from: bigint;
  to: bigint;
  found: boolean;
  lost: boolean;
}

export class ContiguousSequence {
  #last: bigint | undefined;
  /** The event time (µs) of the trade released last: where a history by time starts looking for a hole. */
  #lastTime: number | undefined;
  /** Ids given up since the last release: the next trade released carries their count. */
  #lost = 0n;
  readonly #held: Held[] = [];
  readonly #gaps: Gap[] = [];
  #out: VenueTrade[] = [];
  /** Changes whenever holding ends (and on close), so a fill loop of an earlier hold knows to stop. */
  #holding = 0;
  #cancelWait: (() => void) | undefined;
  #cancelExpiry: (() => void) | undefined;
  /** Ends the fill loop's backoff wait at once (when holding ends, so no timer outlives it). */
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(
    readonly venueSymbol: string,
    private readonly limits: SequenceLimits,
    private readonly deps: SequenceDeps,
  ) {
    this.#last = deps.resumeAfter;
  }

  /** The highest id released or given up (undefined before the first trade without a resume point). */
  get last(): bigint | undefined {
    return this.#last;
  }

  get heldCount(): number {
    return this.#held.length;
  }

  /** Trades of this symbol in arrival order, with their id ranges (idRange, checked by the caller). */
  push(items: readonly { range: IdRange; trade: VenueTrade }[]): void {
    if (this.#closed) return;
    for (const { range, trade } of items) this.#take(range, trade, { fromHistory: false });
    this.#settle();
  }

  /** Stops: timers cancelled, held trades dropped (a restart resumes from the ticks topic and fills the hole again). */
  close(): void {
    this.#closed = true;
    this.#held.length = 0;
    this.#gaps.length = 0;
    this.#endHolding();
    this.deps.output.held(0);
  }

  #take(range: IdRange, trade: VenueTrade, { fromHistory }: { fromHistory: boolean }): void {
    const last = this.#last;
    if (last === undefined || range.first === last + 1n) {
      this.#release(range, trade);
      this.#drain();
      return;
    }
    if (range.first <= last) {
      // Its ids are settled already (a history answer overlapping what arrived meanwhile is expected, not counted).
      if (!fromHistory) this.deps.output.duplicate(trade);
      return;
    }
    const held = this.#held;
    const i = this.#heldIndex(range.first);
    const prev = held[i - 1];
    const next = held[i];
    if ((prev !== undefined && prev.range.last >= range.first) || (next !== undefined && next.range.first <= range.last)) {
      if (!fromHistory) this.deps.output.duplicate(trade);
      return;
    }
    const prevEnd = prev === undefined ? last : prev.range.last;
    // Only a trade past every held one can open a hole; one between held trades falls into a hole already open.
    if (next === undefined && range.first > prevEnd + 1n) this.#gaps.push({ from: prevEnd + 1n, to: range.first - 1n, found: false, lost: false });
    held.splice(i, 0, { range, trade, since: this.deps.timers.now() });
  }

  /** The index where a trade starting at `first` goes among the held ones (binary search; held are in id order). */
  #heldIndex(first: bigint): number {
    let lo = 0;
    let hi = this.#held.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#held[mid]!.range.first < first) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #release(range: IdRange, trade: VenueTrade): void {
    const tick = trade.tick;
    const lost = this.#lost;
    this.#lost = 0n;
    tick.sequence = {
      first: this.#last === undefined || (lost > 0n && this.#lastTime === undefined),
      lostIds: Number(lost),
      lostSince: this.#lastTime ?? tick.eventTime,
    };
    this.#out.push(trade);
    this.#last = range.last;
    this.#lastTime = trade.tick.eventTime;
  }

  /** Releases the held trades that now follow on from `last`. */
  #drain(): void {
    const held = this.#held;
    let n = 0;
    while (n < held.length && held[n]!.range.first <= this.#last! + 1n) {
      const h = held[n++]!;
      // Held trades never overlap each other, but the trade just released may overlap the first of them (an
      // aggregated push of fills one of which was held on its own): the held one goes, and any ids it alone stood
      // for become a hole like any other.
      if (h.range.first === this.#last! + 1n) this.#release(h.range, h.trade);
      else this.deps.output.duplicate(h.trade);
    }
    if (n > 0) held.splice(0, n);
  }

  /** After any change: close settled gaps, start or end holding, enforce the held bound, emit what was released. */
  #settle(): void {
    if (this.#held.length > this.limits.maxHeldTrades) this.#giveUpThrough(this.#held.length - this.limits.maxHeldTrades - 1, 'HOLD_FULL');
    const last = this.#last;
    while (this.#gaps.length > 0 && last !== undefined && this.#gaps[0]!.to <= last) {
      const gap = this.#gaps.shift()!;
      if (gap.found && !gap.lost) this.deps.output.gapFilled(gap.from, gap.to);
    }
    if (this.#held.length === 0) this.#endHolding();
    else if (this.#cancelWait === undefined) this.#startHolding();
    if (this.#out.length > 0) {
      const out = this.#out;
      this.#out = [];
      this.deps.output.release(out);
    }
    this.deps.output.held(this.#held.length);
  }

  #startHolding(): void {
    const holding = this.#holding;
    const { timers } = this.deps;
    this.#cancelWait = timers.after(this.limits.gapWaitMs, () => void this.#fill(holding));
    this.#cancelExpiry = timers.after(this.limits.maxHoldMs, () => this.#expire());
  }

  #endHolding(): void {
    if (this.#cancelWait === undefined) return;
    this.#cancelWait();
    this.#cancelExpiry?.();
    this.#wake?.();
    this.#cancelWait = this.#cancelExpiry = this.#wake = undefined;
    this.#holding++;
  }

  /** Gives up the holes before held[index] and releases held[0..index] (and what follows on). */
  #giveUpThrough(index: number, reason: GapReason): void {
    const held = this.#held.splice(0, index + 1);
    for (const h of held) {
      const last = this.#last!;
      if (h.range.first <= last) {
        // Overlapped by the trade released before it (see #drain).
        this.deps.output.duplicate(h.trade);
        continue;
      }
      if (h.range.first > last + 1n) this.#lose(last + 1n, h.range.first - 1n, reason);
      this.#release(h.range, h.trade);
    }
    this.#drain();
  }

  #lose(from: bigint, to: bigint, reason: GapReason): void {
    for (const gap of this.#gaps) {
      if (gap.from > to) break;
      if (gap.to < from) continue;
      gap.lost = true;
      if (!gap.found) {
        gap.found = true;
        this.deps.output.gapFound(gap.from, gap.to);
      }
    }
    this.#lost += to - from + 1n;
    this.deps.output.gapUnfilled(from, to, reason);
  }

  /** The hold timer: every hole before a trade held `maxHoldMs` is given up; the timer is set again for the rest. */
  #expire(): void {
    if (this.#closed) return;
    const now = this.deps.timers.now();
    let expired = -1;
    this.#held.forEach((h, i) => {
      if (h.since + this.limits.maxHoldMs <= now) expired = i;
    });
    if (expired >= 0) this.#giveUpThrough(expired, 'HOLD_TIMEOUT');
    if (this.#held.length > 0) {
      const oldest = this.#held.reduce((min, h) => Math.min(min, h.since), Infinity);
      this.#cancelExpiry = this.deps.timers.after(Math.max(0, oldest + this.limits.maxHoldMs - now), () => this.#expire());
    }
    this.#settle();
  }

  /** The fill loop of one holding: asks the history for the first hole until nothing is held. */
  async #fill(holding: number): Promise<void> {
    const { filler, timers } = this.deps;
    let attempts = 0;
    let failure: unknown;
    while (this.#holding === holding && !this.#closed && this.#held.length > 0) {
      const from = this.#last! + 1n;
      const to = this.#held[0]!.range.first - 1n;
      let gap = this.#gaps.find((g) => g.from <= from && from <= g.to);
      if (gap === undefined) {
        // A hole no trade opened: ids only a dropped overlapping trade stood for (see #drain).
        gap = { from, to, found: false, lost: false };
        this.#gaps.unshift(gap);
      }
      if (!gap.found) {
        gap.found = true;
        this.deps.output.gapFound(gap.from, gap.to);
      }
      if (filler === undefined) {
        this.#giveUpThrough(0, 'NO_HISTORY');
        this.#settle();
        continue;
      }
      // Taken before asking: trades the live feed delivers meanwhile count too (the hole moved: ask again at once;
      // giving up now could give up a hole that was never asked for).
      const before = { last: this.#last, held: this.#held.length };
      let answer: VenueTrade[] = [];
      failure = undefined;
      try {
        answer = await filler.fill(this.venueSymbol, String(from), String(to), {
          afterMicros: this.#lastTime,
          beforeMicros: this.#held[0]!.trade.tick.eventTime,
        });
      } catch (err) {
        failure = err;
      }
      if (this.#holding !== holding || this.#closed) return;
      for (const trade of answer) {
        if (trade.venueSymbol !== this.venueSymbol) continue;
        let range: IdRange;
        try {
          range = idRange(trade);
        } catch (err) {
          failure = err;
          continue;
        }
        // Only what was asked for: trades of the live feed's later ids come from the live feed.
        if (range.first >= from && range.last <= to) this.#take(range, trade, { fromHistory: true });
      }
      const progressed = this.#last !== before.last || this.#held.length !== before.held;
      if (progressed) attempts = 0;
      else if (++attempts >= this.limits.fillAttempts) {
        this.#giveUpThrough(0, failure === undefined ? 'FILL_INCOMPLETE' : 'FILL_FAILED');
        attempts = 0;
      }
      this.#settle();
      if (!progressed && attempts > 0) {
        const wait = backoffMs(attempts - 1, this.limits.fillRetryMaxMs, 100, this.deps.random);
        let wake: (() => void) | undefined;
        await new Promise<void>((resolve) => {
          const cancel = timers.after(wait, resolve);
          this.#wake = wake = () => {
            cancel();
            resolve();
          };
        });
        if (this.#wake === wake) this.#wake = undefined;
      }
    }
  }
}
