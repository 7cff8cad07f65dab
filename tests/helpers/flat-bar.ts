// A final bar of one trade's worth at `close` (open = high = low = close), for tests and benches that need a bar but
// not its figures: the signal engine reads only the series, the bucket and the close; the gateway's series book the
// series, the bucket and the trade count.
import type { Bar } from '../../src/contracts/bar.js';

export function flatBar(symbol: string, interval: string, bucketStart: number, close: number): Bar {
  return {
    symbol,
    interval,
    bucketStart,
    open: close,
    high: close,
    low: close,
    close,
    volume: 1,
    quoteVolume: close,
    vwap: close,
    tradeCount: 1,
    buyVolume: 0,
    firstEventTime: bucketStart,
    lastEventTime: bucketStart,
    revision: 0,
    final: true,
    complete: null,
  };
}
