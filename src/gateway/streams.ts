// Per-stream (symbol, interval) state of the gateway: a sequence number per published bar version and the
// last N final bars, so a subscriber gets a snapshot and then deltas with nothing missed in between.
import type { Bar } from '../aggregate/bar.js';

export interface StreamState {
  symbol: string;
  interval: string;
  /** Sequence number of the last bar version published on this stream (0 before the first). */
  seq: number;
  /** Latest version of the last N bars, ascending by bucket start. */
  bars: Bar[];
}

export class Streams {
  private readonly streams = new Map<string, StreamState>();

  constructor(private readonly snapshotBars: number) {}

  private key(interval: string, symbol: string): string {
    return `${interval}\u0000${symbol}`;
  }

  get(interval: string, symbol: string): StreamState | undefined {
    return this.streams.get(this.key(interval, symbol));
  }

  /** Every stream of an interval (for '*' subscriptions), by symbol. */
  ofInterval(interval: string): StreamState[] {
    return [...this.streams.values()].filter((s) => s.interval === interval).sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  }

  /** Record a published bar version; returns its sequence number on the stream. */
  record(bar: Bar): number {
    const k = this.key(bar.interval, bar.symbol);
    let s = this.streams.get(k);
    if (!s) this.streams.set(k, (s = { symbol: bar.symbol, interval: bar.interval, seq: 0, bars: [] }));
    s.seq++;
    const bars = s.bars;
    // Usually the newest bucket; a revision replaces its bucket's bar wherever it is.
    let i = bars.length - 1;
    while (i >= 0 && bars[i]!.bucketStart > bar.bucketStart) i--;
    if (i >= 0 && bars[i]!.bucketStart === bar.bucketStart) {
      if (bar.revision >= bars[i]!.revision) bars[i] = bar;
    } else {
      bars.splice(i + 1, 0, bar);
      if (bars.length > this.snapshotBars) bars.shift();
    }
    return s.seq;
  }
}
