// The state machine of one source partition: fold batch results in, close final bars, checkpoint, restore.
//
// Exactly-once effect rests on the checkpoint committed with each offset (as Kafka offset metadata):
//   offset      where a restart re-reads from,
//   wm          the watermark just before that offset (the replay recomputes the same watermark path,
//               so the same ticks are late and the same bars close),
//   durable     the watermark up to which every closed bar is already in every sink,
//   hi          the next offset after the highest one ever processed,
//   snap        (optional) the state snapshot the restart starts from.
// After a restart, bars ending at or before `durable` are not emitted again (they were recomputed from a
// suffix of their ticks only), and rejects below `hi` are not dead-lettered twice.
//
// Without a snapshot, `offset` is the lowest offset any open bar of any interval still needs, so a 1d interval
// would hold it back a whole day. With one (see `snapshot`), the larger intervals' open bars, the flat-bar state
// and the indicators come from the snapshot, and `offset` is where the *base* interval's open bars start when
// it was taken: a restart replays that much. During that replay the restored state already holds everything
// the snapshot saw: base bars ending at or before the snapshot's watermark are not rolled up again, and late
// ticks below the snapshot's `hi` are not applied again to the larger intervals or to the flat bars.
import type { Config } from '../config.js';
import type { IntervalSpec } from '../contracts/interval.js';
import type { SnapshotRef } from '../contracts/snapshot-ref.js';
import type { BarAcc } from './ohlcv.js';
import { mergeAcc, toBar } from './ohlcv.js';
import type { Bar } from '../contracts/bar.js';
import { copyAs, OpenBars } from './open-bars.js';
import type { BatchOutput, FoldParams, LateTick, Reject } from './tick-folder.js';
import { bucketingsFor, type Bucketing } from './bucketing.js';
import { FlatFill, type FlatFillState } from './flat-fill.js';
import { InternalError, StateRestoreError } from '../errors.js';
import { Losses, touches, type LossRange } from './losses.js';

export interface CheckpointMeta {
  v: 1 | 2;
  /** null stands for -Infinity (JSON has no infinities). */
  wm: number | null;
  durable: number | null;
  hi: number;
  snap?: SnapshotRef;
}

export interface Checkpoint {
  offset: number;
  meta: CheckpointMeta;
}

/** The aggregation state of a partition at a durable point: what a restart needs besides the base interval's ticks. */
export interface AggState {
  v: 1;
  /** Next offset after the highest processed when taken. */
  hi: number;
  /** Watermark when taken; every bar ending at or before it was durable. */
  wm: number;
  /** Where the base interval's open (and still revisable) bars start, and the watermark before it. */
  from: number;
  fromWm: number;
  /** The intervals it was taken with, smallest first: a restore with others is refused. */
  intervals: string[];
  /** Bars of every interval but the base one (index 0 is empty). */
  levels: { open: BarAcc[]; revisable: BarAcc[] }[];
  /** Flat-bar state of every interval, when that policy is on. */
  fills?: FlatFillState[];
  /** Unfilled gaps in trade ids that open bars may still need (absent in snapshots older than the field: none). */
  losses?: LossRange[];
}

const fromJson = (x: number | null): number => (x === null ? -Infinity : x);
const toJson = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function parseCheckpoint(metadata: string | null | undefined): CheckpointMeta | undefined {
  if (!metadata) return undefined;
  try {
    const m = JSON.parse(metadata) as CheckpointMeta;
    return m && (m.v === 1 || m.v === 2) && typeof m.hi === 'number' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Where fromConfig starts: a committed checkpoint and the snapshot it refers to, or nothing (the beginning). */
export interface RestoreFrom {
  checkpoint?: CheckpointMeta;
  snapshot?: AggState;
  /** Keep each closed bar's first version for the indicators (the aggregator; replay does not need them). */
  firstVersions?: boolean;
}

export interface PartitionOptions {
  /** The empty-interval policy: flat bars at the previous close. */
  flat?: boolean;
  /** The snapshot the checkpoint refers to. */
  snapshot?: AggState;
  /** Keep each closed bar's first version for `takeFirstVersions` (the indicators need them; replay does not). */
  firstVersions?: boolean;
  /** Hold the rolled-up intervals' open bars as rows of doubles (bar-rows.ts; TE_AGG_BAR_ROWS). Default true. */
  barRows?: boolean;
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
  /**
   * Per symbol, the newest base bucket that took ticks since the last `liveBars` call that included the larger
   * intervals (TE_LIVE_UPDATE_ROLLED_MS: their updates may come less often than the base interval's), and when the
   * last of the larger intervals' buckets holding it closes.
   */
  private readonly touchedRolled = new Map<string, { bucketStart: number; until: number }>();

  /** Late ticks of the batches applied since the last closeFinal, in offset order. */
  private pendingLate: LateTick[] = [];
  /** Gaps reported by the batches applied since the last closeFinal, in offset order: they may revise closed bars. */
  private pendingLosses: LossRange[] = [];
  private readonly allowedLateness: number;
  /** Flat-bar state per interval (empty-interval policy 'flat'), else undefined. */
  private readonly fills: FlatFill[] | undefined;
  /** The restored snapshot's hi and watermark (-1 / -Infinity without one). */
  private readonly snapHi: number;
  private readonly snapWm: number;
  /** Once a snapshot is taken (or restored): the replay point it needs, committed until the next one. */
  private pinned: { from: number; fromWm: number } | undefined;
  /** First final versions of the bars closed since the last takeFirstVersions. */
  private readonly firstVersions = new Map<BarAcc, { bar: Bar; published: boolean }>();
  private readonly keepFirstVersions: boolean;
  /** The unfilled gaps in trade ids the partition's ticks reported, while a bar they touch may still close. */
  private readonly losses = new Losses();

  constructor(intervals: IntervalSpec[], restored?: CheckpointMeta, allowedLateness = 0, bucketings?: Bucketing[], opts: PartitionOptions = {}) {
    this.allowedLateness = allowedLateness;
    const rows = opts.barRows ?? true;
    this.levels = intervals.map((iv, i) => new OpenBars(iv, allowedLateness, bucketings?.[i], { rows: rows && i > 0 }));
    this.fills = opts.flat ? this.levels.map((l) => new FlatFill(l.interval.name, l.bucketing)) : undefined;
    this.keepFirstVersions = opts.firstVersions ?? false;
    this.watermark = restored ? fromJson(restored.wm) : -Infinity;
    this.durableThrough = restored ? fromJson(restored.durable) : -Infinity;
    this.replayUntil = restored ? restored.hi : -1;
    const snap = opts.snapshot;
    if (snap) {
      const now = intervals.map((i) => i.name).join(',');
      if (snap.intervals.join(',') !== now)
        throw new StateRestoreError(
          `the state snapshot was taken with intervals ${snap.intervals.join(',')}, but TE_INTERVALS is ${now}: set them back, or start the aggregator group afresh (new TE_AGG_GROUP, or reset its offsets)`,
        );
      if (Boolean(snap.fills) !== Boolean(opts.flat))
        throw new StateRestoreError(
          `the state snapshot was taken with TE_EMPTY_BARS=${snap.fills ? 'flat' : 'skip'}, now ${opts.flat ? 'flat' : 'skip'}: set it back, or start the aggregator group afresh`,
        );
    }
    this.snapHi = snap ? snap.hi : -1;
    this.snapWm = snap ? snap.wm : -Infinity;
    if (snap) {
      for (let j = 1; j < this.levels.length; j++) {
        const l = snap.levels[j];
        if (l) this.levels[j]!.restore(l);
      }
      if (this.fills && snap.fills) this.fills.forEach((f, i) => snap.fills![i] && f.restore(snap.fills![i]!));
      if (snap.losses) this.losses.restore(snap.losses);
      this.pinned = { from: snap.from, fromWm: snap.fromWm };
    }
  }

  /** The state for a partition as the configuration asks (intervals, lateness, origin, daily zone, empty bars). */
  static fromConfig(config: Config, from: RestoreFrom = {}): PartitionAggregator {
    return new PartitionAggregator(
      config.intervals,
      from.checkpoint,
      config.allowedLatenessMs * 1000,
      bucketingsFor(config.intervals, { origin: config.bucketOrigin, dailyZone: config.dailyTimezone }),
      { flat: config.emptyBars === 'flat', snapshot: from.snapshot, firstVersions: from.firstVersions, barRows: config.aggBarRows },
    );
  }

  /** What a fold of this partition's next ticks needs: its base interval and watermark, and the configured bounds. */
  foldParams(config: Config): FoldParams {
    return {
      interval: this.baseInterval,
      watermark: this.watermark,
      maxOutOfOrder: config.maxOutOfOrderMs * 1000,
      allowedLateness: config.allowedLatenessMs * 1000,
      maxAhead: config.maxFutureMs * 1000,
      origin: config.bucketOrigin,
    };
  }

  get openBars(): number {
    return this.levels.reduce((n, l) => n + l.size, 0) + (this.fills?.reduce((n, f) => n + f.size, 0) ?? 0);
  }

  /** Bars with ticks not yet in an in-progress update: bounded by the open bars and the symbols, whoever asks. */
  get pendingLiveUpdates(): number {
    return this.touched.size + this.touchedRolled.size;
  }

  /** The next offset to process: everything below it has been folded in (-1 before the first record). */
  get processedUntil(): number {
    return this.nextOffset;
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
    for (const p of out.partials) {
      this.touched.set(`${p.symbol}\u0000${p.bucketStart}`, { symbol: p.symbol, bucketStart: p.bucketStart });
      const r = this.touchedRolled.get(p.symbol);
      if (!r) this.touchedRolled.set(p.symbol, { bucketStart: p.bucketStart, until: this.rolledUntil(p.bucketStart) });
      else if (p.bucketStart > r.bucketStart) {
        r.bucketStart = p.bucketStart;
        r.until = this.rolledUntil(p.bucketStart);
      }
    }
    for (const l of out.late) this.pendingLate.push(l);
    for (const r of out.losses) {
      this.losses.add(r);
      this.pendingLosses.push(r);
    }
    this.nextOffset = Math.max(this.nextOffset, lastOffset + 1);
    return out.rejects.filter((r) => offsets[r.index]! >= this.replayUntil);
  }

  /**
   * The offsets from `firstOffset` up to `lastOffset` hold no tick (transaction markers, aborted records): when they
   * follow on from what was processed, the next offset to process is past them — else a partition whose log ends in
   * a transaction marker would never count as caught up. False when they do not follow on.
   */
  passOver(firstOffset: number, lastOffset: number): boolean {
    if (this.nextOffset >= 0 && firstOffset > this.nextOffset) return false;
    this.nextOffset = Math.max(this.nextOffset, lastOffset + 1);
    return true;
  }

  /** Live mode: move a quiet partition's watermark forward. */
  advanceTo(watermark: number): boolean {
    if (watermark <= this.watermark) return false;
    this.watermark = watermark;
    return true;
  }

  /**
   * Advance the state to the watermark and return the bars to publish, each once with its latest revision:
   *  1. late ticks whose bar (at some interval) was still open when they arrived join that open bar;
   *  2. close the bars the watermark passed, rolling each closed base bar up into every larger interval
   *     (exact partial sums, so a rolled-up bar equals the bar computed from its ticks directly), and fill the
   *     empty buckets with flat bars when that policy is on;
   *  3. in arrival order: late ticks whose bar had closed when they arrived revise it (and re-carry the flat bars
   *     after it), and gaps reported after a bar they touch had closed revise it as incomplete (losses.ts);
   *  4. forget closed bars past the allowed lateness.
   * Whatever the batching, a bar's first final version holds exactly the ticks that arrived before the watermark
   * passed its end (`takeFirstVersions`), and each later tick counts one revision.
   * Not returned: bars durable before a restart, and revisions made by records below the replay point.
   * Call `markDurable` once the returned bars are in every sink.
   */
  closeFinal(): BarAcc[] {
    const out = new Set<BarAcc>();
    const revising: LateTick[] = [];
    for (const late of this.pendingLate) {
      const t = late.partial;
      const seen = late.offset < this.snapHi; // already in the restored state, except the base interval's bars
      let closedAtArrival = false;
      for (let i = 0; i < this.levels.length; i++) {
        const level = this.levels[i]!;
        const start = level.bucketing.start(t.bucketStart);
        if (level.bucketing.end(start) <= late.wmBefore) closedAtArrival = true;
        else if (!seen) level.mergeCopy(t.symbol, start, t);
      }
      if (closedAtArrival) revising.push(late);
    }
    for (let i = 0; i < this.levels.length; i++) {
      const level = this.levels[i]!;
      const closed = level.close(this.watermark);
      for (const acc of closed) {
        const end = level.bucketing.end(acc.bucketStart);
        this.markLosses(acc, end, { closing: true });
        // Durable base bars still roll up: after a restart the larger open bars are rebuilt from them.
        // Not those the restored snapshot already holds.
        if (i === 0 && end > this.snapWm) {
          for (let j = 1; j < this.levels.length; j++) {
            const up = this.levels[j]!;
            up.mergeCopy(acc.symbol, up.bucketing.start(acc.bucketStart), acc);
          }
        }
        this.closedNow(acc, end, out);
      }
      for (const flat of this.fills?.[i]!.close(closed, this.watermark, this.snapWm) ?? []) {
        const end = level.bucketing.end(flat.bucketStart);
        this.markLosses(flat, end, { closing: true });
        this.closedNow(flat, end, out);
      }
    }
    // Both kinds in offset order (a tick before the gap it reports), so any batching revises the same way.
    const losses = this.pendingLosses.sort((a, b) => a.offset - b.offset);
    let k = 0;
    for (const late of revising) {
      while (k < losses.length && losses[k]!.offset < late.offset) this.reviseForLoss(losses[k++]!, out);
      this.reviseLate(late, out);
    }
    while (k < losses.length) this.reviseForLoss(losses[k++]!, out);
    this.pendingLosses = [];
    this.pendingLate = [];
    // Closed base bars need no in-progress update: without this, a caller that never asks for them (replay,
    // TE_LIVE_UPDATE_MS=0) would keep one entry per base bar for ever.
    const base = this.levels[0]!;
    for (const [key, t] of this.touched) if (base.bucketing.end(t.bucketStart) <= this.watermark) this.touched.delete(key);
    // The same for the larger intervals, once every one of their buckets holding it has closed.
    for (const [symbol, r] of this.touchedRolled) if (r.until <= this.watermark) this.touchedRolled.delete(symbol);
    for (const level of this.levels) level.evict(this.watermark);
    if (this.fills) for (const f of this.fills) f.evict(this.watermark, this.allowedLateness);
    // A range is needed while a bar it touches may still close: until every interval's bucket holding its end has.
    this.losses.prune((r) => this.levels.every((l) => l.bucketing.end(l.bucketing.start(r.to)) + this.allowedLateness <= this.watermark));
    return [...out];
  }

  /** A late tick whose bar (at some interval) had closed when it arrived: revise that bar, and the flat bars after it. */
  private reviseLate(late: LateTick, out: Set<BarAcc>): void {
    const t = late.partial;
    const seen = late.offset < this.snapHi;
    const fresh = late.offset >= this.replayUntil;
    for (let i = 0; i < this.levels.length; i++) {
      if (seen && i > 0) break;
      const level = this.levels[i]!;
      const start = level.bucketing.start(t.bucketStart);
      if (level.bucketing.end(start) > late.wmBefore) continue; // joined the open bar in step 1
      const fill = this.fills?.[i];
      const conv = fill?.convert(t.symbol, start);
      if (conv?.flat) out.delete(conv.flat);
      const existed = level.has(t.symbol, start);
      const acc = level.revise(t.symbol, start, t, late.offset, conv?.prior);
      // A bucket that had no bar when it closed gets one now: the gaps known while it was open count as for any bar,
      // and so do those reported since (a bar that existed then was revised by them).
      this.markLosses(acc, level.bucketing.end(start), { closing: true, madeBy: existed ? undefined : late.offset });
      if (fresh) out.add(acc);
      if (!fill || seen) continue;
      for (const { flat, revised } of fill.afterLate(acc, late.wmBefore, this.watermark, (b) => level.has(t.symbol, b))) {
        const end = level.bucketing.end(flat.bucketStart);
        this.markLosses(flat, end, { closing: true });
        if (fresh || end > this.durableThrough) out.add(flat);
        // A flat bar that closed after this tick arrived carries it in its first version.
        if (!revised) this.keepFirstVersion(flat, end);
      }
    }
  }

  /**
   * A gap reported after bars it touches had closed: each such bar still within the allowed lateness, not yet marked,
   * becomes incomplete with one more revision (as a late tick would revise it). Flat bars are not revised: they never
   * claim completeness (null), and a gap known while they were open already made them false.
   */
  private reviseForLoss(r: LossRange, out: Set<BarAcc>): void {
    const seen = r.offset < this.snapHi; // the restored state holds the larger intervals' bars as they were after it
    const fresh = r.offset >= this.replayUntil;
    for (let i = 0; i < this.levels.length; i++) {
      if (seen && i > 0) break;
      const level = this.levels[i]!;
      for (const acc of level.revisableOf(r.symbol)) {
        const end = level.bucketing.end(acc.bucketStart);
        // Open when the gap was reported (decided at its close), or past the lateness then: not this path's.
        if (acc.lossy || end > r.wmBefore || end + this.allowedLateness <= r.wmBefore || !touches(r, acc.bucketStart, end)) continue;
        acc.lossy = true;
        acc.revision++;
        acc.revisedAt = Math.max(acc.revisedAt, r.offset);
        if (fresh) out.add(acc);
      }
    }
  }

  /**
   * A bar closing now (`closing`: only gaps reported while it was open count, so any batching decides the same) or an
   * in-progress copy (every gap known now): incomplete when a gap of its symbol touches its bucket.
   */
  private markLosses(acc: BarAcc, end: number, opts: { closing: boolean; madeBy?: number }): void {
    if (!acc.lossy && this.losses.touch(acc.symbol, acc.bucketStart, end, opts.closing ? { closingAt: end, knownBefore: opts.madeBy } : {})) acc.lossy = true;
  }

  /** A bar (real or flat) just closed: publish it unless durable already, and keep its first version. */
  private closedNow(acc: BarAcc, end: number, out: Set<BarAcc>): void {
    if (end > this.durableThrough) out.add(acc);
    this.keepFirstVersion(acc, end);
  }

  /** Record (or update) the version of `acc` the indicators take, when they are kept and not already in a restored snapshot. */
  private keepFirstVersion(acc: BarAcc, end: number): void {
    if (this.keepFirstVersions && end > this.snapWm) this.firstVersions.set(acc, { bar: toBar(acc, { final: true }), published: end > this.durableThrough });
  }

  /**
   * The first final version of every bar closed since the last call, as the indicators need them: `resumed` are
   * those recomputed after a restore that were published before it (the restored indicators have not seen them),
   * `fresh` the others. Revisions are not in here: indicators run once per bar, on the version that closed.
   */
  takeFirstVersions(): { resumed: Bar[]; fresh: Bar[] } {
    const resumed: Bar[] = [];
    const fresh: Bar[] = [];
    for (const { bar, published } of this.firstVersions.values()) (published ? fresh : resumed).push(bar);
    this.firstVersions.clear();
    return { resumed, fresh };
  }

  /**
   * When the last of the larger intervals' buckets holding a base bucket closes: not always the largest interval's
   * (a 4h bucket may outlast the day of a time zone that starts it at 05:00 UTC; 45m buckets do not nest in 1h).
   */
  private rolledUntil(bucketStart: number): number {
    let until = -Infinity;
    for (let j = 1; j < this.levels.length; j++) {
      const b = this.levels[j]!.bucketing;
      until = Math.max(until, b.end(b.start(bucketStart)));
    }
    return until;
  }

  /**
   * In-progress bars for live charts: for every symbol with an open base bar that took ticks since the last
   * call, the current state of the newest such bar; with `rolled`, also for every symbol that took ticks since the
   * last call with `rolled`, the current state of the larger intervals' open bars holding its newest such bucket. A
   * larger interval's open bar holds only closed base bars (roll-ups), so its in-progress state is that bar plus the
   * open base bars inside its bucket. Copies, never state itself. One update per (symbol, interval) per call.
   */
  liveBars(rolled = true): BarAcc[] {
    const base = this.levels[0]!;
    const out: BarAcc[] = [];
    // The newest base bucket that took ticks (with out-of-order ticks an older one may have too; its final bar
    // follows soon, and larger intervals include it anyway).
    const newest = new Map<string, number>();
    for (const { symbol, bucketStart } of this.touched.values()) {
      if (base.get(symbol, bucketStart) && bucketStart > (newest.get(symbol) ?? -Infinity)) newest.set(symbol, bucketStart);
    }
    for (const [symbol, bucketStart] of newest) {
      const copy = base.copyOf(symbol, bucketStart);
      if (!copy) continue; // closed since: its final version is on the way
      this.markLosses(copy, base.bucketing.end(bucketStart), { closing: false });
      out.push(copy);
    }
    this.touched.clear();
    if (rolled && this.levels.length > 1 && this.touchedRolled.size > 0) {
      const openBySymbol = new Map<string, BarAcc[]>();
      for (const b of base.openBars()) {
        const list = openBySymbol.get(b.symbol);
        if (list) list.push(b);
        else openBySymbol.set(b.symbol, [b]);
      }
      for (const [symbol, { bucketStart }] of this.touchedRolled) {
        for (let j = 1; j < this.levels.length; j++) {
          const level = this.levels[j]!;
          const start = level.bucketing.start(bucketStart);
          const end = level.bucketing.end(start);
          if (end <= this.watermark) continue; // closed: its final version is on the way
          let live = level.copyOf(symbol, start);
          for (const b of openBySymbol.get(symbol) ?? []) {
            if (level.bucketing.start(b.bucketStart) !== start) continue;
            if (live) mergeAcc(live, b);
            else live = copyAs(b, level.interval.name, start);
          }
          if (live) {
            this.markLosses(live, end, { closing: false });
            out.push(live);
          }
        }
      }
      this.touchedRolled.clear();
    }
    return out;
  }

  /**
   * Every bar still open, at every interval, as it would be if its bucket closed now: what a replay emits at the
   * end of its input when asked for the open bars. The base interval's open bars as they stand; a larger
   * interval's bar as its rolled-up closed base bars plus the open base bars inside its bucket (also a bucket
   * whose base bars have all closed, and one with no closed base bar yet), exactly the bar closing would give.
   * Unlike liveBars it covers every open bar, not only those that took ticks since the last call, and changes
   * nothing (the live path's bookkeeping included). Flat bars are not among them: a bucket without trades gets
   * one only once it has closed. Copies with revision 0, interval by interval (smallest first), then by symbol
   * and bucket start. Call after closeFinal.
   */
  openBarsAtEnd(): BarAcc[] {
    if (this.pendingLate.length) throw new InternalError('open bars asked for with late ticks pending: call closeFinal first');
    const order = (a: BarAcc, b: BarAcc) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.bucketStart - b.bucketStart);
    const baseOpen = [...this.levels[0]!.openBars()];
    const out = baseOpen.map((b) => copyAs(b, b.interval, b.bucketStart)).sort(order);
    for (let j = 1; j < this.levels.length; j++) {
      const level = this.levels[j]!;
      const bars = new Map<string, BarAcc>();
      for (const rolled of level.openBars()) bars.set(`${rolled.symbol}\u0000${rolled.bucketStart}`, copyAs(rolled, level.interval.name, rolled.bucketStart));
      for (const b of baseOpen) {
        const start = level.bucketing.start(b.bucketStart);
        const key = `${b.symbol}\u0000${start}`;
        const bar = bars.get(key);
        if (bar) mergeAcc(bar, b);
        else bars.set(key, copyAs(b, level.interval.name, start));
      }
      out.push(...[...bars.values()].sort(order));
    }
    for (const b of out) this.markLosses(b, this.levelOf(b.interval).bucketing.end(b.bucketStart), { closing: false });
    return out;
  }

  private levelOf(interval: string): OpenBars {
    const level = this.levels.find((l) => l.interval.name === interval);
    if (!level) throw new InternalError(`no open bars of interval ${interval}`);
    return level;
  }

  /** Every bar closed up to watermark `through` (default: now) is in every sink. */
  markDurable(through = this.watermark): void {
    this.durableThrough = Math.max(this.durableThrough, through);
  }

  /** Where a replay must start to rebuild the given levels' open and revisable bars, and the watermark before it. */
  private lowWater(levels: OpenBars[]): { offset: number; watermark: number } {
    let low: { offset: number; watermark: number } | undefined;
    for (const level of levels) {
      const l = level.lowWater();
      if (l && (!low || l.offset < low.offset)) low = l;
    }
    return low ?? { offset: this.nextOffset, watermark: this.watermark };
  }

  /**
   * What to commit now, or undefined before the first record. With a snapshot: the replay point it was taken
   * with, until the next one; without: the lowest offset any open bar of any interval needs. `durable`: the
   * checkpoint is for committing once the bars closed so far are durable (a pipelined step, taken before they are):
   * it records the current watermark as durable without marking it so.
   */
  checkpoint(opts: { durable?: boolean } = {}): Checkpoint | undefined {
    if (this.nextOffset < 0) return undefined;
    const durable = opts.durable ? Math.max(this.durableThrough, this.watermark) : this.durableThrough;
    const low = this.pinned ? { offset: this.pinned.from, watermark: this.pinned.fromWm } : this.lowWater(this.levels);
    return {
      offset: low.offset,
      // hi never goes back: a restart in the middle of a replay has still seen everything below the old hi.
      meta: { v: 1, wm: toJson(low.watermark), durable: toJson(durable), hi: Math.max(this.replayUntil, this.nextOffset) },
    };
  }

  /**
   * Whether a snapshot may be taken now: not while replaying what a restored snapshot already holds (the larger
   * intervals are ahead of the base one then), nor before the first record.
   */
  get canSnapshot(): boolean {
    return this.nextOffset >= 0 && this.nextOffset >= this.snapHi && this.watermark >= this.snapWm;
  }

  /**
   * The state a restart needs besides the base interval's ticks, as plain data, taken right after every closed
   * bar was made durable (call after closeFinal and markDurable). Once it is stored, `pinTo` it.
   */
  snapshot(): AggState {
    if (this.pendingLate.length) throw new InternalError('snapshot taken with late ticks pending: call closeFinal first');
    if (!this.canSnapshot) throw new InternalError('snapshot taken while replaying what the restored one already holds');
    const low = this.lowWater([this.levels[0]!]);
    return {
      v: 1,
      hi: this.nextOffset,
      wm: this.watermark,
      from: low.offset,
      fromWm: low.watermark,
      intervals: this.levels.map((l) => l.interval.name),
      levels: this.levels.map((l, j) => (j === 0 ? { open: [], revisable: [] } : l.state())),
      fills: this.fills?.map((f) => f.state()),
      losses: this.losses.state(),
    };
  }

  /** A snapshot taken by `snapshot` is durable: checkpoints from now on point at its replay point. */
  pinTo(snap: AggState): void {
    this.pinned = { from: snap.from, fromWm: snap.fromWm };
  }
}
