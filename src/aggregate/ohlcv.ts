// OHLCV accumulation: add a tick to a bar, merge two partial bars, read out the Bar. The hot path.
//
// Every operation is order-independent, so partials from any batching merge to the same bar:
// open/close are the first/last tick by (event time, trade id in the venue's order: contracts/trade-order.ts); high/low are max/min; sums are exact.
import type { Bar } from '../contracts/bar.js';
import { tradeIdBefore } from '../contracts/trade-order.js';
import { BinnedSum } from './binned-sum.js';
import { exactAdd, exactMerge, exactTight, exactValue, type ExactSum } from './exact-sum.js';

export interface BarAcc {
  symbol: string;
  interval: string;
  bucketStart: number;
  open: number;
  openTime: number;
  openId: string;
  high: number;
  low: number;
  close: number;
  closeTime: number;
  closeId: string;
  volume: ExactSum;
  quoteVolume: ExactSum;
  buyVolume: ExactSum;
  tradeCount: number;
  /** Lowest source offset of any tick in the bar: offsets below the lowest open bar's may be committed. */
  minOffset: number;
  /** Partition watermark just before the tick at minOffset: where a replay from minOffset must start. */
  wmAtMin: number;
  /** Late ticks accepted after the bar was (logically) closed: 0 for the first final version. */
  revision: number;
  /** Offset of the latest revising tick, -1 if none: a replay does not re-emit revisions it already made. */
  revisedAt: number;
  /** Some trade of the bar came with its venue's trade-id sequence (tick.sequence): its completeness is knowable. */
  known: boolean;
  /** An unfilled gap in the trade ids touches the bucket (aggregate/losses.ts): the bar is incomplete. */
  lossy: boolean;
}

/** The trade fields aggregation reads. */
export interface TradeLike {
  eventTime: number;
  tradeId: string;
  price: number;
  size: number;
  side: string;
}

/** (time, id) strictly before (time2, id2): event time first, the venue's trade order breaks ties (numeric ids as numbers). */
export function tradeBefore(t1: number, id1: string, t2: number, id2: string): boolean {
  return t1 < t2 || (t1 === t2 && tradeIdBefore(id1, id2));
}

/**
 * Faster accumulators for a bar's volume, quote volume and buy volume while a fold adds many trades to it
 * (binned-sum.ts): the functions below that take one add the trade's volumes there instead of to the bar's
 * exact sums, and drainSums moves them into the bar, exactly, before anything else reads the bar.
 */
export class BarSums {
  readonly volume = new BinnedSum();
  readonly quoteVolume = new BinnedSum();
  readonly buyVolume = new BinnedSum();
}

/** Move what `sums` holds into the bar's exact sums (after that, `acc` holds every trade added with `sums`). */
export function drainSums(acc: BarAcc, sums: BarSums): void {
  acc.volume = drainSum(sums.volume, acc.volume);
  acc.quoteVolume = drainSum(sums.quoteVolume, acc.quoteVolume);
  acc.buyVolume = drainSum(sums.buyVolume, acc.buyVolume);
}

/**
 * `sum` added to `into`, without spare room in what is returned: into an empty sum (every bar newAcc made with
 * BarSums) as a new array of the right size, into a sum that grows as a copy of its size (exactTight): a bar can
 * stay open for a day, and arrays grown by push keep room for 17 numbers.
 */
function drainSum(sum: BinnedSum, into: ExactSum): ExactSum {
  const n = into.length;
  if (n === 0) return sum.take();
  sum.drainInto(into);
  return exactTight(into, n);
}

export function newAcc(symbol: string, interval: string, bucketStart: number, t: TradeLike, offset: number, wmBefore: number, sums?: BarSums): BarAcc {
  const qv = t.price * t.size;
  if (sums) {
    addVolumes(sums, t, qv);
    return bar(symbol, interval, bucketStart, t, offset, wmBefore, [], [], []);
  }
  return bar(symbol, interval, bucketStart, t, offset, wmBefore, [t.size], [qv], t.side === 'BUY' ? [t.size] : []);
}

function bar(
  symbol: string,
  interval: string,
  bucketStart: number,
  t: TradeLike,
  offset: number,
  wmBefore: number,
  volume: ExactSum,
  quoteVolume: ExactSum,
  buyVolume: ExactSum,
): BarAcc {
  return {
    symbol,
    interval,
    bucketStart,
    open: t.price,
    openTime: t.eventTime,
    openId: t.tradeId,
    high: t.price,
    low: t.price,
    close: t.price,
    closeTime: t.eventTime,
    closeId: t.tradeId,
    volume,
    quoteVolume,
    buyVolume,
    tradeCount: 1,
    minOffset: offset,
    wmAtMin: wmBefore,
    revision: 0,
    revisedAt: -1,
    known: false,
    lossy: false,
  };
}

export function addTick(acc: BarAcc, t: TradeLike, offset: number, wmBefore: number, sums?: BarSums): void {
  const p = t.price;
  if (tradeBefore(t.eventTime, t.tradeId, acc.openTime, acc.openId)) {
    acc.open = p;
    acc.openTime = t.eventTime;
    acc.openId = t.tradeId;
  }
  if (tradeBefore(acc.closeTime, acc.closeId, t.eventTime, t.tradeId)) {
    acc.close = p;
    acc.closeTime = t.eventTime;
    acc.closeId = t.tradeId;
  }
  addTrade(acc, t, offset, wmBefore, sums);
}

/**
 * Whether adding a trade at `time` to `acc` needs the trade's id: it is not after the bar's first trade (a
 * new first trade, or a tie the id breaks), or it ties the last one. Otherwise addTickIdLater can add it.
 */
export function needsTradeId(acc: BarAcc, time: number): boolean {
  return time <= acc.openTime || time === acc.closeTime;
}

/**
 * addTick for a trade whose id is not known yet (needsTradeId false, so `t.tradeId` is not read): returns
 * true when the trade became the bar's last one — acc.closeId is then stale and the caller must set it.
 */
export function addTickIdLater(acc: BarAcc, t: TradeLike, offset: number, wmBefore: number, sums?: BarSums): boolean {
  const last = t.eventTime > acc.closeTime;
  if (last) {
    acc.close = t.price;
    acc.closeTime = t.eventTime;
  }
  addTrade(acc, t, offset, wmBefore, sums);
  return last;
}

/** What a tick adds to a bar besides open and close: high, low, the sums, the count, the earliest offset. */
function addTrade(acc: BarAcc, t: TradeLike, offset: number, wmBefore: number, sums: BarSums | undefined): void {
  const p = t.price;
  if (p > acc.high) acc.high = p;
  if (p < acc.low) acc.low = p;
  if (sums) addVolumes(sums, t, p * t.size);
  else {
    exactAdd(acc.volume, t.size);
    exactAdd(acc.quoteVolume, p * t.size);
    if (t.side === 'BUY') exactAdd(acc.buyVolume, t.size);
  }
  acc.tradeCount++;
  if (offset < acc.minOffset) {
    acc.minOffset = offset;
    acc.wmAtMin = wmBefore;
  }
}

function addVolumes(sums: BarSums, t: TradeLike, quote: number): void {
  sums.volume.add(t.size);
  sums.quoteVolume.add(quote);
  if (t.side === 'BUY') sums.buyVolume.add(t.size);
}

/** Merge `from` into `into` (same identity). */
export function mergeAcc(into: BarAcc, from: BarAcc): void {
  if (tradeBefore(from.openTime, from.openId, into.openTime, into.openId)) {
    into.open = from.open;
    into.openTime = from.openTime;
    into.openId = from.openId;
  }
  if (tradeBefore(into.closeTime, into.closeId, from.closeTime, from.closeId)) {
    into.close = from.close;
    into.closeTime = from.closeTime;
    into.closeId = from.closeId;
  }
  if (from.high > into.high) into.high = from.high;
  if (from.low < into.low) into.low = from.low;
  into.volume = mergeSum(into.volume, from.volume);
  into.quoteVolume = mergeSum(into.quoteVolume, from.quoteVolume);
  into.buyVolume = mergeSum(into.buyVolume, from.buyVolume);
  into.tradeCount += from.tradeCount;
  if (from.known) into.known = true;
  if (from.lossy) into.lossy = true;
  if (from.minOffset < into.minOffset) {
    into.minOffset = from.minOffset;
    into.wmAtMin = from.wmAtMin;
  }
}

/** `from` added to `into` exactly, without spare room left in what is returned (exactTight). */
function mergeSum(into: ExactSum, from: ExactSum): ExactSum {
  const n = into.length;
  exactMerge(into, from);
  return exactTight(into, n);
}

export function toBar(acc: BarAcc, opts: { final: boolean }): Bar {
  const final = opts.final;
  const volume = exactValue(acc.volume);
  const quoteVolume = exactValue(acc.quoteVolume);
  return {
    symbol: acc.symbol,
    interval: acc.interval,
    bucketStart: acc.bucketStart,
    open: acc.open,
    high: acc.high,
    low: acc.low,
    close: acc.close,
    volume,
    quoteVolume,
    vwap: volume === 0 ? acc.close : quoteVolume / volume,
    tradeCount: acc.tradeCount,
    buyVolume: exactValue(acc.buyVolume),
    firstEventTime: acc.openTime,
    lastEventTime: acc.closeTime,
    revision: acc.revision,
    final,
    complete: completeness(acc),
  };
}

/** A bar's `complete`: false when a gap touches it, true when its trades came with a sequence and none does, else null. */
export function completeness(acc: Pick<BarAcc, 'known' | 'lossy'>): boolean | null {
  return acc.lossy ? false : acc.known ? true : null;
}
