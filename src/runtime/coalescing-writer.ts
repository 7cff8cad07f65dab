// One output target's writes across the aggregator's partitions: one write at a time, and the steps that came while
// it ran go together in the next one. At a bucket's end every partition closes its bars at once; written one after
// another, the last partition's bars waited for every other's round trip (and QuestDB made a transaction of each).
// A partition's OutputQueue has at most one step in flight per target, so a write never holds two steps of one
// partition, and each partition's steps still reach the target oldest first.

/** Writes the steps given, together; resolves once all of them are durable, rejects if any is not. */
export type WriteSteps<S> = (steps: S[]) => Promise<void>;

export interface CoalescingOptions<S> {
  /** The most steps one write takes (the rest wait for the next). */
  maxSteps?: number;
  /** A step's size (rows); a write takes more steps only while their sizes add up to at most `maxWeight`. */
  weight?: (step: S) => number;
  maxWeight?: number;
}

interface Waiting<S> {
  step: S;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class CoalescingWriter<S extends object> {
  private waiting: Waiting<S>[] = [];
  private busy = false;
  /**
   * Steps that failed in a write with others: written alone from then on, so a step a store refuses (or one too
   * large with company) fails only its own partition, and the others' retries go through.
   */
  private readonly alone = new WeakSet<S>();
  private readonly maxSteps: number;
  private readonly weight: (step: S) => number;
  private readonly maxWeight: number;

  constructor(
    private readonly writeSteps: WriteSteps<S>,
    opts: CoalescingOptions<S> = {},
  ) {
    this.maxSteps = opts.maxSteps ?? 64;
    this.weight = opts.weight ?? (() => 1);
    this.maxWeight = opts.maxWeight ?? Infinity;
  }

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
        const batch = this.next();
        try {
          // Through a resolved promise: a write that throws at once fails like one that rejects.
          await Promise.resolve().then(() => this.writeSteps(batch.map((w) => w.step)));
        } catch (err) {
          if (batch.length > 1) for (const w of batch) this.alone.add(w.step);
          for (const w of batch) w.reject(err);
          continue;
        }
        for (const w of batch) w.resolve();
      }
    } finally {
      this.busy = false;
    }
  }

  /** The next write's steps, taken out of the waiting list: a step to be written alone, else as many as fit. */
  private next(): Waiting<S>[] {
    const single = this.waiting.findIndex((w) => this.alone.has(w.step));
    if (single >= 0) return this.waiting.splice(single, 1);
    let n = 0;
    let total = 0;
    while (n < this.waiting.length && n < this.maxSteps) {
      total += this.weight(this.waiting[n]!.step);
      if (n > 0 && total > this.maxWeight) break;
      n++;
    }
    return this.waiting.splice(0, n);
  }
}
