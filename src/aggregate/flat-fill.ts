// The empty-interval policy 'flat' for one interval of one partition: once a symbol has traded, every later
// bucket in which it did not trade gets a flat bar at the previous close (zero volume, no trades), like QuestDB's
// SAMPLE BY … FILL(PREV) or TimescaleDB's locf. Flat bars are output only: they never roll up (a larger bar's
// open is its first trade, not a carried price).
//
// Revisions. A late tick landing in bucket b changes what the flat bars after b carry (up to the next bucket
// with trades), so those are re-published; each flat bar counts, as its revision, the late ticks that changed it
// after it had closed. A flat bucket that a late tick turns into a real bar keeps counting from the flat bar's
// revision, so a bar identity's revision never goes back.
import type { BarAcc } from './ohlcv.js';
import type { Bucketing } from './bucketing.js';

/** The close a symbol's flat bars carry, and how far its buckets are filled. */
export interface Carry {
  close: number;
  time: number;
  id: string;
  /** Last bucket start of this symbol that is closed and published (real or flat). */
  filled: number;
}

/** Plain data of a FlatFill, for state snapshots. */
export interface FlatFillState {
  carry: [string, Carry][];
  flats: BarAcc[];
  converted: [string, number][];
}

const key = (symbol: string, bucketStart: number) => `${symbol}\u0000${bucketStart}`;

export class FlatFill {
  private readonly carry = new Map<string, Carry>();
  /** Flat bars a late tick may still change, until the watermark passes end + allowed lateness. */
  private readonly flats = new Map<string, BarAcc>();
  /** Flat buckets turned real by a late tick: the revision the real bar continues from (same lifetime). */
  private readonly converted = new Map<string, number>();
  /** End of the last bucket every known symbol was filled through: below it only symbols with new bars need work. */
  private filledAllThrough = -Infinity;

  constructor(
    private readonly interval: string,
    private readonly bucketing: Bucketing,
  ) {}

  /**
   * After the level closed `closed` (real bars, any order) at `watermark`: the flat bars for every bucket now
   * closed in which a known symbol had no trade. Real bars ending at or before `skipThrough` are ones replayed
   * after a restore, already accounted for in the restored state.
   */
  close(closed: BarAcc[], watermark: number, skipThrough: number): BarAcc[] {
    const bySymbol = new Map<string, BarAcc[]>();
    for (const b of closed) {
      if (this.bucketing.end(b.bucketStart) <= skipThrough) continue;
      const list = bySymbol.get(b.symbol);
      if (list) list.push(b);
      else bySymbol.set(b.symbol, [b]);
    }
    const lastStart = this.bucketing.start(watermark);
    // The newest bucket wholly before the watermark: buckets up to it are closed.
    const closedThrough = this.bucketing.end(lastStart) <= watermark ? lastStart : this.previous(lastStart);
    const everyone = closedThrough > this.filledAllThrough;
    const out: BarAcc[] = [];
    const symbols = everyone ? new Set([...this.carry.keys(), ...bySymbol.keys()]) : bySymbol.keys();
    for (const symbol of symbols) {
      const real = bySymbol.get(symbol)?.sort((a, b) => a.bucketStart - b.bucketStart) ?? [];
      let c = this.carry.get(symbol);
      for (const r of real) {
        if (c) this.fill(symbol, c, this.bucketing.end(c.filled), r.bucketStart, out);
        c = { close: r.close, time: r.closeTime, id: r.closeId, filled: r.bucketStart };
        this.carry.set(symbol, c);
      }
      if (c) this.fill(symbol, c, this.bucketing.end(c.filled), this.bucketing.end(closedThrough), out);
    }
    if (everyone) this.filledAllThrough = closedThrough;
    return out;
  }

  /** Flat bars for the buckets from `from` up to (not including) `until`, carrying `c`. */
  private fill(symbol: string, c: Carry, from: number, until: number, out: BarAcc[]): void {
    for (let b = from; b < until; b = this.bucketing.end(b)) {
      const flat = this.flatBar(symbol, b, c, 0);
      this.flats.set(key(symbol, b), flat);
      out.push(flat);
      c.filled = b;
    }
  }

  private previous(bucketStart: number): number {
    return this.bucketing.start(bucketStart - 1);
  }

  private flatBar(symbol: string, bucketStart: number, c: Carry, revision: number): BarAcc {
    return {
      symbol,
      interval: this.interval,
      bucketStart,
      open: c.close,
      openTime: c.time,
      openId: c.id,
      high: c.close,
      low: c.close,
      close: c.close,
      closeTime: c.time,
      closeId: c.id,
      volume: [],
      quoteVolume: [],
      buyVolume: [],
      tradeCount: 0,
      minOffset: Infinity,
      wmAtMin: -Infinity,
      revision,
      revisedAt: -1,
      // No trades: complete only if a gap touches the bucket (false), else unknown (partition-aggregator.ts).
      known: false,
      lossy: false,
    };
  }

  /**
   * A late tick is about to land in bucket `bucketStart`: the revision a bar created there must continue from
   * (that of the flat bar it replaces, or 0), and the flat bar it replaces, if any (not to be published now).
   */
  convert(symbol: string, bucketStart: number): { prior: number; flat?: BarAcc } {
    const k = key(symbol, bucketStart);
    const flat = this.flats.get(k);
    if (flat) {
      this.flats.delete(k);
      this.converted.set(k, flat.revision);
      return { prior: flat.revision, flat };
    }
    return { prior: this.converted.get(k) ?? 0 };
  }

  /**
   * A late tick landed in `real` (its bar at this interval), which had closed when the tick arrived. Re-carry
   * the closed flat buckets after it up to the next bucket with trades; `hasReal(b)` tells whether bucket b holds
   * trades. A flat bar that had closed before the tick arrived (end ≤ wmBefore) counts a revision (`revised`);
   * one that closed since carries the tick in its first version. Flat bars are updated in place.
   */
  afterLate(real: BarAcc, wmBefore: number, watermark: number, hasReal: (bucketStart: number) => boolean): { flat: BarAcc; revised: boolean }[] {
    const out: { flat: BarAcc; revised: boolean }[] = [];
    const symbol = real.symbol;
    const c: Carry = { close: real.close, time: real.closeTime, id: real.closeId, filled: real.bucketStart };
    let reachedEnd = true;
    for (let b = this.bucketing.end(real.bucketStart); this.bucketing.end(b) <= watermark; b = this.bucketing.end(b)) {
      if (hasReal(b)) {
        reachedEnd = false;
        break;
      }
      const revised = this.bucketing.end(b) <= wmBefore;
      const k = key(symbol, b);
      let flat = this.flats.get(k);
      if (flat) {
        flat.open = flat.high = flat.low = flat.close = c.close;
        flat.openTime = flat.closeTime = c.time;
        flat.openId = flat.closeId = c.id;
        if (revised) flat.revision++;
      } else {
        // A bucket before the symbol's first trade until now: its flat bar exists from this tick on.
        this.flats.set(k, (flat = this.flatBar(symbol, b, c, revised ? 1 : 0)));
      }
      out.push({ flat, revised });
      c.filled = b;
    }
    const known = this.carry.get(symbol);
    if (reachedEnd) this.carry.set(symbol, { ...c, filled: Math.max(c.filled, known?.filled ?? -Infinity) });
    return out;
  }

  /** Forget flat bars no late tick can change any more. */
  evict(watermark: number, allowedLateness: number): void {
    for (const [k, acc] of this.flats) if (this.bucketing.end(acc.bucketStart) + allowedLateness <= watermark) this.flats.delete(k);
    for (const k of this.converted.keys()) {
      const start = Number(k.slice(k.indexOf('\u0000') + 1));
      if (this.bucketing.end(start) + allowedLateness <= watermark) this.converted.delete(k);
    }
  }

  get size(): number {
    return this.carry.size + this.flats.size;
  }

  state(): FlatFillState {
    return { carry: [...this.carry], flats: [...this.flats.values()], converted: [...this.converted] };
  }

  restore(s: FlatFillState): void {
    for (const [symbol, c] of s.carry) this.carry.set(symbol, c);
    for (const f of s.flats) this.flats.set(key(f.symbol, f.bucketStart), f);
    for (const [k, r] of s.converted) this.converted.set(k, r);
  }
}
