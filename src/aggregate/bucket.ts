// Bucket alignment, like TimescaleDB time_bucket(width, ts, origin): UTC, floor towards -infinity.

/**
 * Start of the bucket of width `width` that contains `t` (all in microseconds since the epoch),
 * aligned to `origin` (default: the Unix epoch). Negative times floor downwards, as time_bucket does.
 * Exact for |t| < 2^53: integer % on doubles is exact in that range.
 */
export function bucketStart(t: number, width: number, origin = 0): number {
  const r = (t - origin) % width;
  return r < 0 ? t - r - width : t - r;
}
