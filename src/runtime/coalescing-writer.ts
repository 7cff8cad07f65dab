// One output target's writes across the aggregator's partitions: one write at a time, and the steps that came while
// it ran go together in the next one. At a bucket's end every partition closes its bars at once; written one after
// another, the last partition's bars waited for every other's round trip (and QuestDB made a transaction of each).
// A partition's OutputQueue has at most one step in flight per target, so a write never holds two steps of one
// partition, and each partition's steps still reach the target oldest first.

/** Writes the steps given, together; resolves once all of them are durable, rejects if any is not. */
export type WriteSteps<S> = (steps: S[]) => Promise<void>;

interface Waiting<S> {
  step: S;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class CoalescingWriter<S> {
  private waiting: Waiting<S>[] = [];
  private busy = false;

  constructor(
    private readonly writeSteps: WriteSteps<S>,
    /** The most steps one write takes (the rest wait for the next). */
    private readonly maxSteps = 64,
  ) {}

  /**
   * Resolves once the step is durable; rejects with the error of the write that held it (every step of a failed
   * write fails with it, and each partition's queue retries its own). An idle writer starts the write at once.
   */
  write(step: S): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ step, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxSteps);
        try {
          // Through a resolved promise: a write that throws at once fails like one that rejects.
          await Promise.resolve().then(() => this.writeSteps(batch.map((w) => w.step)));
        } catch (err) {
          for (const w of batch) w.reject(err);
          continue;
        }
        for (const w of batch) w.resolve();
      }
    } finally {
      this.busy = false;
    }
  }
}
