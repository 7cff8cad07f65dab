// The Bar contract (schemas/bar-v2.avsc; version 1, schemas/bar.avsc, lacks `complete`): one OHLCV bar of one symbol over one aligned bucket.

export interface Bar {
  symbol: string;
  interval: string;
  /** Bucket start, µs since the epoch (UTC). */
  bucketStart: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Σ price × size. */
  quoteVolume: number;
  /** quoteVolume / volume. */
  vwap: number;
  tradeCount: number;
  buyVolume: number;
  firstEventTime: number;
  lastEventTime: number;
  revision: number;
  final: boolean;
  /**
   * Whether the bar's trades are known complete: true when no unfilled gap in the venue's contiguous trade ids
   * touches the bucket, false when one does, null when unknown (no contiguous ids: other venues, files, the simulator).
   */
  complete: boolean | null;
}

/** Field order of the contract; tests check it against schemas/bar-v2.avsc. */
export const BAR_FIELDS = [
  'symbol',
  'interval',
  'bucketStart',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quoteVolume',
  'vwap',
  'tradeCount',
  'buyVolume',
  'firstEventTime',
  'lastEventTime',
  'revision',
  'final',
  'complete',
] as const satisfies readonly (keyof Bar)[];

/** Bar identity: (symbol, interval, bucket start). */
export function barKey(b: Pick<Bar, 'symbol' | 'interval' | 'bucketStart'>): string {
  return `${b.symbol}\u0000${b.interval}\u0000${b.bucketStart}`;
}

/** Deterministic output order: interval width is not known here, so by interval name, bucket, symbol. */
export function compareBars(a: Bar, b: Bar): number {
  return (
    a.bucketStart - b.bucketStart ||
    (a.interval < b.interval ? -1 : a.interval > b.interval ? 1 : 0) ||
    (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0)
  );
}
