// Decode a raw batch of Kafka records and fold its ticks into partial bars: the map step, run in workers.
import type { RejectCode } from '../errors.js';
import type { IntervalSpec } from '../config.js';
import type { Tick } from '../ingest/tick.js';
import { tickProblem } from '../ingest/validate.js';
import { schema } from '../stream/schemas.js';
import { decode } from '../stream/serde.js';
import { bucketStart } from './bucket.js';
import { addTick, newAcc, type BarAcc } from './ohlcv.js';
import { advance, isLate } from './watermark.js';

export interface PackedBatch {
  /** Record values back to back. */
  data: Uint8Array;
  /** Byte length of each value; -1 for a null value. */
  lengths: Int32Array;
  /** Source offset of each record. */
  offsets: Float64Array;
}

export interface BatchInput extends PackedBatch {
  /** The base (smallest) interval: the only one built from ticks; larger ones roll up from its bars. */
  interval: IntervalSpec;
  /** Watermark of the partition before this batch (µs; -Infinity at start). */
  watermark: number;
  maxOutOfOrder: number;
  /** µs after a bar's close during which a late tick still revises it; later ones are dead-lettered. */
  allowedLateness: number;
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
  /** Watermark after the batch. */
  watermark: number;
  accepted: number;
}

export function packBatch(values: (Buffer | null)[], offsets: number[]): PackedBatch {
  let total = 0;
  for (const v of values) total += v ? v.length : 0;
  const data = new Uint8Array(total);
  const lengths = new Int32Array(values.length);
  let pos = 0;
  values.forEach((v, i) => {
    if (!v) {
      lengths[i] = -1;
      return;
    }
    data.set(v, pos);
    pos += v.length;
    lengths[i] = v.length;
  });
  return { data, lengths, offsets: Float64Array.from(offsets) };
}

export type FoldParams = Omit<BatchInput, keyof PackedBatch>;

/**
 * Folds ticks, in offset order, into partial bars of the base interval: validation, the per-tick watermark,
 * lateness. Shared by the worker path (raw Kafka batches) and replay from files (parsed ticks).
 */
export class TickFolder {
  private readonly byKey = new Map<string, BarAcc>();
  private readonly rejects: Reject[] = [];
  private readonly late: LateTick[] = [];
  private wm: number;
  private accepted = 0;
  private readonly base: number;
  private readonly name: string;

  constructor(private readonly p: FoldParams) {
    this.wm = p.watermark;
    this.base = p.interval.micros;
    this.name = p.interval.name;
  }

  reject(index: number, code: Reject['code'], reason: string): void {
    this.rejects.push({ index, code, reason });
  }

  /** Add one decoded tick; `index` is its position in the batch (for rejects). */
  add(tick: Tick, index: number, offset: number): void {
    const problem = tickProblem(tick);
    if (problem) return this.reject(index, 'TE_INVALID_TICK', problem);
    const base = this.base;
    const wm = this.wm;
    const baseStart = bucketStart(tick.eventTime, base, this.p.origin);
    if (isLate(tick.eventTime, baseStart, base, wm)) {
      if (baseStart + base + this.p.allowedLateness > wm) {
        // Its bar closed, but recently enough: it revises the bar (in offset order, on the owning thread).
        this.late.push({ partial: newAcc(tick.symbol, this.name, baseStart, tick, offset, wm), wmBefore: wm, offset });
        this.accepted++;
        return;
      }
      return this.reject(
        index,
        'TE_LATE_TICK',
        `event time ${tick.eventTime} is behind watermark ${wm} by more than the allowed lateness of ${this.p.allowedLateness} µs after its ${this.name} bar starting ${baseStart} closed`,
      );
    }
    this.wm = advance(wm, tick.eventTime, this.p.maxOutOfOrder);
    const key = `${tick.symbol}\u0000${baseStart}`;
    const acc = this.byKey.get(key);
    if (acc) addTick(acc, tick, offset, wm);
    else this.byKey.set(key, newAcc(tick.symbol, this.name, baseStart, tick, offset, wm));
    this.accepted++;
  }

  result(): BatchOutput {
    return { partials: [...this.byKey.values()], late: this.late, rejects: this.rejects, watermark: this.wm, accepted: this.accepted };
  }
}

/** The worker task: decode a packed batch of wire-format records and fold its ticks. */
export function preAggregate(input: BatchInput): BatchOutput {
  const tickSchema = schema('tick');
  const folder = new TickFolder(input);
  const buf = Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength);
  let pos = 0;
  for (let i = 0; i < input.lengths.length; i++) {
    const len = input.lengths[i]!;
    const value = len < 0 ? null : buf.subarray(pos, pos + len);
    if (len > 0) pos += len;
    let tick: Tick;
    try {
      tick = decode<Tick>(tickSchema, value);
    } catch (err) {
      folder.reject(i, 'TE_DECODE', (err as Error).message);
      continue;
    }
    folder.add(tick, i, input.offsets[i]!);
  }
  return folder.result();
}
