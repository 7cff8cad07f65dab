// The aggregator: consumes ticks, pre-aggregates batches in piscina workers, closes bars by watermark,
// writes final bars to every sink, and commits offsets only up to what those writes made durable.
import { Piscina } from 'piscina';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import {
  snapshotBytes,
  snapshotsOut,
  barsOut,
  batchSeconds,
  consumerLag,
  lateTicksRevising,
  liveUpdatesOut,
  revisionsOut,
  signalsOut,
  ticksIn,
  watermarkLag,
} from '../metrics.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { sendChunked } from '../stream/send.js';
import { SignalEngine } from './signals.js';
import { SignalRules } from './signal-rules.js';
import { Serial } from '../serial.js';
import { sendDeadLetters, type DeadLetter } from '../stream/dlq.js';
import { ensureTopics } from '../stream/topics.js';
import { compareBars, type Bar } from './bar.js';
import { toBar } from './ohlcv.js';
import { parseCheckpoint, PartitionAggregator, type SnapshotRef } from './partition-aggregator.js';
import { decodeSnapshot, encodeSnapshot } from './state-snapshot.js';
import { StateStore } from '../stream/state-store.js';
import { StateRestoreError } from '../errors.js';
import { packBatch, type BatchInput, type BatchOutput } from './pre-aggregate.js';
import { KafkaBarSink } from './sinks/kafka-sink.js';
import type { BarSink } from './sinks/sink.js';

interface PartitionState {
  partition: number;
  agg: PartitionAggregator;
  /** Wall-clock ms of the last batch: the idle timer only moves partitions that went quiet. */
  lastBatchAt: number;
  /** Everything that touches this partition's state runs here, in order. */
  serial: Serial;
  /** Indicators of this partition's streams (in the state snapshot). */
  signals: SignalEngine;
  /** The snapshot the committed checkpoint refers to, if any. */
  snap: SnapshotRef | undefined;
  /** Wall-clock ms of the last snapshot (or of the restore). */
  snapshotAt: number;
  /** Kafka timestamp (ms) of the newest tick processed: carried by the bars it closes or updates. */
  lastTickTs: number;
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

export class Aggregator {
  private readonly config: Config;
  private readonly deps: AggregatorDeps;
  private readonly partitions = new Map<number, PartitionState>();
  /** The stores plus the bars topic. */
  private sinks: BarSink[] = [];
  private readonly sinkSerial = new Map<BarSink, Serial>();
  private pool: Piscina | undefined;
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private stateStore: StateStore | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private liveTimer: NodeJS.Timeout | undefined;
  private liveSending = false;
  private readonly maxOutOfOrder: number;
  private readonly allowedLateness: number;
  private readonly signalRules: SignalRules;

  constructor(config: Config, deps: AggregatorDeps) {
    this.config = config;
    this.deps = deps;
    this.maxOutOfOrder = config.maxOutOfOrderMs * 1000;
    this.allowedLateness = config.allowedLatenessMs * 1000;
    this.signalRules = SignalRules.parse(config.signals);
  }

  async start(): Promise<void> {
    const { config, deps } = this;
    await ensureTopics(deps.kafka, config);
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: config.aggWorkers,
      maxThreads: config.aggWorkers,
      idleTimeout: 60_000,
    });
    this.producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.sinks = [...deps.sinks, new KafkaBarSink(this.producer, config.topicBars)];
    this.stateStore = new StateStore(deps.kafka, this.producer, config.topicState, config.aggGroupId);
    for (const s of this.sinks) {
      await s.init();
      this.sinkSerial.set(s, new Serial());
    }
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
      this.partitions.clear();
      deps.log.info({ partitions: mine }, 'assigned partitions');
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const err = e.payload.error;
      if (e.payload.restart) {
        deps.log.warn({ err }, 'consumer crashed; kafkajs restarts it from the last committed offset');
        this.partitions.clear();
        return;
      }
      deps.log.fatal({ err }, 'consumer stopped');
      deps.onFatal?.(err);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: config.topicTicks, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, config.aggWorkers),
      eachBatch: (payload) => this.onBatch(payload),
    });
    if (config.idleCloseMs > 0) {
      this.idleTimer = setInterval(() => void this.onIdleTick(), Math.min(500, config.idleCloseMs));
      this.idleTimer.unref();
    }
    if (config.liveUpdateMs > 0) {
      this.liveTimer = setInterval(() => void this.onLiveTick(), config.liveUpdateMs);
      this.liveTimer.unref();
    }
    deps.log.info(
      { topic: config.topicTicks, group: config.aggGroupId, intervals: config.intervals.map((i) => i.name), sinks: this.sinks.map((s) => s.name) },
      'aggregator started',
    );
  }

  /** The partition's state, restored from the checkpoint committed with its offset when first seen. */
  private async state(topic: string, partition: number, heartbeat: () => Promise<void>): Promise<PartitionState> {
    let st = this.partitions.get(partition);
    if (st) return st;
    const admin = this.deps.kafka.admin();
    await admin.connect();
    // Loading a snapshot takes seconds: keep the group membership alive meanwhile.
    const beat = setInterval(() => void heartbeat().catch((err: unknown) => this.deps.log.warn({ err, partition }, 'heartbeat during restore failed')), 1000);
    try {
      const [committed] = await admin.fetchOffsets({ groupId: this.config.aggGroupId, topics: [topic] });
      const meta = parseCheckpoint(committed?.partitions.find((p) => p.partition === partition)?.metadata);
      const snapshot = meta?.snap ? decodeSnapshot(await this.stateStore!.load(partition, meta.snap)) : undefined;
      st = {
        partition,
        agg: PartitionAggregator.fromConfig(this.config, meta, snapshot?.agg, true),
        lastBatchAt: Date.now(),
        serial: new Serial(),
        signals: new SignalEngine(this.signalRules),
        lastTickTs: Date.now(),
        snap: meta?.snap,
        // Without a snapshot to restore from, take one at the first commit: no checkpoint without one.
        snapshotAt: meta?.snap ? Date.now() : 0,
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
    this.partitions.set(partition, st);
    return st;
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const started = process.hrtime.bigint();
    let st: PartitionState;
    try {
      st = await this.state(batch.topic, batch.partition, heartbeat);
    } catch (err) {
      // State that cannot be restored will not restore on a retry either: stop with the reason.
      if (err instanceof StateRestoreError) {
        this.deps.log.fatal({ err, partition: batch.partition }, 'cannot restore the partition state');
        this.deps.onFatal?.(err);
      }
      throw err;
    }
    await st.serial.run(async () => {
      const msgs = batch.messages;
      const offsets = msgs.map((m) => Number(m.offset));
      const packed = packBatch(
        msgs.map((m) => m.value),
        offsets,
      );
      const input: BatchInput = {
        ...packed,
        interval: st.agg.baseInterval,
        watermark: st.agg.watermark,
        maxOutOfOrder: this.maxOutOfOrder,
        allowedLateness: this.allowedLateness,
        origin: this.config.bucketOrigin,
      };
      const out = (await this.pool!.run(input, { transferList: [packed.data.buffer, packed.lengths.buffer, packed.offsets.buffer] as never })) as BatchOutput;
      // Rejects of records replayed after a restart were dead-lettered the first time round.
      const fresh = st.agg.apply(out, offsets, Number(batch.lastOffset()));
      const letters: DeadLetter[] = fresh.map((r) => {
        const m = msgs[r.index]!;
        return { key: m.key, value: m.value, code: r.code, reason: r.reason, source: { topic: batch.topic, partition: batch.partition, offset: m.offset } };
      });
      await sendDeadLetters(this.producer!, this.config.topicDlq, letters);
      if (letters.length)
        this.deps.log.warn({ partition: batch.partition, count: letters.length, first: letters[0]!.reason }, 'records sent to the dead-letter topic');
      ticksIn.inc(out.accepted);
      lateTicksRevising.inc(out.late.length);
      consumerLag.set({ partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1));
      st.lastBatchAt = Date.now();
      st.lastTickTs = Number(msgs[msgs.length - 1]!.timestamp);
      await this.closeAndCommit(st, st.lastTickTs);
      resolveOffset(batch.lastOffset());
      await heartbeat();
    });
    batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /**
   * Live mode only: a partition that received nothing for TE_IDLE_CLOSE_MS gets its watermark moved to
   * wall clock minus out-of-orderness minus that grace, so the bars of a quiet feed still close.
   * Busy partitions are never touched: a lagging consumer must not turn its own backlog into late data.
   */
  private async onIdleTick(): Promise<void> {
    const now = Date.now();
    const wm = now * 1000 - this.maxOutOfOrder - this.config.idleCloseMs * 1000;
    for (const st of this.partitions.values()) {
      if (now - st.lastBatchAt < this.config.idleCloseMs || wm <= st.agg.watermark) continue;
      try {
        await st.serial.run(async () => {
          if (st.agg.advanceTo(wm)) await this.closeAndCommit(st);
        });
      } catch (err) {
        this.deps.log.error({ err, partition: st.partition }, 'idle close failed; will retry');
      }
    }
  }

  /**
   * Every TE_LIVE_UPDATE_MS: the in-progress state of each bar that took ticks since the last round, to the
   * live bars topic (final=false). At most one update per (symbol, interval) per period; a round is skipped
   * while the previous one is still being produced, so a slow broker throttles updates instead of queueing them.
   */
  private async onLiveTick(): Promise<void> {
    if (this.liveSending) return;
    this.liveSending = true;
    try {
      const s = schema('bar');
      const messages = [];
      for (const st of this.partitions.values()) {
        const timestamp = String(st.lastTickTs);
        for (const acc of st.agg.liveBars()) messages.push({ key: acc.symbol, value: encode(s, toBar(acc, false)), timestamp });
      }
      if (messages.length) {
        await sendChunked(this.producer!, this.config.topicBarsLive, messages);
        liveUpdatesOut.inc(messages.length);
      }
    } catch (err) {
      // Updates are ephemeral (the final bar supersedes them): log and carry on with the next round.
      this.deps.log.warn({ err }, 'live bar updates not produced');
    } finally {
      this.liveSending = false;
    }
  }

  /**
   * Close what the watermark passed, make it durable everywhere, then commit the checkpoint.
   * `sourceTs` (ms): the Kafka timestamp of the tick that closed the bars, given to their records on the bars
   * topic as Kafka Streams does, so a consumer can measure tick-to-delivery latency.
   */
  private async closeAndCommit(st: PartitionState, sourceTs = Date.now()): Promise<void> {
    const closed = st.agg.closeFinal();
    // Indicators run on each bar's first final version. After a restore, bars published before it are
    // recomputed: the restored indicators take them, but their signals were published already.
    const versions = st.agg.takeFirstVersions();
    if (versions.resumed.length) st.signals.onBars(versions.resumed);
    const signals = st.signals.onBars(versions.fresh);
    if (closed.length) {
      const bars: Bar[] = closed.map((acc) => toBar(acc, true)).sort(compareBars);
      await Promise.all(this.sinks.map((s) => this.sinkSerial.get(s)!.run(() => s.write(bars, sourceTs))));
      for (const b of bars) {
        barsOut.inc({ interval: b.interval });
        if (b.revision > 0) revisionsOut.inc({ interval: b.interval });
      }
      if (signals.length) {
        await Promise.all(this.sinks.filter((s) => s.writeSignals).map((s) => this.sinkSerial.get(s)!.run(() => s.writeSignals!(signals))));
        const s = schema('signal');
        await sendChunked(
          this.producer!,
          this.config.topicSignals,
          signals.map((x) => ({ key: x.symbol, value: encode(s, x) })),
        );
        signalsOut.inc(signals.length);
      }
    }
    st.agg.markDurable();
    const wm = st.agg.watermark;
    if (Number.isFinite(wm)) watermarkLag.set({ partition: String(st.partition) }, Date.now() / 1000 - wm / 1e6);
    if (this.partitions.get(st.partition) !== st) return;
    const previous = st.snap;
    await this.maybeSnapshot(st);
    const cp = st.agg.checkpoint();
    if (!cp) return;
    try {
      await this.consumer!.commitOffsets([
        {
          topic: this.config.topicTicks,
          partition: st.partition,
          offset: String(cp.offset),
          metadata: JSON.stringify(st.snap ? { ...cp.meta, v: 2, snap: st.snap } : cp.meta),
        },
      ]);
    } catch (err) {
      // Thrown out of a batch, kafkajs rejoins the group on a membership error, but only when it sees the
      // protocol error itself, not wrapped in its retrier's non-retriable error (it would stop consuming).
      throw membershipError(err) ?? err;
    }
    if (previous && previous !== st.snap) {
      // The committed checkpoint no longer refers to it. A failure here only leaves garbage in the topic.
      await this.stateStore!.drop(st.partition, previous).catch((err: unknown) =>
        this.deps.log.warn({ err, partition: st.partition, snapshot: previous.id }, 'superseded state snapshot not tombstoned'),
      );
    }
  }

  /**
   * Every TE_STATE_SNAPSHOT_MS: store the partition's state (larger intervals, flat-bar state, indicators), so the
   * checkpoint can point at the base interval's replay point instead of the oldest open bar of the largest interval.
   */
  private async maybeSnapshot(st: PartitionState): Promise<void> {
    const every = this.config.stateSnapshotMs;
    if (every <= 0 || Date.now() - st.snapshotAt < every || !st.agg.canSnapshot) return;
    const started = process.hrtime.bigint();
    const state = st.agg.snapshot();
    const payload = encodeSnapshot(state, st.signals.state());
    const ref = await this.stateStore!.save(st.partition, payload);
    st.agg.pinTo(state);
    st.snap = ref;
    st.snapshotAt = Date.now();
    snapshotsOut.inc();
    snapshotBytes.observe(payload.length);
    this.deps.log.debug(
      { partition: st.partition, bytes: payload.length, chunks: ref.chunks, replayFrom: state.from, seconds: Number(process.hrtime.bigint() - started) / 1e9 },
      'state snapshot stored',
    );
  }

  async stop(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.liveTimer) clearInterval(this.liveTimer);
    await this.consumer?.disconnect();
    await this.pool?.destroy();
    for (const s of this.sinks) await s.close();
    await this.producer?.disconnect();
    this.deps.log.info('aggregator stopped');
  }
}
