// The state machine of one source partition: fold batch results in, close final bars, checkpoint, restore.
//
// Exactly-once effect rests on the checkpoint committed with each offset (as Kafka offset metadata):
//   offset      lowest offset any open bar still needs (a restart re-reads from here),
//   wm          the watermark just before that offset (the replay recomputes the same watermark path,
//               so the same ticks are late and the same bars close),
//   durable     the watermark up to which every closed bar is already in every sink,
//   hi          the next offset after the highest one ever processed.
// After a restart, bars ending at or before `durable` are not emitted again (they were recomputed from a
// suffix of their ticks only), and rejects below `hi` are not dead-lettered twice.
import type { Config, IntervalSpec } from '../config.js';
import type { BarAcc } from './ohlcv.js';
import { mergeAcc } from './ohlcv.js';
import { copyAs, OpenBars } from './open-bars.js';
import type { BatchOutput, LateTick, Reject } from './pre-aggregate.js';
import { bucketingsFor, type Bucketing } from './bucketing.js';

export interface CheckpointMeta {
  v: 1;
  /** null stands for -Infinity (JSON has no infinities). */
  wm: number | null;
  durable: number | null;
  hi: number;
}

export interface Checkpoint {
  offset: number;
  meta: CheckpointMeta;
}

const fromJson = (x: number | null): number => (x === null ? -Infinity : x);
const toJson = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function parseCheckpoint(metadata: string | null | undefined): CheckpointMeta | undefined {
  if (!metadata) return undefined;
  try {
    const m = JSON.parse(metadata) as CheckpointMeta;
    return m && m.v === 1 && typeof m.hi === 'number' ? m : undefined;
  } catch {
    return undefined;
  }
}

export class PartitionAggregator {
  /** Watermark of the partition (µs). */
  watermark: number;
  /** Every bar ending at or before this is durable in every sink. */
  private durableThrough: number;
  /** Records below this offset were processed before a restart. */
  private readonly replayUntil: number;
  private nextOffset = -1;
  /** Open bars per interval, smallest first. Only the first is built from ticks; the others roll up. */
  private readonly levels: OpenBars[];

  /** Open base bars (symbol, bucketStart) that took ticks since the last `liveBars` call. */
  private readonly touched = new Map<string, { symbol: string; bucketStart: number }>();

  /** Late ticks of the batches applied since the last closeFinal, in offset order. */
  private pendingLate: LateTick[] = [];
  private readonly allowedLateness: number;

  constructor(intervals: IntervalSpec[], restored?: CheckpointMeta, allowedLateness = 0, bucketings?: Bucketing[]) {
    this.allowedLateness = allowedLateness;
    this.levels = intervals.map((iv, i) => new OpenBars(iv, allowedLateness, bucketings?.[i]));
    this.watermark = restored ? fromJson(restored.wm) : -Infinity;
    this.durableThrough = restored ? fromJson(restored.durable) : -Infinity;
    this.replayUntil = restored ? restored.hi : -1;
  }

  /** The state for a partition as the configuration asks (intervals, lateness, origin, daily zone). */
  static fromConfig(config: Config, restored?: CheckpointMeta): PartitionAggregator {
    return new PartitionAggregator(
      config.intervals,
      restored,
      config.allowedLatenessMs * 1000,
      bucketingsFor(config.intervals, { origin: config.bucketOrigin, dailyZone: config.dailyTimezone }),
    );
  }

  get openBars(): number {
    return this.levels.reduce((n, l) => n + l.size, 0);
  }

  /** The interval ticks are aggregated at (the workers' unit of work). */
  get baseInterval(): IntervalSpec {
    return this.levels[0]!.interval;
  }

  /**
   * Fold one batch's worker output in. Returns the rejects that still need dead-lettering
   * (those of records first seen now, not replayed ones).
   */
  apply(out: BatchOutput, offsets: ArrayLike<number>, lastOffset: number): Reject[] {
    this.watermark = Math.max(this.watermark, out.watermark);
    this.levels[0]!.merge(out.partials);
    for (const p of out.partials) this.touched.set(`${p.symbol}\u0000${p.bucketStart}`, { symbol: p.symbol, bucketStart: p.bucketStart });
    for (const l of out.late) this.pendingLate.push(l);
    this.nextOffset = Math.max(this.nextOffset, lastOffset + 1);
    return out.rejects.filter((r) => offsets[r.index]! >= this.replayUntil);
  }

  /** Live mode: move a quiet partition's watermark forward. */
  advanceTo(watermark: number): boolean {
    if (watermark <= this.watermark) return false;
    this.watermark = watermark;
    return true;
  }

  /**
   * Advance the state to the watermark and return the bars to publish, each once with its latest revision:
   *  1. close the bars the watermark passed, rolling each closed base bar up into every larger interval
   *     (exact partial sums, so a rolled-up bar equals the bar computed from its ticks directly);
   *  2. apply the pending late ticks in offset order: a level whose bar had closed when the tick arrived
   *     gets a revision, a level still open then just takes the tick;
   *  3. forget closed bars past the allowed lateness.
   * Not returned: bars durable before a restart, and revisions made by records below the replay point.
   * Call `markDurable` once the returned bars are in every sink.
   */
  closeFinal(): BarAcc[] {
    const out = new Set<BarAcc>();
    for (let i = 0; i < this.levels.length; i++) {
      const level = this.levels[i]!;
      for (const acc of level.close(this.watermark)) {
        // Durable base bars still roll up: after a restart the larger open bars are rebuilt from them.
        if (i === 0) {
          for (let j = 1; j < this.levels.length; j++) {
            const up = this.levels[j]!;
            up.mergeOne(acc.symbol, up.bucketing.start(acc.bucketStart), acc, false);
          }
        }
        if (level.bucketing.end(acc.bucketStart) > this.durableThrough) out.add(acc);
      }
    }
    for (const late of this.pendingLate) {
      const t = late.partial;
      for (const level of this.levels) {
        const start = level.bucketing.start(t.bucketStart);
        const end = level.bucketing.end(start);
        if (end <= late.wmBefore) {
          const acc = level.revise(t.symbol, start, t, late.offset);
          if (late.offset >= this.replayUntil) out.add(acc);
        } else {
          const closedSince = level.absorb(t.symbol, start, t, this.watermark);
          if (closedSince && (late.offset >= this.replayUntil || end > this.durableThrough)) out.add(closedSince);
        }
      }
    }
    this.pendingLate = [];
    for (const level of this.levels) level.evict(this.watermark);
    return [...out];
  }

  /**
   * In-progress bars for live charts: for every symbol with an open base bar that took ticks since the last
   * call, the current state of the newest such bar at every interval. A larger interval's open bar holds only closed base bars (roll-ups), so
   * its in-progress state is that bar plus the open base bars inside its bucket. Copies, never state itself.
   */
  liveBars(): BarAcc[] {
    if (this.touched.size === 0) return [];
    const base = this.levels[0]!;
    const out: BarAcc[] = [];
    const seen = new Set<string>();
    let openBySymbol: Map<string, BarAcc[]> | undefined;
    // One update per (symbol, interval) per call: the newest base bucket that took ticks (with out-of-order
    // ticks an older one may have too; its final bar follows soon, and larger intervals include it anyway).
    const newest = new Map<string, number>();
    for (const { symbol, bucketStart } of this.touched.values()) {
      if (base.get(symbol, bucketStart) && bucketStart > (newest.get(symbol) ?? -Infinity)) newest.set(symbol, bucketStart);
    }
    for (const [symbol, bucketStart] of newest) {
      const acc = base.get(symbol, bucketStart);
      if (!acc) continue; // closed since: its final version is on the way
      out.push(copyAs(acc, acc.interval, acc.bucketStart));
      for (let j = 1; j < this.levels.length; j++) {
        const level = this.levels[j]!;
        const start = level.bucketing.start(bucketStart);
        const key = `${j}\u0000${symbol}\u0000${start}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!openBySymbol) {
          openBySymbol = new Map();
          for (const b of base.openBars()) {
            const list = openBySymbol.get(b.symbol);
            if (list) list.push(b);
            else openBySymbol.set(b.symbol, [b]);
          }
        }
        const rolled = level.get(symbol, start);
        let live: BarAcc | undefined = rolled && copyAs(rolled, level.interval.name, start);
        for (const b of openBySymbol.get(symbol) ?? []) {
          if (level.bucketing.start(b.bucketStart) !== start) continue;
          if (live) mergeAcc(live, b);
          else live = copyAs(b, level.interval.name, start);
        }
        if (live) out.push(live);
      }
    }
    this.touched.clear();
    return out;
  }

  markDurable(): void {
    this.durableThrough = Math.max(this.durableThrough, this.watermark);
  }

  /** What to commit now, or undefined before the first record. */
  checkpoint(): Checkpoint | undefined {
    if (this.nextOffset < 0) return undefined;
    let low: { offset: number; watermark: number } | undefined;
    for (const level of this.levels) {
      const l = level.lowWater();
      if (l && (!low || l.offset < low.offset)) low = l;
    }
    return {
      offset: low ? low.offset : this.nextOffset,
      // hi never goes back: a restart in the middle of a replay has still seen everything below the old hi.
      meta: { v: 1, wm: toJson(low ? low.watermark : this.watermark), durable: toJson(this.durableThrough), hi: Math.max(this.replayUntil, this.nextOffset) },
    };
  }
}
