// The fold: ticks, in offset order, into partial bars of the base interval — validation, the per-tick watermark,
// lateness — read through a TickCursor, so it knows no wire or file format. Shared by the workers (Kafka batches,
// runtime/pre-aggregate.ts) and replay (Kafka, Avro and CSV files, runtime/replay.ts).
import { ERROR_CODES, type RejectCode } from '../errors.js';
import type { IntervalSpec } from '../contracts/interval.js';
import type { Tick } from '../contracts/tick.js';
import { emptyTick, type TickCursor } from '../contracts/tick-cursor.js';
import { tickProblem } from '../contracts/validate.js';
import { utf8String } from '../wire-strings.js';
import { bucketStart } from './bucket.js';
import { addTick, addTickIdLater, BarSums, drainSums, needsTradeId, newAcc, type BarAcc } from './ohlcv.js';
import { advance, isLate } from './watermark.js';
import { lossOf, type LossRange } from './losses.js';

/** What the fold of one batch needs besides the ticks. */
export interface FoldParams {
  /** The base (smallest) interval: the only one built from ticks; larger ones roll up from its bars. */
  interval: IntervalSpec;
  /** Watermark of the partition before this batch (µs; -Infinity at start). */
  watermark: number;
  maxOutOfOrder: number;
  /** µs after a bar's close during which a late tick still revises it; later ones are dead-lettered. */
  allowedLateness: number;
  /** µs an event time may be ahead of its tick's ingest time (TE_MAX_FUTURE_MS); further is invalid. Default: unbounded. */
  maxAhead?: number;
  /** Bucket origin (µs since the epoch; 0 = the epoch, like time_bucket). */
  origin: number;
}

/** A tick that arrived after its base bar closed, but within the allowed lateness. */
export interface LateTick {
  /** The tick as a one-tick partial bar of the base interval. */
  partial: BarAcc;
  /** Watermark just before it: which bars were already closed when it arrived. */
  wmBefore: number;
  offset: number;
}

export interface Reject {
  /** Index of the record in the batch. */
  index: number;
  code: RejectCode;
  reason: string;
}

export interface BatchOutput {
  partials: BarAcc[];
  /** Late ticks within the allowed lateness, in offset order. */
  late: LateTick[];
  rejects: Reject[];
  /** Unfilled gaps in trade ids the batch's ticks reported (tick.sequence), in offset order. */
  losses: LossRange[];
  /** Watermark after the batch. */
  watermark: number;
  accepted: number;
}

/** The base bars of one symbol in a batch: the one its last tick went to, and all of them once there are two. */
interface SymbolBars {
  start: number;
  /** acc's place in the folder's partials (and its sums'). */
  index: number;
  acc: BarAcc;
  /** acc's volumes while the batch is folded (drained into acc by result()). */
  sums: BarSums;
  /** Every bar of the symbol by bucket start, as an index into partials; created when a second bucket appears (usually never). */
  byStart: Map<number, number> | undefined;
  /**
   * When set, acc.closeId is stale: the last trade's id is bytes [closeIdPos, +closeIdLen) of this buffer,
   * built into a string only when needed (a tie, another bar of the symbol, the result).
   */
  closeIdBuf: Buffer | undefined;
  closeIdPos: number;
  closeIdLen: number;
}

/** Folds one batch's ticks, in offset order, into partial bars of the base interval. */
export class TickFolder {
  /** Per symbol, then per bucket: most ticks go to the same bar as their symbol's previous tick. */
  private readonly bySymbol = new Map<string, SymbolBars>();
  /** The partial bars in the order they were created (the order results are merged in). */
  private readonly partials: BarAcc[] = [];
  /** Each partial bar's volumes until result() (see BarSums): the same index as in partials. */
  private readonly sums: BarSums[] = [];
  private readonly rejects: Reject[] = [];
  private readonly late: LateTick[] = [];
  private readonly losses: LossRange[] = [];
  private wm: number;
  private accepted = 0;
  private readonly base: number;
  private readonly name: string;
  /**
   * Whether bucket arithmetic is exact integer arithmetic (integer origin and width; event times are
   * validated integers below 2^53): then a time inside the symbol's last bucket is known to be in it
   * without computing bucketStart.
   */
  private readonly exact: boolean;
  /** The tick a cursor fills: TickFolder keeps field values, never the object. */
  private readonly scratch = emptyTick();
  /**
   * The current tick's trade id when its reader left it unbuilt (LazyTradeIds): bytes [idPos, idPos + idLen) of
   * idBuf. Most ticks of a bar are neither its first nor its last trade for long, so most ids never become strings.
   */
  private idBuf: Buffer | undefined;
  private idPos = 0;
  private idLen = 0;

  private readonly maxAhead: number;

  constructor(private readonly p: FoldParams) {
    this.maxAhead = p.maxAhead ?? Infinity;
    this.wm = p.watermark;
    this.base = p.interval.micros;
    this.name = p.interval.name;
    this.exact = Number.isSafeInteger(p.origin) && Number.isSafeInteger(this.base);
  }

  reject(index: number, code: Reject['code'], reason: string): void {
    this.rejects.push({ index, code, reason });
  }

  /** Read record `i` of `cursor` (records in order) and add its tick, or reject it; `index` is its place in the batch. */
  addFrom(cursor: TickCursor, i: number, index: number): void {
    const problem = cursor.read(i, this.scratch);
    if (problem !== null) return this.reject(index, ERROR_CODES.decode, problem);
    if (cursor.idLazy) {
      this.idBuf = cursor.idBuf;
      this.idPos = cursor.idPos;
      this.idLen = cursor.idLen;
    }
    this.add(this.scratch, index, cursor.offset(i));
    this.idBuf = undefined;
  }

  /** The current tick's trade id as a string, built now if its reader left it unbuilt. */
  private materialize(tick: Tick): void {
    if (this.idBuf === undefined) return;
    tick.tradeId = utf8String(this.idBuf, this.idPos, this.idLen);
    this.idBuf = undefined;
  }

  /** Build the symbol's open bar's close id if it is still bytes. */
  private settle(sym: SymbolBars): void {
    if (sym.closeIdBuf === undefined) return;
    sym.acc.closeId = utf8String(sym.closeIdBuf, sym.closeIdPos, sym.closeIdLen);
    sym.closeIdBuf = undefined;
  }

  /** Add one read tick; `index` is its position in the batch (for rejects). Keeps no reference to `tick`. */
  private add(tick: Tick, index: number, offset: number): void {
    const problem = tickProblem(tick, this.maxAhead);
    if (problem) return this.reject(index, ERROR_CODES.invalidTick, problem);
    const base = this.base;
    const wm = this.wm;
    const t = tick.eventTime;
    const sym = this.bySymbol.get(tick.symbol);
    const baseStart = sym !== undefined && this.exact && t >= sym.start && t - sym.start < base ? sym.start : bucketStart(t, base, this.p.origin);
    if (isLate(t, baseStart, base, wm)) {
      this.materialize(tick);
      if (baseStart + base + this.p.allowedLateness > wm) {
        // Its bar closed, but recently enough: it revises the bar (in offset order, on the owning thread).
        const partial = newAcc(tick.symbol, this.name, baseStart, tick, offset, wm);
        this.late.push({ partial, wmBefore: wm, offset });
        this.sequenced(tick, partial, offset, wm);
        this.accepted++;
        return;
      }
      // Dropped, but the gap it reports still touches bars that may be open at larger intervals.
      this.sequenced(tick, undefined, offset, wm);
      return this.reject(
        index,
        ERROR_CODES.lateTick,
        `event time ${t} is behind watermark ${wm} by more than the allowed lateness of ${this.p.allowedLateness} µs after its ${this.name} bar starting ${baseStart} closed`,
      );
    }
    this.wm = advance(wm, t, this.p.maxOutOfOrder);
    if (sym === undefined) {
      this.materialize(tick);
      const sums = new BarSums();
      const acc = newAcc(tick.symbol, this.name, baseStart, tick, offset, wm, sums);
      this.bySymbol.set(tick.symbol, {
        start: baseStart,
        index: this.partials.length,
        acc,
        sums,
        byStart: undefined,
        closeIdBuf: undefined,
        closeIdPos: 0,
        closeIdLen: 0,
      });
      this.partials.push(acc);
      this.sums.push(sums);
      this.sequenced(tick, acc, offset, wm);
    } else if (sym.start === baseStart) {
      if (this.idBuf === undefined || needsTradeId(sym.acc, t)) {
        this.settle(sym);
        this.materialize(tick);
        addTick(sym.acc, tick, offset, wm, sym.sums);
      } else if (addTickIdLater(sym.acc, tick, offset, wm, sym.sums)) {
        // The usual case: the bar's new last trade. Its id stays bytes until something needs it.
        sym.closeIdBuf = this.idBuf;
        sym.closeIdPos = this.idPos;
        sym.closeIdLen = this.idLen;
      }
      this.sequenced(tick, sym.acc, offset, wm);
    } else {
      this.settle(sym);
      this.materialize(tick);
      const byStart = (sym.byStart ??= new Map([[sym.start, sym.index]]));
      let i = byStart.get(baseStart);
      if (i !== undefined) addTick(this.partials[i]!, tick, offset, wm, this.sums[i]!);
      else {
        i = this.partials.length;
        this.sums.push(new BarSums());
        this.partials.push(newAcc(tick.symbol, this.name, baseStart, tick, offset, wm, this.sums[i]!));
        byStart.set(baseStart, i);
      }
      sym.start = baseStart;
      sym.index = i;
      sym.acc = this.partials[i]!;
      sym.sums = this.sums[i]!;
      this.sequenced(tick, sym.acc, offset, wm);
    }
    this.accepted++;
  }

  /** What the tick's trade-id sequence says (aggregate/losses.ts): its bar's completeness is knowable; a gap before it. */
  private sequenced(tick: Tick, acc: BarAcc | undefined, offset: number, wmBefore: number): void {
    const seq = tick.sequence;
    if (seq === null || seq === undefined) return;
    if (acc) acc.known = true;
    const loss = lossOf(tick.symbol, tick.eventTime, seq, offset, wmBefore);
    if (loss === undefined) return;
    if (acc) acc.lossy = true;
    this.losses.push(loss);
  }

  result(): BatchOutput {
    for (const sym of this.bySymbol.values()) this.settle(sym);
    for (let i = 0; i < this.partials.length; i++) drainSums(this.partials[i]!, this.sums[i]!);
    return { partials: this.partials, late: this.late, rejects: this.rejects, losses: this.losses, watermark: this.wm, accepted: this.accepted };
  }
}
