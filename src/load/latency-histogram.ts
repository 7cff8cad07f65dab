// HDR histograms of latencies in µs (1 µs to 10 min, 3 significant digits), passed between threads as compressed
// base64 and read out in ms.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

const HIGHEST_US = 600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Record `us` (negative values — clocks a hair apart — count as 0; beyond the range as the highest). */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(us <= 0 ? 0 : us >= HIGHEST_US ? HIGHEST_US : Math.round(us));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): Histogram {
  return hdr.decodeFromCompressedBase64(s, 32, false);
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

const ms = (us: number) => Math.round(us / 10) / 100;

/** Percentiles in ms (2 decimals); all 0 for an empty histogram. */
export function summarize(h: Histogram): LatencySummary {
  const n = h.totalCount;
  if (n === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: n,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}
