// What one partition must make durable before it may commit: its closed bars, signals and dead letters, kept
// until every target has them. A target that fails keeps its steps and is retried; targets that succeeded are
// not written again (no duplicate records on the topics while a store is down). Nothing leaves this queue
// before it is durable, so a failed write can never lose a bar or make the state fold a batch twice.
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
  /** Write idempotently; resolves once durable. Calls for one target never overlap (the queue serializes them). */
  write(step: OutputStep): Promise<void>;
}

export interface TargetFailure {
  target: OutputTarget;
  error: unknown;
}

interface Pending {
  step: OutputStep;
  remaining: Set<OutputTarget>;
}

export class OutputQueue {
  private readonly pending: Pending[] = [];

  constructor(private readonly targets: readonly OutputTarget[]) {}

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

  /**
   * One attempt per target: each target writes its pending steps oldest first and stops at its first failure (a
   * newer revision must never land before an older one). `run` runs a target's write (serialized per target
   * across partitions by the caller). Returns the failures; the queue is empty when there are none.
   */
  async flushOnce(run: (target: OutputTarget, step: OutputStep) => Promise<void>): Promise<TargetFailure[]> {
    const failures: TargetFailure[] = [];
    const active = this.targets.filter((t) => this.pending.some((p) => p.remaining.has(t)));
    await Promise.all(
      active.map(async (target) => {
        for (const p of this.pending) {
          if (!p.remaining.has(target)) continue;
          try {
            await run(target, p.step);
            p.remaining.delete(target);
          } catch (error) {
            failures.push({ target, error });
            return;
          }
        }
      }),
    );
    while (this.pending.length && this.pending[0]!.remaining.size === 0) this.pending.shift();
    return failures;
  }
}
