// Event-time watermark of one partition: max event time seen minus the allowed out-of-orderness.

/** A tick is late when the watermark has passed the end of its base-interval bucket. */
export function isLate(eventTime: number, baseBucketStart: number, baseWidth: number, watermark: number): boolean {
  return baseBucketStart + baseWidth <= watermark;
}

export function advance(watermark: number, eventTime: number, maxOutOfOrder: number): number {
  const candidate = eventTime - maxOutOfOrder;
  return candidate > watermark ? candidate : watermark;
}
