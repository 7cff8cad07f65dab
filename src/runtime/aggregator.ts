// The aggregator: consumes ticks, pre-aggregates batches (on its own thread, or in piscina workers with
// TE_AGG_WORKERS > 0), closes bars by watermark,
// writes final bars to every sink, and commits offsets only up to what those writes made durable.
//
// A failed write never changes the state twice: closed bars, signals and dead letters wait in the partition's
// output queue until every target has them (retried with backoff while consumption of the partition pauses),
// a batch delivered again is never folded again, and a state that cannot be finished is dropped and rebuilt
// from the committed checkpoint, as after a crash.
//
// Two read paths (TE_AGG_READ_PATH): kafkajs's consumer fetches and hands batches of message objects to onBatch, or
// (fetch) kafkajs only keeps the group — its fetching of the ticks topic paused — and each assigned partition is read
// by a follower of the engine's own fetch path (fetch-read-path.ts, src/stream/fetch), whose values go to the fold
// as they lie. Either way a batch becomes a FoldInput (fold-input.ts) and takes the same steps here.
import { Piscina } from 'piscina';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import type { Bar } from '../contracts/bar.js';
import { compareBars } from '../contracts/bar.js';
import { SignalRules } from '../contracts/signal-rules.js';
import type { SnapshotRef } from '../contracts/snapshot-ref.js';
import { BatchAbandonedError, BrokerUnavailableError, DependencyTimeoutError, StateRestoreError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  batchSeconds,
  consumerLag,
  idleAdvances,
  lateTicksRevising,
  outputQueueSteps,
  snapshotBytes,
  snapshotsOut,
  stageSeconds,
  ticksIn,
  watermarkLag,
} from '../metrics.js';
import { Serial } from '../serial.js';
import { backoffMs, sleep, withTimeout } from '../backoff.js';
import { toBar } from '../aggregate/ohlcv.js';
import { parseCheckpoint, PartitionAggregator, type Checkpoint } from '../aggregate/partition-aggregator.js';
import { SignalEngine } from '../aggregate/signals/signal-engine.js';
import { decodeSnapshot, encodeSnapshot } from '../aggregate/state-snapshot.js';
import type { BatchOutput } from '../aggregate/tick-folder.js';
import type { DeadLetter } from '../stream/dlq.js';
import type { Fetched } from '../stream/fetch/index.js';
import { superviseConsumer } from '../stream/consumer-supervisor.js';
import { ensureTopics } from '../stream/topics.js';
import { policyFromConfig } from '../stores/maintenance.js';
import { prepareSchemaRegistry, resolveWireIds, resolveWireIdsInPlace } from '../stream/schema-registry.js';
import { exportWireIds } from '../stream/schema-ids.js';
import type { BarSink } from '../stores/sink.js';
import { AggregatorOutput } from './aggregator-output.js';
import { DependencyHealth } from './dependency-health.js';

import { FetchReadPath } from './fetch-read-path.js';
import { messagesInput, runFrom, runInput, type FoldInput } from './fold-input.js';
import type { OutputQueue } from './output-queue.js';
import { preAggregate, type BatchInput } from './pre-aggregate.js';
import { chooseKernel, type KernelSetting } from './native-kernel.js';
import { QuietPartitions } from './quiet-partitions.js';

/** The dependency name /ready reports while the schema registry cannot be reached. */
const SCHEMA_REGISTRY = 'schema-registry';

interface PartitionState {
  partition: number;
  /** The assignment it belongs to (Aggregator.epoch when it was made): a state of an older one never commits. */
  epoch: number;
  agg: PartitionAggregator;
  /** Everything that touches this partition's state runs here, in order. */
  serial: Serial;
  /** Jobs queued or running on `serial`: a partition with any is not quiet. */
  jobs: number;
  /** Indicators of this partition's streams (in the state snapshot). */
  signals: SignalEngine;
  /** The snapshot the committed checkpoint refers to, if any. */
  snap: SnapshotRef | undefined;
  /** Wall-clock ms of the last snapshot (or of the restore). */
  snapshotAt: number;
  /** Kafka timestamp (ms) of the newest tick processed: carried by the bars it closes or updates. */
  lastTickTs: number;
  /** Closed bars, signals and dead letters not yet durable everywhere: they stay here until they are. */
  out: OutputQueue;
  /** Where this state re-reads from if it must be dropped: its committed checkpoint, else the first offset it folded. */
  resumeFrom: number | undefined;
  /** Idle path: failed writes are retried from the idle timer no sooner than this (ms), `retries` times so far. */
  retryAt: number;
  retries: number;
  /** Durable, but its state snapshot or checkpoint commit failed: the idle timer retries them too. */
  unsettled: boolean;
  /** TE_AGG_PIPELINE: the previous step's makeDurable, running while the next batch folds (never rejects). */
  flushing: Promise<void> | undefined;
  /** What that makeDurable failed with: the step that waits for it throws it. */
  flushError: unknown;
}

/** A pipelined step's commit, taken when its bars were queued, committed once they are durable. */
interface StepCommit {
  cp: Checkpoint | undefined;
  /** The snapshot the checkpoint refers to. */
  snap: SnapshotRef | undefined;
  /** Every bar closed up to this watermark is in the step or before it. */
  wm: number;
}

/** What onBatch's payload offers a long wait: heartbeats, and whether the batch is still ours to finish. */
interface BatchControl {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

const MEMBERSHIP_ERRORS = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP']);

/** The kafkajs protocol error in `err`'s cause chain that means this member lost its place in the group, if any. */
function membershipError(err: unknown): Error | undefined {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type && MEMBERSHIP_ERRORS.has(e.type)) return e as Error;
  }
  return undefined;
}

export interface AggregatorDeps {
  kafka: Kafka;
  sinks: BarSink[];
  log: Logger;
  /** Called when consuming stopped for good (a non-retriable error); the process should shut down. */
  onFatal?: (err: Error) => void;
}

/** How often the idle timer runs, and how late it may fire before the process counts as having stalled. */
const IDLE_PERIOD_MS = 250;
const STALL_MS = 1000;
/** The broker must answer an end-offset query within this, or the partitions are not known to be quiet. */
const OFFSETS_TIMEOUT_MS = 2000;

export class Aggregator {
  private readonly config: Config;
  private readonly deps: AggregatorDeps;
  private readonly partitions = new Map<number, PartitionState>();
  readonly health: DependencyHealth;
  private readonly quiet: QuietPartitions;
  /** Everything the aggregator sends out: bars, signals, dead letters, live bars, state snapshots. */
  private readonly output: AggregatorOutput;
  /** The workers that decode and pre-aggregate batches; none with TE_AGG_WORKERS=0 (batches folded on this thread). */
  private readonly pool: Piscina | undefined;
  private readonly consumer: Consumer;
  /** Asks the broker where each partition's log ends (the idle close). */
  private readonly admin: Admin;
  private idleTimer: NodeJS.Timeout | undefined;
  /** When the idle timer was due to fire: firing much later means the process was stalled. */
  private idleDueAt = 0;
  private offsetsQuery: ReturnType<Admin['fetchTopicOffsets']> | undefined;
  private liveTimer: NodeJS.Timeout | undefined;
  /** TE_MAINTAIN_EVERY_S: the storage policies, on a schedule. */
  private maintainTimer: NodeJS.Timeout | undefined;
  private liveSending = false;
  private liveFailing = false;
  /** Live rounds since the last one that carried the larger intervals' updates (TE_LIVE_UPDATE_ROLLED_MS). */
  private roundsSinceRolled = 0;
  private started = false;
  private stopping = false;
  private readonly maxOutOfOrder: number;
  private readonly signalRules: SignalRules;
  /** Own fetch path (TE_AGG_READ_PATH=fetch) instead of kafkajs's. */
  private readonly ownFetch: boolean;
  /** The fold's kernel (TE_KERNEL) and why it was chosen. */
  private readonly kernel: ReturnType<typeof chooseKernel>;
  /**
   * The assignment: counts up at every group join, rebalance, consumer crash and stop. States, followers and commits
   * of an older assignment stop (a follower's partition may already be another member's).
   */
  private epoch = 0;
  /** Own fetch path's followers of the assigned partitions (TE_AGG_READ_PATH=fetch). */
  private readonly fetchPath: FetchReadPath;
  /** Commits the coordinator acknowledged (kafkajs's COMMIT_OFFSETS), as `partition@offset`, until their commit call returns. */
  private readonly commitsSeen = new Set<string>();
  /** Pipelined steps still being made durable (TE_AGG_PIPELINE): stop waits for them before closing the outputs. */
  private readonly flushes = new Set<Promise<void>>();
  /** Dropped states' queues until their writes in flight end (stop waits for them before closing the producers). */
  private readonly closingWrites = new Set<Promise<void>>();
  /** Own fetch path: responses being folded and made durable, awaited on stop (as kafkajs awaits its eachBatch). */
  private readonly fetchedSteps = new Set<Promise<void>>();

  constructor(config: Config, deps: AggregatorDeps) {
    this.config = config;
    this.deps = deps;
    this.maxOutOfOrder = config.maxOutOfOrderMs * 1000;
    this.signalRules = SignalRules.parse(config.signals);
    this.ownFetch = config.aggReadPath === 'fetch';
    this.kernel = chooseKernel(config.kernel as KernelSetting, undefined, { schemaRegistry: config.schemaRegistryUrl !== '' });
    this.health = new DependencyHealth(deps.log, []);
    this.quiet = new QuietPartitions(config.idleCloseMs, config.idleRecoveryMs);
    this.output = new AggregatorOutput(config, deps.kafka, deps.sinks, this.health);
    this.pool =
      config.aggWorkers > 0
        ? new Piscina({
            filename: new URL('./worker.js', import.meta.url).href,
            minThreads: config.aggWorkers,
            maxThreads: config.aggWorkers,
            idleTimeout: 60_000,
          })
        : undefined;
    this.admin = deps.kafka.admin();
    this.fetchPath = new FetchReadPath(config, this.admin, this.health, deps.log, deps.onFatal);
    this.consumer = deps.kafka.consumer({
      groupId: config.aggGroupId,
      sessionTimeout: config.aggSessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(config.aggSessionTimeoutMs / 10)),
      // How long a rebalance waits for members to rejoin: kafkajs' 60 s default stalls the whole group
      // for a minute whenever a member dies mid-rebalance; a batch never takes near this long.
      rebalanceTimeout: Math.max(10_000, 2 * config.aggSessionTimeoutMs),
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 2 * 1024 * 1024,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const mine = (e.payload.memberAssignment[config.topicTicks] ?? []) as number[];
      // After any rebalance kafkajs fetches from the committed offsets again, so in-memory state is
      // dropped too and rebuilt from the checkpoints committed with those offsets.
      this.newEpoch();
      deps.log.info({ partitions: mine, readPath: config.aggReadPath }, 'assigned partitions');
      if (!this.ownFetch) return;
      // Emitted inside kafkajs's join, before its fetch loop starts: it never fetches the topic (its loop, with
      // nothing to fetch, sleeps maxWaitTimeInMs and heartbeats). The followers read from the committed offsets.
      this.consumer.pause([{ topic: config.topicTicks }]);
      const epoch = this.epoch;
      this.fetchPath.assign(mine.length);
      for (const p of mine) void this.follow(p, epoch).catch((err: unknown) => deps.log.error({ err, partition: p }, 'partition follower failed'));
    });
    // Whatever kafkajs was doing, the assignment may change now: nothing of the current one may commit any more.
    this.consumer.on(this.consumer.events.REBALANCING, () => this.newEpoch());
    this.consumer.on(this.consumer.events.COMMIT_OFFSETS, (e) => {
      for (const t of e.payload.topics)
        if (t.topic === config.topicTicks) for (const p of t.partitions) this.commitsSeen.add(`${p.partition}@${String(p.offset)}`);
    });
    // A fetch of transaction markers or aborted records only is never handed to eachBatch: kafkajs reports it here.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, (e) => {
      if (e.payload.batchSize === 0 && e.payload.topic === config.topicTicks)
        this.onTicklessBatch(e.payload.partition, e.payload.firstOffset, e.payload.lastOffset);
    });
    superviseConsumer(this.consumer, {
      name: 'aggregator',
      log: deps.log,
      run: () => this.runConsumer(),
      maxDelayMs: config.retryMaxMs,
      stopping: () => this.stopping,
      // Restarted from the committed offsets: the state is rebuilt from the checkpoints committed with them.
      onRestart: () => this.newEpoch(),
      onFatal: deps.onFatal,
    });
  }

  private runConsumer(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Partitions overlap their writes, whether or not the fold runs in workers.
      partitionsConsumedConcurrently: Math.max(2, this.config.aggWorkers),
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** A new assignment (or none): the states, followers and commits of the previous one stop. */
  private newEpoch(): void {
    this.epoch++;
    for (const st of this.partitions.values()) this.closeQueue(st);
    this.partitions.clear();
    this.fetchPath.closeAll();
  }

  /** Ready: started, and every store and use of the broker answered its last request. */
  get ready(): boolean {
    return this.started && !this.stopping && this.health.ready;
  }

  /** What /ready reports. */
  readiness(): { ready: boolean; waitingFor: ReturnType<DependencyHealth['problems']> } {
    return { ready: this.ready, waitingFor: this.health.problems() };
  }

  async start(): Promise<void> {
    const { config, deps } = this;
    await ensureTopics(deps.kafka, config);
    // With a schema registry: its ids for the bars and signals written and the ticks read; /ready names it meanwhile.
    if (config.schemaRegistryUrl)
      await prepareSchemaRegistry(config, {
        log: deps.log,
        role: 'writer',
        retryMaxMs: config.retryMaxMs,
        onDown: (err) => this.health.down(SCHEMA_REGISTRY, err),
        onUp: () => this.health.up(SCHEMA_REGISTRY),
      });
    await this.admin.connect();
    // A store that is down at start-up is waited for, as during a run.
    await this.output.open((name, job) => this.untilDone(name, job));
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: config.topicTicks, fromBeginning: true });
    await this.runConsumer();
    this.scheduleIdle();
    if (config.liveUpdateMs > 0) {
      this.liveTimer = setInterval(() => void this.onLiveTick(), config.liveUpdateMs);
      this.liveTimer.unref();
    }
    // The first run a minute after start (or sooner, when the period is shorter): start-up's own work goes first.
    if (config.maintainEveryS > 0) this.scheduleMaintain(Math.min(60, config.maintainEveryS) * 1000);
    this.started = true;
    deps.log.info(
      {
        topic: config.topicTicks,
        group: config.aggGroupId,
        intervals: config.intervals.map((i) => i.name),
        sinks: this.output.sinks.map((s) => s.name),
        kernel: this.kernel.kernel,
        kernelWhy: this.kernel.why,
        workers: config.aggWorkers,
      },
      'aggregator started',
    );
  }

  /** Run `job` until it succeeds, with backoff, reporting `name` down meanwhile (start-up work such as a store's DDL). */
  private async untilDone(name: string, job: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await job();
        this.health.up(name);
        return;
      } catch (err) {
        if (this.stopping) throw err;
        this.health.down(name, err);
        await sleep(backoffMs(attempt, this.config.retryMaxMs));
      }
    }
  }

  /** The partition's state, restored from the checkpoint committed with its offset when first seen. */
  private async state(topic: string, partition: number, heartbeat: () => Promise<void>, epoch = this.epoch): Promise<PartitionState> {
    if (epoch !== this.epoch) throw new BatchAbandonedError(`partition ${partition}: the assignment changed`);
    let st = this.partitions.get(partition);
    if (st) return st;
    const admin = this.deps.kafka.admin();
    await admin.connect();
    // Loading a snapshot takes seconds: keep the group membership alive meanwhile.
    const beat = setInterval(() => void heartbeat().catch((err: unknown) => this.deps.log.warn({ err, partition }, 'heartbeat during restore failed')), 1000);
    try {
      const [committed] = await admin.fetchOffsets({ groupId: this.config.aggGroupId, topics: [topic] });
      const mine = committed?.partitions.find((p) => p.partition === partition);
      const meta = parseCheckpoint(mine?.metadata);
      const snapshot = meta?.snap ? decodeSnapshot(await this.output.loadSnapshot(partition, meta.snap)) : undefined;
      const committedOffset = mine && Number(mine.offset) >= 0 ? Number(mine.offset) : undefined;
      st = {
        partition,
        epoch,
        agg: PartitionAggregator.fromConfig(this.config, { checkpoint: meta, snapshot: snapshot?.agg, firstVersions: true }),
        serial: new Serial(),
        jobs: 0,
        signals: new SignalEngine(this.signalRules),
        lastTickTs: Date.now(),
        snap: meta?.snap,
        // Without a snapshot to restore from, take one at the first commit: no checkpoint without one.
        snapshotAt: meta?.snap ? Date.now() : 0,
        out: this.output.queue(),
        resumeFrom: committedOffset,
        retryAt: 0,
        retries: 0,
        unsettled: false,
        flushing: undefined,
        flushError: undefined,
      };
      if (snapshot) st.signals.restore(snapshot.signals);
      if (meta)
        this.deps.log.info(
          { partition, checkpoint: meta, snapshotBars: snapshot?.agg.levels.reduce((n, l) => n + l.open.length + l.revisable.length, 0) },
          'restored partition state from the committed checkpoint',
        );
    } finally {
      clearInterval(beat);
      await admin.disconnect();
    }
    // The assignment changed while the state was restored: it is not this member's to keep.
    if (epoch !== this.epoch) throw new BatchAbandonedError(`partition ${partition}: assignment changed while its state was restored`);
    this.partitions.set(partition, st);
    return st;
  }

  /** Run `job` on the partition's serial queue, counted as busy meanwhile. */
  private async job<T>(st: PartitionState, job: () => Promise<T>): Promise<T> {
    st.jobs++;
    try {
      return await st.serial.run(job);
    } finally {
      st.jobs--;
    }
  }

  /** Offsets `first`..`last` of a partition hold no tick (see PartitionAggregator.passOver). */
  private onTicklessBatch(partition: number, first: string | null, last: string): void {
    const st = this.partitions.get(partition);
    if (!st || first === null) return;
    void this.job(st, async () => {
      if (this.partitions.get(partition) === st && !this.startsPastCheckpoint(st, Number(first))) st.agg.passOver(Number(first), Number(last));
    }).catch((err: unknown) => this.deps.log.warn({ err, partition }, 'passing over transaction markers failed'));
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const started = process.hrtime.bigint();
    let st: PartitionState;
    try {
      st = await this.state(batch.topic, batch.partition, heartbeat);
    } catch (err) {
      if (err instanceof BatchAbandonedError) return;
      // State that cannot be restored will not restore on a retry either: stop with the reason.
      if (err instanceof StateRestoreError) {
        this.deps.log.fatal({ err, partition: batch.partition }, 'cannot restore the partition state');
        this.deps.onFatal?.(err);
      }
      throw err;
    }
    const ctl: BatchControl = { heartbeat, isRunning, isStale };
    try {
      await this.job(st, async () => {
        if (this.partitions.get(st.partition) !== st) throw new BatchAbandonedError('partition state dropped while the batch waited');
        // Dropped (below), the state is rebuilt and kafkajs sought back to the checkpoint: the records between are read again.
        const first = Number(batch.firstOffset());
        if (this.startsPastCheckpoint(st, first) && !(await this.deletedBelow(st.partition, first)))
          throw new BatchAbandonedError(
            `partition ${st.partition}: batch starts at ${batch.firstOffset()}, past the checkpoint ${st.resumeFrom} the state was restored from`,
          );
        // A batch kafkajs delivers again (after an error it retried) holds records this state has folded already:
        // they must never be folded twice.
        const from = st.agg.processedUntil;
        const msgs = Number(batch.firstOffset()) >= from ? batch.messages : batch.messages.filter((m) => Number(m.offset) >= from);
        if (msgs.length) {
          await resolveWireIds(msgs.map((m) => m.value));
          await this.fold(st, messagesInput(msgs, Number(batch.highWatermark)));
        }
        // The batch's last offset may be a transaction marker or an aborted record after its last tick.
        st.agg.passOver(Number(batch.firstOffset()), Number(batch.lastOffset()));
        this.closeInto(st, st.lastTickTs);
        await this.finishStep(st, ctl);
        resolveOffset(batch.lastOffset());
      });
    } catch (err) {
      this.dropState(st, err);
      if (err instanceof BatchAbandonedError) return;
      throw err;
    }
    await heartbeat();
    batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /**
   * A state restored from the committed checkpoint that has folded nothing yet must start at the checkpoint. kafkajs can
   * hand over a batch fetched before a rebalance after REBALANCING cleared the old assignment's states: such a batch
   * starts where the old state had read to, and folding it would leave the records between unfolded — the bars they
   * belong to built from a suffix of their ticks, and taken as durable once this state commits. (A faults e2e run in
   * CI ended with one second's 1s, 5s and 1m bars of many symbols short of their first ticks, and no dead letter: what
   * this would do. The cause is inferred from the code, not seen in a log.)
   */
  private startsPastCheckpoint(st: PartitionState, first: number): boolean {
    return st.agg.processedUntil < 0 && st.resumeFrom !== undefined && first > st.resumeFrom;
  }

  /**
   * Whether the partition's log now starts at or after `first`: the records before it were deleted (retention) and no
   * seek can read them again, so a batch starting there is the earliest there is. Unknown (no answer): false.
   */
  private async deletedBelow(partition: number, first: number): Promise<boolean> {
    try {
      const offsets = await withTimeout(
        this.admin.fetchTopicOffsets(this.config.topicTicks),
        OFFSETS_TIMEOUT_MS,
        () => new DependencyTimeoutError('kafka', OFFSETS_TIMEOUT_MS),
      );
      const low = offsets.find((o) => o.partition === partition)?.low;
      const deleted = low !== undefined && first <= Number(low);
      if (deleted) this.deps.log.warn({ partition, logStart: Number(low) }, 'the ticks below the log start were deleted before they were aggregated');
      return deleted;
    } catch (err) {
      this.deps.log.debug({ err, partition }, 'log start offset unknown');
      return false;
    }
  }

  /** Decode and pre-aggregate a batch (here or in a worker), fold the result into the state, queue its dead letters. */
  private async fold(st: PartitionState, batch: FoldInput): Promise<void> {
    const { offsets } = batch;
    // A worker has schema ids of its own to be told; this thread's are the ones it learned.
    const wireIds = this.pool && exportWireIds();
    const input: BatchInput = {
      ...batch.packed,
      ...st.agg.foldParams(this.config),
      ...(wireIds ? { wireIds } : {}),
      kernel: this.kernel.kernel,
    };
    const foldStart = performance.now();
    stageSeconds.observe({ stage: 'tick_to_fold' }, Math.max(0, Date.now() - batch.lastTs) / 1000);
    const out = this.pool ? ((await this.pool.run(input, { transferList: batch.transfer as never })) as BatchOutput) : preAggregate(input);
    stageSeconds.observe({ stage: 'fold' }, (performance.now() - foldStart) / 1000);
    if (st.resumeFrom === undefined) st.resumeFrom = offsets[0];
    const last = offsets[offsets.length - 1]!;
    // Rejects of records replayed after a restart were dead-lettered the first time round.
    const fresh = st.agg.apply(out, offsets, last);
    const topic = this.config.topicTicks;
    const letters: DeadLetter[] = fresh.map((r) => {
      const { key, value, offset } = batch.record(r.index);
      return { key, value, code: r.code, reason: r.reason, source: { topic, partition: st.partition, offset } };
    });
    if (letters.length) {
      // Queued, not written yet (the batch may still fail and be read again): the kick of the batch's closed bars,
      // or its step's flush, writes them.
      st.out.push({ bars: [], signals: [], letters, sourceTs: 0 });
      this.deps.log.warn({ partition: st.partition, count: letters.length, first: letters[0]!.reason }, 'records sent to the dead-letter topic');
    }
    ticksIn.inc(out.accepted);
    lateTicksRevising.inc(out.late.length);
    consumerLag.set({ partition: String(st.partition) }, Math.max(0, batch.highWatermark - last - 1));
    st.lastTickTs = batch.lastTs;
  }

  /** Own fetch path: read `partition` for assignment `epoch` until the assignment ends (fetch-read-path.ts). */
  private follow(partition: number, epoch: number): Promise<void> {
    const current = () => !this.stopping && this.epoch === epoch;
    // kafkajs heartbeats on its own (its fetch loop is never held up by ours): nothing to do here.
    const ctl: BatchControl = { heartbeat: () => Promise.resolve(), isRunning: current, isStale: () => !current() };
    return this.fetchPath.follow(partition, current, {
      state: () => this.state(this.config.topicTicks, partition, ctl.heartbeat, epoch),
      resumeFrom: (st) => st.resumeFrom,
      holds: (st) => this.partitions.get(partition) === st,
      process: (st, fetched) => this.onFetched(st, fetched, ctl),
      drop: (st, err) => this.dropState(st, err),
    });
  }

  /** Own fetch path: one response of a partition, as onBatch does a kafkajs batch. */
  private async onFetched(st: PartitionState, fetched: Fetched, ctl: BatchControl): Promise<void> {
    const started = process.hrtime.bigint();
    const step = this.job(st, async () => {
      if (this.partitions.get(st.partition) !== st) throw new BatchAbandonedError('partition state dropped while the batch waited');
      for (const run of fetched.runs) {
        // Never fold a record twice (a state restored from a snapshot may have processed past its checkpoint).
        const from = st.agg.processedUntil;
        let k = 0;
        while (k < run.offsets.length && run.offsets[k]! < from) k++;
        if (k === run.offsets.length) continue;
        const unread = runFrom(run, k);
        await resolveWireIdsInPlace(unread);
        await this.fold(st, runInput(unread, fetched.highWatermark));
      }
      // Offsets that held no tick (transaction markers, aborted records) are passed over.
      st.agg.passOver(fetched.from, fetched.next - 1);
      this.closeInto(st, st.lastTickTs);
      await this.finishStep(st, ctl);
    });
    this.fetchedSteps.add(step);
    try {
      await step;
    } finally {
      this.fetchedSteps.delete(step);
    }
    batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /**
   * A partition's state can no longer be trusted to match what was committed (its batch failed, or was given up):
   * forget it and re-read from its committed checkpoint, exactly as after a crash. Stores get idempotent upserts.
   */
  private dropState(st: PartitionState, err: unknown): void {
    if (this.partitions.get(st.partition) !== st) return;
    this.partitions.delete(st.partition);
    this.closeQueue(st);
    this.quiet.forget(st.partition);
    const level = err instanceof BatchAbandonedError ? 'info' : 'warn';
    this.deps.log[level]({ err, partition: st.partition, resumeFrom: st.resumeFrom }, 'partition state dropped; it is rebuilt from the committed checkpoint');
    if (st.resumeFrom === undefined || this.stopping || this.ownFetch) return;
    try {
      this.consumer.seek({ topic: this.config.topicTicks, partition: st.partition, offset: String(st.resumeFrom) });
    } catch (e) {
      // Not running any more (stopping, or the partition moved): the next owner starts from the commit anyway.
      this.deps.log.debug({ err: e, partition: st.partition }, 'seek after dropping the state not possible');
    }
  }

  /** A dropped state's queue starts no write any more; its writes in flight are awaited by stop(). */
  private closeQueue(st: PartitionState): void {
    const closing: Promise<void> = st.out.close().finally(() => this.closingWrites.delete(closing));
    this.closingWrites.add(closing);
  }

  /** Close what the watermark passed and queue it, with its signals, for writing. */
  private closeInto(st: PartitionState, sourceTs: number): void {
    const closed = st.agg.closeFinal();
    // Indicators run on each bar's first final version. After a restore, bars published before it are
    // recomputed: the restored indicators take them, but their signals were published already.
    const versions = st.agg.takeFirstVersions();
    if (versions.resumed.length) st.signals.onBars(versions.resumed);
    const signals = st.signals.onBars(versions.fresh);
    if (closed.length === 0) return;
    const bars: Bar[] = closed.map((acc) => toBar(acc, { final: true })).sort(compareBars);
    st.out.push({ bars, signals, letters: [], sourceTs, queuedAt: performance.now() });
    // Its writes start now: each target that is idle takes the step at once, one still writing an earlier step takes
    // it next. Pipelined (TE_AGG_PIPELINE), a closing bar so reaches the bars topic while the previous step is still
    // being written to a slower store, instead of waiting for that step's makeDurable to end. Committing still waits
    // for every target (makeDurable).
    st.out.kick();
  }

  /**
   * The end of a batch's step, its closed bars queued: make them durable, then commit. Pipelined (TE_AGG_PIPELINE),
   * the step waits only for the previous step's writes and commit, starts its own and returns, so the partition's
   * next batch is fetched and folded while the stores write: one step in flight, and a closing bar no longer waits
   * for the previous batch's slowest store before it is folded. A step's checkpoint is taken when its bars are
   * queued and committed once they are durable, exactly what the serial order commits. A step that takes a state
   * snapshot is not pipelined (the snapshot must be the state its checkpoint commits).
   */
  private async finishStep(st: PartitionState, ctl: BatchControl): Promise<void> {
    await this.settle(st);
    if (!this.config.aggPipeline || this.snapshotDue(st)) {
      await this.makeDurable(st, ctl);
      return;
    }
    const step: StepCommit = { cp: st.agg.checkpoint({ durable: true }), snap: st.snap, wm: st.agg.watermark };
    st.jobs++; // busy while in flight: the idle timer neither retries nor closes it meanwhile
    const run: Promise<void> = this.makeDurable(st, ctl, step)
      .then(
        () => undefined,
        (err: unknown) => {
          // As a failed serial step does: the state is re-read from the committed checkpoint. The next step throws it.
          st.flushError = err;
          this.dropState(st, err);
        },
      )
      .finally(() => {
        st.jobs--;
        if (st.flushing === run) st.flushing = undefined;
        this.flushes.delete(run);
      });
    st.flushing = run;
    this.flushes.add(run);
  }

  /** Wait for the partition's step in flight, if any (TE_AGG_PIPELINE); throw what it failed with. */
  private async settle(st: PartitionState): Promise<void> {
    if (st.flushing) await st.flushing;
    const err = st.flushError;
    if (err === undefined) return;
    st.flushError = undefined;
    throw err;
  }

  /**
   * Make everything the partition has queued durable, then commit its checkpoint. With `ctl` (a batch) it waits,
   * retrying with backoff and heartbeating, until it succeeds or the batch is no longer ours (throws
   * BatchAbandonedError); without (the idle timer) it tries once and leaves what failed queued, retried later.
   * Returns whether everything is durable. With `step` (a pipelined step) it commits that step's checkpoint and
   * takes no snapshot: the state may have folded further meanwhile.
   */
  private async makeDurable(st: PartitionState, ctl?: BatchControl, step?: StepCommit): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      // Each failed write has reported its target down already (the queue's writers also run between attempts).
      const failures = await st.out.flushOnce();
      outputQueueSteps.set({ partition: String(st.partition) }, st.out.size);
      if (failures.length === 0) break;
      if (!ctl) {
        this.settled(st, false);
        return false;
      }
      await this.pause(st, attempt, ctl);
    }
    st.agg.markDurable(step?.wm);
    const wm = st.agg.watermark;
    if (Number.isFinite(wm)) watermarkLag.set({ partition: String(st.partition) }, Date.now() / 1000 - wm / 1e6);
    if (this.partitions.get(st.partition) !== st) return true;
    const previous = st.snap;
    const snapshotted = step ? true : await this.maybeSnapshot(st);
    const cp = step ? step.cp : st.agg.checkpoint();
    if (!cp) return this.settled(st, snapshotted);
    const snap = step ? step.snap : st.snap;
    const metadata = JSON.stringify(snap ? { ...cp.meta, v: 2, snap } : cp.meta);
    for (let attempt = 0; ; attempt++) {
      // A state of an earlier assignment never commits: its partition may be another member's by now.
      if (this.partitions.get(st.partition) !== st || st.epoch !== this.epoch) {
        if (ctl) throw new BatchAbandonedError(`partition ${st.partition}: the assignment changed before the commit`);
        return true;
      }
      try {
        await this.commit(st.partition, cp.offset, metadata);
        this.health.up('kafka:commit');
        break;
      } catch (err) {
        // Thrown out of a batch, kafkajs rejoins the group on a membership error, but only when it sees the
        // protocol error itself, not wrapped in its retrier's non-retriable error (it would stop consuming).
        const lost = membershipError(err);
        if (lost) throw lost;
        this.health.down('kafka:commit', err);
        // Durable already: an older checkpoint only means a longer replay after a crash. The next step commits.
        if (!ctl) return this.settled(st, false);
        await this.pause(st, attempt, ctl);
      }
    }
    st.resumeFrom = cp.offset;
    if (previous && previous !== st.snap) {
      // The committed checkpoint no longer refers to it. A failure here only leaves garbage in the topic.
      await this.output
        .dropSnapshot(st.partition, previous)
        .catch((err: unknown) => this.deps.log.warn({ err, partition: st.partition, snapshot: previous.id }, 'superseded state snapshot not tombstoned'));
    }
    return this.settled(st, snapshotted);
  }

  /**
   * Commit a partition's checkpoint, and make sure the coordinator took it: kafkajs returns without committing
   * when its consumer is not running (between a crash and its restart), and the previous snapshot must not be
   * tombstoned on a commit that never happened.
   */
  private async commit(partition: number, offset: number, metadata: string): Promise<void> {
    const key = `${partition}@${offset}`;
    this.commitsSeen.delete(key);
    await this.consumer.commitOffsets([{ topic: this.config.topicTicks, partition, offset: String(offset), metadata }]);
    if (!this.commitsSeen.delete(key))
      throw new BrokerUnavailableError(`commit of ${this.config.topicTicks}/${partition} at ${offset} not acknowledged (the consumer is not running)`);
  }

  /**
   * Record how far a makeDurable got: `ok` when nothing is left to retry; otherwise the idle timer retries the
   * partition with backoff, even with nothing queued (a snapshot or commit that failed on the last batch of a
   * feed would otherwise never be retried, its dependency would stay down, and a quiet feed's bars never close).
   * Returns true: past the writes, the bars are durable whether or not the snapshot and commit succeeded.
   */
  private settled(st: PartitionState, ok: boolean): true {
    st.unsettled = !ok;
    if (ok) st.retries = 0;
    else st.retryAt = Date.now() + backoffMs(st.retries++, this.config.retryMaxMs);
    return true;
  }

  /** Wait before retry `attempt`, heartbeating; gives the batch up (throws) once it is no longer ours to finish. */
  private async pause(st: PartitionState, attempt: number, ctl: BatchControl): Promise<void> {
    const until = Date.now() + backoffMs(attempt, this.config.retryMaxMs);
    let lost: Error | undefined;
    for (;;) {
      if (lost) throw lost;
      if (this.stopping || !ctl.isRunning() || ctl.isStale() || this.partitions.get(st.partition) !== st)
        throw new BatchAbandonedError(`partition ${st.partition}: the batch is no longer ours to finish`);
      const left = until - Date.now();
      if (left <= 0) return;
      // Keep the group membership while waiting (a hung broker may not answer: never wait on the heartbeat).
      ctl.heartbeat().catch((err: unknown) => {
        lost = membershipError(err);
      });
      await sleep(Math.min(1000, left));
    }
  }

  /**
   * The idle timer: retries the queued writes of partitions that get no batches, watches for our own stalls,
   * and — live mode only (TE_IDLE_CLOSE_MS) — moves the watermark of partitions verified quiet to wall clock
   * minus out-of-orderness minus that grace, so the bars of a quiet feed still close.
   */
  private async idleLoop(): Promise<void> {
    try {
      await this.onIdleTick();
    } catch (err) {
      this.deps.log.error({ err }, 'idle timer failed');
    }
    if (!this.stopping) this.scheduleIdle();
  }

  private scheduleIdle(): void {
    this.idleDueAt = Date.now() + IDLE_PERIOD_MS;
    this.idleTimer = setTimeout(() => void this.idleLoop(), IDLE_PERIOD_MS);
  }

  private async onIdleTick(): Promise<void> {
    const now = Date.now();
    // Fired this late, the process itself was stalled (a long GC, a blocked event loop, SIGSTOP): a partition that
    // looks caught up may only not have been fetched.
    if (now - this.idleDueAt > STALL_MS) {
      this.deps.log.warn({ stalledMs: now - this.idleDueAt }, 'the process was stalled; no partition counts as quiet for a while');
      this.quiet.disturb(now);
    }
    for (const st of this.partitions.values()) {
      if (st.jobs === 0 && (!st.out.empty || st.unsettled) && now >= st.retryAt)
        void this.job(st, async () => {
          await this.settle(st);
          return this.makeDurable(st);
        }).catch((err: unknown) => this.deps.log.warn({ err, partition: st.partition }, 'retry of queued writes failed'));
    }
    if (this.config.idleCloseMs <= 0 || this.partitions.size === 0) return;
    let ends: Map<number, number>;
    try {
      // One query at a time: while the broker hangs, a query that timed out here is still waiting in kafkajs.
      if (!this.offsetsQuery) this.offsetsQuery = this.admin.fetchTopicOffsets(this.config.topicTicks).finally(() => (this.offsetsQuery = undefined));
      const offsets = await withTimeout(this.offsetsQuery, OFFSETS_TIMEOUT_MS, () => new DependencyTimeoutError('kafka', OFFSETS_TIMEOUT_MS));
      ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
      this.health.up('kafka:offsets');
    } catch (err) {
      this.health.down('kafka:offsets', err);
      return this.quiet.disturb(Date.now());
    }
    const at = Date.now();
    // A store down, or any write waiting: the engine itself is held up, so silence proves nothing.
    if (!this.health.ready) return this.quiet.disturb(at);
    const wm = at * 1000 - this.maxOutOfOrder - this.config.idleCloseMs * 1000;
    for (const st of this.partitions.values()) {
      const p = st.partition;
      if (st.jobs > 0 || !st.out.empty || st.unsettled) {
        this.quiet.forget(p);
        continue;
      }
      this.quiet.observe(p, st.agg.processedUntil, ends.get(p) ?? -1, at);
      if (!this.quiet.quiet(p, st.agg.processedUntil, at) || wm <= st.agg.watermark) continue;
      await this.job(st, async () => {
        await this.settle(st);
        if (this.partitions.get(p) !== st || !this.quiet.quiet(p, st.agg.processedUntil, Date.now()) || !st.agg.advanceTo(wm)) return;
        idleAdvances.inc();
        this.closeInto(st, Date.now());
        await this.makeDurable(st);
      }).catch((err: unknown) => this.deps.log.warn({ err, partition: p }, 'idle close failed; retried'));
    }
  }

  /**
   * Every TE_LIVE_UPDATE_MS: the in-progress state of each bar that took ticks since the last round, to the
   * live bars topic (final=false); the larger intervals' every TE_LIVE_UPDATE_ROLLED_MS, with every bar that took
   * ticks since their last round. At most one update per (symbol, interval) per period; a round is skipped
   * while the previous one is still being produced, so a slow broker throttles updates instead of queueing them.
   */
  private async onLiveTick(): Promise<void> {
    if (this.liveSending) return;
    this.liveSending = true;
    try {
      // The larger intervals every k-th round (TE_LIVE_UPDATE_ROLLED_MS): they are most of the updates (8 of the 9
      // default intervals), and a chart of minutes or hours needs them less often than the base interval's.
      const { liveUpdateMs, liveUpdateRolledMs } = this.config;
      const every = liveUpdateRolledMs === 0 ? Infinity : Math.max(1, Math.round(liveUpdateRolledMs / liveUpdateMs));
      const rolled = ++this.roundsSinceRolled >= every;
      if (rolled) this.roundsSinceRolled = 0;
      const bars: { bar: Bar; sourceTs: number }[] = [];
      for (const st of this.partitions.values())
        for (const acc of st.agg.liveBars(rolled)) bars.push({ bar: toBar(acc, { final: false }), sourceTs: st.lastTickTs });
      await this.output.live(bars);
      if (this.liveFailing) this.deps.log.info('live bar updates produced again');
      this.liveFailing = false;
    } catch (err) {
      // Updates are ephemeral (the final bar supersedes them): log once and carry on with the next rounds.
      if (!this.liveFailing) this.deps.log.warn({ err }, 'live bar updates not produced (they resume when the broker answers)');
      this.liveFailing = true;
    } finally {
      this.liveSending = false;
    }
  }

  /**
   * Every TE_STATE_SNAPSHOT_MS: store the partition's state (larger intervals, flat-bar state, indicators), so the
   * checkpoint can point at the base interval's replay point instead of the oldest open bar of the largest interval.
   */
  private async maybeSnapshot(st: PartitionState): Promise<boolean> {
    if (!this.snapshotDue(st)) return true;
    const started = process.hrtime.bigint();
    const state = st.agg.snapshot();
    const payload = encodeSnapshot(state, st.signals.state());
    let ref: SnapshotRef;
    try {
      ref = await this.output.saveSnapshot(st.partition, payload);
      this.health.up('kafka:state');
    } catch (err) {
      // The checkpoint keeps referring to the previous snapshot; the next commit tries again.
      this.health.down('kafka:state', err);
      return false;
    }
    st.agg.pinTo(state);
    st.snap = ref;
    st.snapshotAt = Date.now();
    snapshotsOut.inc();
    snapshotBytes.observe(payload.length);
    this.deps.log.debug(
      { partition: st.partition, bytes: payload.length, chunks: ref.chunks, replayFrom: state.from, seconds: Number(process.hrtime.bigint() - started) / 1e9 },
      'state snapshot stored',
    );
    return true;
  }

  /** Whether the partition's next commit takes a state snapshot (TE_STATE_SNAPSHOT_MS). */
  private snapshotDue(st: PartitionState): boolean {
    const every = this.config.stateSnapshotMs;
    return every > 0 && Date.now() - st.snapshotAt >= every && st.agg.canSnapshot;
  }

  /** The storage policies on every store that has them, one run at a time; a failed run is reported and tried again next time. */
  private scheduleMaintain(delayMs: number): void {
    this.maintainTimer = setTimeout(() => {
      void (async () => {
        const policy = policyFromConfig(this.config);
        for (const sink of this.output.sinks) {
          if (this.stopping) return;
          await sink
            .maintain?.(policy)
            .catch((err: unknown) => this.deps.log.warn({ err, sink: sink.name }, 'storage policies failed; next run in TE_MAINTAIN_EVERY_S'));
        }
        if (!this.stopping) this.scheduleMaintain(this.config.maintainEveryS * 1000);
      })();
    }, delayMs);
    this.maintainTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.newEpoch();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.maintainTimer) clearTimeout(this.maintainTimer);
    if (this.liveTimer) clearInterval(this.liveTimer);
    await this.consumer.disconnect();
    // Steps still in flight end: their queues were closed, so the writes not yet started are given up with their
    // commits (they belong to the ended assignment; whoever takes the partition replays from its last commit).
    await Promise.allSettled([...this.flushes, ...this.fetchedSteps]);
    // And the writes dropped states' queues had started with no flush waiting (a batch that failed after its bars
    // closed): before the producers close.
    await Promise.all(this.closingWrites);
    await this.pool?.destroy();
    await this.output.close();
    await this.admin.disconnect();
    this.deps.log.info('aggregator stopped');
  }
}
