// Where a partition's symbols lost trades: the time ranges of unfilled gaps in a venue's contiguous trade ids, and
// which bars they make incomplete (a bar's `complete` field).
//
// A tick whose sequence breaks continuity (tick.sequence: a hole given up right before it, or the first trade after a
// feed started without knowing the one before it) stands for a range of event time in which trades are missing:
// (lostSince, its own event time] for a hole — the lost trades lie between the trade released before it and it — and
// everything up to its event time for a start without a predecessor. Every bucket of every interval that range
// touches, for that symbol, is incomplete.
//
// Completeness is decided when a bar closes, from the ranges known then: a range counts for a bar when the watermark
// just before the tick carrying it had not reached the bar's end (the tick arrived while the bar was open), whatever
// the batching, so a replay or a restart decides the same. A range whose tick arrives after a bar it touches has closed
// but while that bar is still within the allowed lateness revises it, as a late tick would: complete becomes false and
// the revision goes up by one (PartitionAggregator.closeFinal); after that the bar keeps the value it was published with
// (see docs/aggregation.md, "Complete bars").
import type { TickSequence } from '../contracts/tick.js';
import { breaksContinuity } from '../contracts/tick.js';

/** One unfilled gap (or unknown start) of one symbol, as event time, with the tick that reported it. */
export interface LossRange {
  symbol: string;
  /** Trades after this event time (µs) may be missing; -Infinity when unknown how far back. */
  from: number;
  /** The event time of the tick after the gap: trades up to it may be missing. */
  to: number;
  /** Source offset of that tick (its identity here: a tick is folded once per run). */
  offset: number;
  /** The partition watermark just before that tick: the bars it closed earlier do not see the range. */
  wmBefore: number;
}

/** The range a tick's sequence reports, or undefined when it breaks no continuity. */
export function lossOf(symbol: string, eventTime: number, s: TickSequence, offset: number, wmBefore: number): LossRange | undefined {
  if (!breaksContinuity(s)) return undefined;
  return { symbol, from: s.first ? -Infinity : Math.min(s.lostSince, eventTime), to: eventTime, offset, wmBefore };
}

/** Whether range `r` touches the bucket [start, end). */
export function touches(r: Pick<LossRange, 'from' | 'to'>, start: number, end: number): boolean {
  return r.from < end && r.to >= start;
}

export class Losses {
  /** Per symbol, by offset (a replayed tick adds its range again: once is enough). */
  private readonly bySymbol = new Map<string, Map<number, LossRange>>();

  get size(): number {
    let n = 0;
    for (const m of this.bySymbol.values()) n += m.size;
    return n;
  }

  add(r: LossRange): void {
    let m = this.bySymbol.get(r.symbol);
    if (!m) this.bySymbol.set(r.symbol, (m = new Map()));
    if (!m.has(r.offset)) m.set(r.offset, r);
  }

  /**
   * Whether a known range of `symbol` touches [start, end). `closingAt`: the bar closes now with that end, so only the
   * ranges whose tick arrived while it was open count; without it, every range known now (in-progress bars).
   * `knownBefore`: the bar is made now by the record at that offset (a late tick in a bucket that closed empty), so the
   * ranges reported before that record count too.
   */
  touch(symbol: string, start: number, end: number, opts: { closingAt?: number; knownBefore?: number } = {}): boolean {
    const m = this.bySymbol.get(symbol);
    if (m === undefined) return false;
    const { closingAt, knownBefore = -1 } = opts;
    for (const r of m.values()) if ((closingAt === undefined || r.wmBefore < closingAt || r.offset < knownBefore) && touches(r, start, end)) return true;
    return false;
  }

  /** Forget the ranges `done` says no bar can need any more. */
  prune(done: (r: LossRange) => boolean): void {
    for (const [symbol, m] of this.bySymbol) {
      for (const [offset, r] of m) if (done(r)) m.delete(offset);
      if (m.size === 0) this.bySymbol.delete(symbol);
    }
  }

  /** Plain data, for state snapshots. */
  state(): LossRange[] {
    const out: LossRange[] = [];
    for (const m of this.bySymbol.values()) out.push(...m.values());
    return out.sort((a, b) => a.offset - b.offset);
  }

  restore(ranges: readonly LossRange[]): void {
    for (const r of ranges) this.add(r);
  }
}
