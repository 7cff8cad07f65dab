// Everything the aggregator sends out, in one place, built whole when the aggregator is: final bars, their signals
// and dead letters (to every store and topic, through a partition's OutputQueue, each target written by one
// writer at a time and its health reported), in-progress bars (the live topic), and state snapshots (the state
// topic). Three producers, so that no record waits behind another kind in a producer's one request in flight: an
// idempotent one for final bars, signals and dead letters (the critical path of a closing bar), an idempotent one for
// state snapshots (large, now and then), and a plain one for in-progress bars (ephemeral, every TE_LIVE_UPDATE_MS).
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Bar } from '../contracts/bar.js';
import type { SnapshotRef } from '../contracts/snapshot-ref.js';
import type { Config } from '../config.js';
import { DependencyTimeoutError } from '../errors.js';
import { barsOut, liveUpdatesOut, outputWriteSeconds, revisionsOut, stageSeconds } from '../metrics.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { publishedHeader } from '../stream/published-header.js';
import { sendChunked } from '../stream/send.js';
import { StateStore } from '../stream/state-store.js';
import type { BarSink } from '../stores/sink.js';
import { watchSlow } from '../backoff.js';
import type { DependencyHealth } from './dependency-health.js';
import { KafkaBarSink } from './kafka-bar-sink.js';
import { OutputQueue, type OutputStep, type OutputTarget } from './output-queue.js';
import { deadLetterTarget, signalsTopicTarget, storeTarget } from './output-targets.js';
import { CoalescingWriter } from './coalescing-writer.js';

/** The most rows (bars, signals, dead letters) one coalesced write of several steps takes. */
const COALESCED_ROWS = 10_000;

/** One in-progress update in this many carries the publish-time header. */
const LIVE_HEADER_EVERY = 64;

export class AggregatorOutput {
  private readonly producer: Producer;
  private readonly liveProducer: Producer;
  private readonly stateProducer: Producer;
  /** The stores plus the bars topic. */
  readonly sinks: readonly BarSink[];
  private readonly targets: readonly OutputTarget[];
  /** Per target, its writes across partitions: one at a time, the steps queued meanwhile together. */
  private readonly writers = new Map<OutputTarget, CoalescingWriter<OutputStep>>();
  private readonly states: StateStore;

  constructor(
    private readonly config: Config,
    kafka: Kafka,
    stores: readonly BarSink[],
    private readonly health: DependencyHealth,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.liveProducer = kafka.producer({ maxInFlightRequests: 1 });
    this.stateProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.sinks = [...stores, new KafkaBarSink(this.producer, config.topicBars)];
    this.targets = [
      ...this.sinks.map((s) => storeTarget(s, s.name === 'kafka' ? 'kafka' : s.name)),
      signalsTopicTarget(this.producer, config.topicSignals),
      deadLetterTarget(this.producer, config.topicDlq),
    ];
    // A coalesced write holds at most about as many rows as a busy partition's step: its time stays within what
    // TE_STORE_TIMEOUT_MS expects of one write (a step larger on its own is still written, alone).
    const rows = (s: OutputStep) => s.bars.length + s.signals.length + s.letters.length;
    for (const t of this.targets) this.writers.set(t, new CoalescingWriter((steps) => this.writeSteps(t, steps), { weight: rows, maxWeight: COALESCED_ROWS }));
    this.states = new StateStore(kafka, this.stateProducer, config.topicState, config.aggGroupId);
  }

  /** Connect the producers and prepare every store, `retry` waiting out a store that is down (start-up). */
  async open(retry: (name: string, job: () => Promise<void>) => Promise<void>): Promise<void> {
    for (const p of [this.producer, this.stateProducer, this.liveProducer]) await p.connect();
    for (const s of this.sinks) await retry(s.name, () => s.init());
  }

  /** A partition's queue of outputs not yet durable everywhere; each failed write reports its target down. */
  queue(): OutputQueue {
    return new OutputQueue(
      this.targets,
      (target, step) => this.write(target, step),
      (target, err) => this.health.down(target.name, err),
    );
  }

  /**
   * One step to one target, through the target's writer (one write at a time across partitions, the steps queued
   * meanwhile in one write); a write still running after the timeout reports the target down.
   */
  write(target: OutputTarget, step: OutputStep): Promise<void> {
    return this.writers.get(target)!.write(step);
  }

  private async writeSteps(target: OutputTarget, steps: OutputStep[]): Promise<void> {
    const ms = this.config.storeTimeoutMs;
    const barsTopic = target.name === 'kafka:bars';
    if (barsTopic) {
      const now = performance.now();
      for (const s of steps) if (s.bars.length > 0 && s.queuedAt !== undefined) stageSeconds.observe({ stage: 'out_queue' }, (now - s.queuedAt) / 1000);
    }
    const end = outputWriteSeconds.startTimer({ target: target.name });
    try {
      const written =
        steps.length > 1 && target.writeMany
          ? target.writeMany(steps)
          : (async () => {
              for (const s of steps) await target.write(s);
            })();
      await watchSlow(written, ms, () => this.health.down(target.name, new DependencyTimeoutError(target.name, ms)));
    } finally {
      end();
    }
    this.health.up(target.name);
    if (!barsTopic) return;
    const now = Date.now();
    for (const s of steps) {
      if (s.bars.length > 0) stageSeconds.observe({ stage: 'bar_published' }, Math.max(0, now - s.sourceTs) / 1000);
      for (const b of s.bars) {
        barsOut.inc({ interval: b.interval });
        if (b.revision > 0) revisionsOut.inc({ interval: b.interval });
      }
    }
  }

  /** In-progress bars (final=false) to the live topic, each record carrying the Kafka timestamp of its last tick. */
  async live(bars: { bar: Bar; sourceTs: number }[]): Promise<void> {
    if (bars.length === 0) return;
    const s = schema('bar');
    // The publish-time header on one update in LIVE_HEADER_EVERY: the gateway's update_to_gateway stage is a sample, and
    // a header on each of the thousands of updates a round makes costs the aggregator's main thread (kafkajs encodes
    // each record's headers on its own).
    const headers = publishedHeader();
    const messages: Message[] = bars.map(({ bar, sourceTs }, i) => ({
      key: bar.symbol,
      value: encode(s, bar),
      timestamp: String(sourceTs),
      ...(i % LIVE_HEADER_EVERY === 0 ? { headers } : {}),
    }));
    await sendChunked(this.liveProducer, this.config.topicBarsLive, messages);
    liveUpdatesOut.inc(messages.length);
    // One observation per partition's last tick (every bar of a partition carries the same one).
    const now = Date.now();
    for (const ts of new Set(bars.map((b) => b.sourceTs))) stageSeconds.observe({ stage: 'update_published' }, Math.max(0, now - ts) / 1000);
  }

  saveSnapshot(partition: number, payload: Buffer): Promise<SnapshotRef> {
    return this.states.save(partition, payload);
  }

  loadSnapshot(partition: number, ref: SnapshotRef): Promise<Buffer> {
    return this.states.load(partition, ref);
  }

  dropSnapshot(partition: number, ref: SnapshotRef): Promise<void> {
    return this.states.drop(partition, ref);
  }

  async close(): Promise<void> {
    for (const s of this.sinks) await s.close();
    for (const p of [this.producer, this.stateProducer, this.liveProducer]) await p.disconnect();
  }
}
