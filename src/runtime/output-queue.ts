// What one partition must make durable before it may commit: its closed bars, signals and dead letters, kept
// until every target has them. A target that fails keeps its steps and is retried; targets that succeeded are
// not written again (no duplicate records on the topics while a store is down). Nothing leaves this queue
// before it is durable, so a failed write can never lose a bar or make the state fold a batch twice.
import { BatchAbandonedError } from '../errors.js';
import type { DeadLetter } from '../stream/dlq.js';
import type { Bar } from '../contracts/bar.js';
import type { Signal } from '../contracts/signal.js';

/** The output of one step of a partition (a batch, or an idle close). */
export interface OutputStep {
  bars: Bar[];
  signals: Signal[];
  letters: DeadLetter[];
  /** Kafka timestamp (ms) of the tick that closed the bars. */
  sourceTs: number;
  /** performance.now() when the step was queued (the out_queue stage of tick_engine_stage_seconds). */
  queuedAt?: number;
}

/** One place outputs go: a store, the bars topic, the signals topic, the dead-letter topic. */
export interface OutputTarget {
  readonly name: string;
  /** The server it depends on ('postgres', 'questdb', 'kafka', …): what health reports. */
  readonly dependency: string;
  /** Whether this step holds anything for this target. */
  wants(step: OutputStep): boolean;
  /**
   * Write idempotently; resolves once durable. Calls for one target never overlap: a partition's queue has one in
   * flight per target, and the aggregator's writer (coalescing-writer.ts) one across partitions.
   */
  write(step: OutputStep): Promise<void>;
  /**
   * The steps of several partitions in one write (coalescing-writer.ts), in the order given: resolves once all are
   * durable. Without it they are written one after another.
   */
  writeMany?(steps: OutputStep[]): Promise<void>;
}

export interface TargetFailure {
  target: OutputTarget;
  error: unknown;
}

interface Pending {
  step: OutputStep;
  remaining: Set<OutputTarget>;
}

/** Writes one step to one target (the caller serializes a target's writes across partitions and times them). */
export type WriteStep = (target: OutputTarget, step: OutputStep) => Promise<void>;

/**
 * A partition's steps not yet durable everywhere, and each target's writer: one write at a time per target, its
 * pending steps oldest first; once started (kick, or flushOnce) it goes on to the next pending step as each write
 * succeeds, and stops at the first failure (a newer revision must never land before an older one). So a step queued
 * while the previous one is still being written to a slow store reaches every other target at once: a closing bar
 * does not wait in the queue behind another target's write.
 */
export class OutputQueue {
  private readonly pending: Pending[] = [];
  /** Each target's write in flight: resolves to the error it failed with, undefined when it succeeded. */
  private readonly writing = new Map<OutputTarget, Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly targets: readonly OutputTarget[],
    private readonly write: WriteStep,
    /** Every failed write, once, whoever started it (the aggregator reports the target down). */
    private readonly onFailure: (target: OutputTarget, error: unknown) => void,
  ) {}

  get empty(): boolean {
    return this.pending.length === 0;
  }

  /** Steps not yet durable everywhere. */
  get size(): number {
    return this.pending.length;
  }

  push(step: OutputStep): void {
    const remaining = new Set(this.targets.filter((t) => t.wants(step)));
    if (remaining.size) this.pending.push({ step, remaining });
  }

  /** Start writing what is pending to every idle target, without waiting; a failure is retried by the next flushOnce. */
  kick(): void {
    if (this.closed) return;
    for (const t of this.targets) this.writeNext(t);
  }

  /**
   * The queue's partition state is dropped (it will never commit): no write starts any more. Writes in flight
   * finish; a flushOnce waiting for more returns with a BatchAbandonedError for each target it still waited on, so
   * nothing older lands after the new state's writes. Resolves once no write is in flight.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.writing.values());
  }

  /**
   * One attempt per target at the steps pending now: each target writes them oldest first and stops at its first
   * failure. Returns the failures (each already reported); with none, every step pending at the call is durable (a
   * writer may go on with steps queued since, without this call waiting for them).
   */
  async flushOnce(): Promise<TargetFailure[]> {
    const steps = this.pending.slice();
    const failures: TargetFailure[] = [];
    await Promise.all(
      this.targets.map(async (target) => {
        // Oldest first: while one of these steps lacks the target, the target's next write is one of them.
        while (steps.some((p) => p.remaining.has(target))) {
          if (this.closed) {
            failures.push({ target, error: new BatchAbandonedError(`the partition's state was dropped before its steps reached ${target.name}`) });
            return;
          }
          const w = this.writeNext(target);
          if (!w) return;
          const error = await w;
          if (error !== undefined) {
            failures.push({ target, error });
            return;
          }
        }
      }),
    );
    return failures;
  }

  /** The target's write in flight, else a new one of its oldest pending step; undefined when it has none pending. */
  private writeNext(target: OutputTarget): Promise<unknown> | undefined {
    const inFlight = this.writing.get(target);
    if (inFlight) return inFlight;
    const p = this.pending.find((q) => q.remaining.has(target));
    if (!p) return undefined;
    // Through a resolved promise: a write that throws at once fails like one that rejects.
    const w = Promise.resolve()
      .then(() => this.write(target, p.step))
      .then(
        () => {
          this.writing.delete(target);
          p.remaining.delete(target);
          while (this.pending.length && this.pending[0]!.remaining.size === 0) this.pending.shift();
          if (!this.closed) this.writeNext(target);
          return undefined;
        },
        (error: unknown) => {
          this.writing.delete(target);
          this.onFailure(target, error);
          return error ?? new Error(`write to ${target.name} failed`);
        },
      );
    this.writing.set(target, w);
    return w;
  }
}
