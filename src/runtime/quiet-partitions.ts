// When a partition may count as quiet for the live-mode idle close (TE_IDLE_CLOSE_MS): only when the broker
// itself says it is caught up — its log ends where this aggregator has processed to — and nothing new arrived,
// continuously for the idle period. Never because the engine was waiting: a store or broker outage, a lost
// broker answer or a stalled event loop clears every quiet clock and holds them for a recovery period, so feeds
// that were waiting too can deliver their backlog before any watermark moves by wall clock.

export class QuietPartitions {
  /** Per partition: since when it has been seen caught up, and at which processed offset. */
  private readonly since = new Map<number, { at: number; offset: number }>();
  private holdUntil = -Infinity;

  constructor(
    private readonly idleMs: number,
    private readonly recoveryMs: number,
  ) {}

  /** Something around or inside the engine went wrong at `now`: nobody is quiet until the recovery period has passed. */
  disturb(now: number): void {
    this.since.clear();
    this.holdUntil = Math.max(this.holdUntil, now + this.recoveryMs);
  }

  /** This partition is busy (a batch or a retry in progress): its clock starts again. */
  forget(partition: number): void {
    this.since.delete(partition);
  }

  /** The broker reported the partition's log end `endOffset` at `now`; `processedUntil` is the next offset to process. */
  observe(partition: number, processedUntil: number, endOffset: number, now: number): void {
    if (endOffset !== processedUntil) {
      this.since.delete(partition);
      return;
    }
    const s = this.since.get(partition);
    if (!s || s.offset !== processedUntil) this.since.set(partition, { at: now, offset: processedUntil });
  }

  /** Whether the partition has been caught up, with nothing new processed, for the whole idle period. */
  quiet(partition: number, processedUntil: number, now: number): boolean {
    if (now < this.holdUntil) return false;
    const s = this.since.get(partition);
    return s !== undefined && s.offset === processedUntil && now - s.at >= this.idleMs;
  }
}
