// Per-series state of the gateway: a sequence number per published delta and the recent history, so a
// subscriber gets a snapshot and then deltas with nothing missed in between. A series is
// (bars, interval, symbol), (signals, interval, symbol) and (trades, symbol).
import type { Bar } from '../../contracts/bar.js';
import type { Signal } from '../../contracts/signal.js';
import type { Tick } from '../../contracts/tick.js';
import type { Channel, Snapshot } from '../ws/protocol.js';

export interface BarSeries {
  symbol: string;
  interval: string;
  /** Sequence number of the last final bar version published (0 before the first). */
  seq: number;
  /** Latest version of the last N final bars, ascending by bucket start. */
  bars: Bar[];
  /** The bar in progress: newer than every final bar, else undefined. */
  open: Bar | undefined;
  /** Bucket start of the newest final bar (kept even with TE_SNAPSHOT_BARS=0). */
  lastFinal: number;
}

export interface SignalSeries {
  symbol: string;
  interval: string;
  seq: number;
  signals: Signal[];
}

export interface TradeSeries {
  symbol: string;
  seq: number;
  last: Tick | undefined;
}

/** The key of a series: also the key of its subscriptions. */
export function seriesKey(channel: Channel, interval: string | undefined, symbol: string): string {
  return `${channel}\u0000${interval ?? ''}\u0000${symbol}`;
}

export class SeriesBook {
  readonly bars = new Map<string, BarSeries>();
  readonly signals = new Map<string, SignalSeries>();
  readonly trades = new Map<string, TradeSeries>();
  /** Every symbol seen on any series. */
  readonly symbols = new Set<string>();

  constructor(private readonly keep: number) {}

  barSeries(interval: string, symbol: string): BarSeries {
    const k = seriesKey('bars', interval, symbol);
    let s = this.bars.get(k);
    if (!s) {
      this.bars.set(k, (s = { symbol, interval, seq: 0, bars: [], open: undefined, lastFinal: -Infinity }));
      this.symbols.add(symbol);
    }
    return s;
  }

  /** Record a final bar version; returns its sequence number on the series. */
  recordBar(bar: Bar): number {
    const s = this.barSeries(bar.interval, bar.symbol);
    s.seq++;
    const bars = s.bars;
    // Usually the newest bucket; a revision replaces its bucket's bar wherever it is.
    let i = bars.length - 1;
    while (i >= 0 && bars[i]!.bucketStart > bar.bucketStart) i--;
    if (i >= 0 && bars[i]!.bucketStart === bar.bucketStart) {
      if (bar.revision >= bars[i]!.revision) bars[i] = bar;
    } else {
      bars.splice(i + 1, 0, bar);
      while (bars.length > this.keep) bars.shift();
    }
    if (bar.bucketStart > s.lastFinal) s.lastFinal = bar.bucketStart;
    if (s.open && s.open.bucketStart <= bar.bucketStart) s.open = undefined;
    return s.seq;
  }

  /**
   * Record an in-progress bar; returns the series' seq (that of its last final bar). Undefined when it is
   * stale — its bucket already has a final version (updates and final bars travel on different topics, so an
   * update may arrive after its bar closed) — or older than the open bar held.
   */
  recordUpdate(bar: Bar): number | undefined {
    const s = this.barSeries(bar.interval, bar.symbol);
    if (bar.bucketStart <= s.lastFinal) return undefined;
    if (s.open && (bar.bucketStart < s.open.bucketStart || (bar.bucketStart === s.open.bucketStart && bar.tradeCount < s.open.tradeCount))) return undefined;
    s.open = bar;
    return s.seq;
  }

  signalSeries(interval: string, symbol: string): SignalSeries {
    const k = seriesKey('signals', interval, symbol);
    let s = this.signals.get(k);
    if (!s) this.signals.set(k, (s = { symbol, interval, seq: 0, signals: [] }));
    return s;
  }

  recordSignal(sig: Signal): number {
    const s = this.signalSeries(sig.interval, sig.symbol);
    s.signals.push(sig);
    if (s.signals.length > this.keep) s.signals.shift();
    return ++s.seq;
  }

  tradeSeries(symbol: string): TradeSeries {
    const k = seriesKey('trades', undefined, symbol);
    let s = this.trades.get(k);
    if (!s) {
      this.trades.set(k, (s = { symbol, seq: 0, last: undefined }));
      this.symbols.add(symbol);
    }
    return s;
  }

  recordTrade(t: Tick): number {
    const s = this.tradeSeries(t.symbol);
    // Ticks arrive out of order within the feed's jitter: the quote keeps the latest by event time.
    if (!s.last || t.eventTime >= s.last.eventTime) s.last = t;
    return ++s.seq;
  }

  /** The snapshot of one series: empty (seq 0) for a series the gateway has not seen. */
  snapshot(channel: Channel, interval: string | undefined, symbol: string): Snapshot {
    const key = seriesKey(channel, interval, symbol);
    if (channel === 'bars') {
      const s = this.bars.get(key);
      return { type: 'snapshot', channel, symbol, interval, seq: s?.seq ?? 0, bars: s?.bars ?? [], open: s?.open ?? null };
    }
    if (channel === 'signals') {
      const s = this.signals.get(key);
      return { type: 'snapshot', channel, symbol, interval, seq: s?.seq ?? 0, signals: s?.signals ?? [] };
    }
    const s = this.trades.get(key);
    return { type: 'snapshot', channel, symbol, seq: s?.seq ?? 0, trades: s?.last ? [s.last] : [] };
  }

  /** The symbols that have a series on a channel (and interval). */
  symbolsOf(channel: Channel, interval: string | undefined): string[] {
    const all: Iterable<{ symbol: string; interval?: string }> =
      channel === 'bars' ? this.bars.values() : channel === 'signals' ? this.signals.values() : this.trades.values();
    const out: string[] = [];
    for (const s of all) if (s.interval === interval) out.push(s.symbol);
    return out;
  }

  /** The current bar of a series: in progress, else the last final one. */
  currentBar(interval: string, symbol: string): Bar | null {
    const s = this.bars.get(seriesKey('bars', interval, symbol));
    if (!s) return null;
    return s.open ?? s.bars[s.bars.length - 1] ?? null;
  }
}
