// The aggregator's own read path (TE_AGG_READ_PATH=fetch): kafkajs keeps the group and the commits, and each assigned
// partition is read here by a follower of src/stream/fetch from its state's checkpoint. What a fetched response does
// to the state is the aggregator's (FollowHooks.process); this file only reads: which offset, which broker, retries.
import type { Admin } from 'kafkajs';
import type { Config } from '../config.js';
import { BatchAbandonedError, KafkaReadError, StateRestoreError } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffMs, sleep } from '../backoff.js';
import { OFFSET_OUT_OF_RANGE, partitionLeaders, PartitionFollower, type Broker, type Fetched } from '../stream/fetch/index.js';
import type { DependencyHealth } from './dependency-health.js';

/** Bytes per fetch of a partition at most (as kafkajs's maxBytesPerPartition was), and the long poll's wait. */
const FOLLOW_MAX_BYTES = 2 * 1024 * 1024;
/** What one member's fetches of all its partitions may ask for at once (kafkajs's maxBytes per fetch, 10 MiB). */
const FOLLOW_BUDGET_BYTES = 10 * 1024 * 1024;
/** Bytes per fetch of a partition at least: a record batch of ticks fits many times over. */
const FOLLOW_MIN_BYTES = 64 * 1024;

/**
 * Bytes per fetch of each partition when a member reads `assigned` of them: the budget shared out, within
 * [FOLLOW_MIN_BYTES, FOLLOW_MAX_BYTES]. Each follower holds two responses at most (one folded, one in flight), so a
 * member with many partitions holds about twice the budget, not twice 2 MiB per partition.
 */
export function followMaxBytes(assigned: number): number {
  return Math.max(FOLLOW_MIN_BYTES, Math.min(FOLLOW_MAX_BYTES, Math.floor(FOLLOW_BUDGET_BYTES / Math.max(1, assigned))));
}
const FOLLOW_MAX_WAIT_MS = 100;
const FOLLOW_TIMEOUT_MS = 10_000;

/** What following a partition needs of the aggregator, for its state type S. */
export interface FollowHooks<S> {
  /** The partition's state, restored from its committed checkpoint when new (BatchAbandonedError: not ours any more). */
  state(): Promise<S>;
  /** Where a new state reads from: its checkpoint's offset, or undefined for the log's start. */
  resumeFrom(st: S): number | undefined;
  /** Whether `st` is still the partition's state (not dropped). */
  holds(st: S): boolean;
  /** Fold one response into the state and make it durable; a throw means the state can no longer be trusted. */
  process(st: S, fetched: Fetched): Promise<void>;
  /** Forget the state (it is restored from the checkpoint again). */
  drop(st: S, err: unknown): void;
}

export class FetchReadPath {
  private readonly followers = new Set<PartitionFollower>();
  /** Bytes per fetch of each partition, for the partitions this member was assigned (followMaxBytes). */
  private maxBytes = FOLLOW_MAX_BYTES;
  /** Each partition's leader, looked up again after a fetch failed. */
  private leaders: ((partition: number) => Broker) | undefined;

  constructor(
    private readonly config: Config,
    private readonly admin: Admin,
    private readonly health: DependencyHealth,
    private readonly log: Logger,
    private readonly onFatal?: (err: Error) => void,
  ) {}

  /**
   * Read `partition` while `current()` (the assignment it was given in lasts). Each state incarnation reads from its
   * committed checkpoint (or the log's start); a state dropped after a failed batch is restored again, after a pause.
   */
  async follow<S>(partition: number, current: () => boolean, hooks: FollowHooks<S>): Promise<void> {
    // Each partition reports its own reading (/ready's waitingFor), and stops reporting when it is no longer read
    // here: a failure of a partition that moved, or of an assignment that ended, must not keep the process unready.
    const restore = `kafka:restore:${partition}`;
    const fetch = `kafka:fetch:${partition}`;
    let drops = 0;
    try {
      while (current()) {
        let st: S;
        try {
          st = await hooks.state();
          this.health.up(restore);
        } catch (err) {
          if (err instanceof BatchAbandonedError || !current()) return;
          if (err instanceof StateRestoreError) {
            this.log.fatal({ err, partition }, 'cannot restore the partition state');
            this.onFatal?.(err);
            return;
          }
          this.health.down(restore, err);
          await sleep(backoffMs(drops++, this.config.retryMaxMs));
          continue;
        }
        const end = await this.followState(partition, st, current, hooks, fetch);
        if (end === 'fatal') return;
        if (end === 'dropped') await sleep(backoffMs(drops++, this.config.retryMaxMs));
        else drops = 0;
      }
    } finally {
      this.health.up(restore);
      this.health.up(fetch);
    }
  }

  /** A new assignment of `partitions` partitions: their fetches share the budget (followers made from now on). */
  assign(partitions: number): void {
    this.maxBytes = followMaxBytes(partitions);
  }

  /** Stop every follower (a new assignment, or the end). */
  closeAll(): void {
    for (const f of this.followers) f.close();
    this.followers.clear();
  }

  /**
   * Where to read the partition from: `from` if its log holds it, else the log's start — at once for a state with no
   * checkpoint (`from` undefined), with a warning otherwise (ticks were deleted unread, or the log is new).
   */
  private async withinLog(partition: number, from: number | undefined): Promise<number> {
    const o = (await this.admin.fetchTopicOffsets(this.config.topicTicks)).find((x) => x.partition === partition);
    if (!o) return from ?? 0;
    const low = Number(o.low);
    const high = Number(o.high);
    if (from === undefined) return low;
    if (from >= low && from <= high) return from;
    if (from < low) this.log.warn({ partition, from, logStart: low }, 'the ticks below the log start were deleted before they were aggregated');
    else this.log.warn({ partition, from, logEnd: high }, 'the checkpoint is past the log end (the topic was made again): reading from the log start');
    return low;
  }

  /**
   * Read into one state until it is dropped, the assignment ends, or the partition cannot be read at all (fatal: the
   * process is told, and reading stops). A failed fetch is retried from where it got to.
   */
  private async followState<S>(
    partition: number,
    st: S,
    current: () => boolean,
    hooks: FollowHooks<S>,
    health: string,
  ): Promise<'dropped' | 'ended' | 'fatal'> {
    const topic = this.config.topicTicks;
    let from = hooks.resumeFrom(st);
    let follower: PartitionFollower | undefined;
    let failures = 0;
    let outOfRange = false;
    try {
      while (current()) {
        if (!hooks.holds(st)) return 'dropped';
        let fetched: Fetched;
        try {
          if (from === undefined || outOfRange) {
            from = await this.withinLog(partition, from);
            outOfRange = false;
          }
          this.leaders ??= await partitionLeaders(this.admin, topic);
          if (!follower) {
            follower = new PartitionFollower(this.leaders(partition), topic, partition, from, {
              clientId: `${this.config.kafkaClientId}-aggregator`,
              maxBytes: this.maxBytes,
              maxWaitMs: FOLLOW_MAX_WAIT_MS,
              timeoutMs: FOLLOW_TIMEOUT_MS,
            });
            this.followers.add(follower);
          }
          fetched = await follower.next();
          this.health.up(health);
          failures = 0;
        } catch (err) {
          if (!current()) return 'ended';
          if (err instanceof KafkaReadError && err.fatal) {
            // As kafkajs's consumer stops for good on what it cannot read: retrying would stall the partition silently.
            this.log.fatal({ err, partition }, 'cannot read the ticks partition');
            this.onFatal?.(err);
            return 'fatal';
          }
          // Nothing was folded from a failed fetch: the state stays, and reading resumes where it got to.
          if (follower) {
            from = follower.offset;
            follower.close();
            this.followers.delete(follower);
            follower = undefined;
          }
          this.leaders = undefined;
          // Retention deleted the records at the checkpoint before they were aggregated (or the topic was made
          // again): reading goes on from the log's start, as kafkajs resets a consumer that reads from the beginning.
          if (err instanceof KafkaReadError && err.brokerError === OFFSET_OUT_OF_RANGE) outOfRange = true;
          else this.health.down(health, err);
          await sleep(backoffMs(failures++, this.config.retryMaxMs));
          continue;
        }
        if (fetched.next === fetched.from) continue;
        try {
          await hooks.process(st, fetched);
        } catch (err) {
          hooks.drop(st, err);
          if (!(err instanceof BatchAbandonedError)) this.log.warn({ err, partition }, 'batch failed; the partition is read again from its checkpoint');
          return 'dropped';
        }
      }
      return 'ended';
    } finally {
      if (follower) {
        follower.close();
        this.followers.delete(follower);
      }
    }
  }
}
