// The gateway's Kafka consumer: final bars, in-progress bars, signals and (optionally) ticks as trades.
// Every instance reads everything with a consumer group of its own, so instances are interchangeable.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import type { Bar } from '../../contracts/bar.js';
import type { Signal } from '../../contracts/signal.js';
import type { Tick } from '../../contracts/tick.js';
import { schema, type SchemaName } from '../../stream/schemas.js';
import { decode } from '../../stream/serde.js';
import { resolveWireIds } from '../../stream/schema-registry.js';
import { superviseConsumer } from '../../stream/consumer-supervisor.js';
import { PartitionPositions } from '../../stream/partition-positions.js';
import { retriedLookup } from '../../stream/retried-lookup.js';
import { ensureTopics } from '../../stream/topics.js';
import { publishedAt } from '../../stream/published-header.js';
import { stageSeconds } from '../../metrics.js';

export interface FeedHandlers {
  /** `raw` is the record value (wire format), forwarded as is to Avro clients; `ts` its Kafka timestamp (ms). */
  bar(bar: Bar, raw: Buffer, ts: number): void;
  update(bar: Bar, raw: Buffer, ts: number): void;
  signal(signal: Signal, raw: Buffer, ts: number): void;
  trade(tick: Tick, raw: Buffer, ts: number): void;
  /** After each Kafka batch: the moment to flush what the handlers queued. */
  batchEnd(): void;
}

export class GatewayFeed {
  private consumer: Consumer | undefined;
  private stopping = false;
  /** Where each partition resumes when the consumer joins its group again (stream/partition-positions.ts). */
  private readonly positions = new PartitionPositions();
  private joinedOnce = false;

  constructor(
    private readonly config: Config,
    private readonly kafka: Kafka,
    private readonly log: Logger,
    /** The consumer stopped for good (kafkajs does not restart it): without it the gateway serves nothing new. */
    private readonly onFatal: ((err: Error) => void) | undefined,
    private readonly on: FeedHandlers,
  ) {}

  /** Resolves once the consumer has joined its group and will see records produced from now on. */
  async start(): Promise<void> {
    const { config } = this;
    // The gateway may start before any aggregator: create the topics rather than wait on a missing one.
    await ensureTopics(this.kafka, config);
    const c = this.kafka.consumer({ groupId: `${config.kafkaClientId}-gateway-${randomUUID()}`, maxWaitTimeInMs: 20 });
    this.consumer = c;
    const joined = new Promise<void>((resolve) => c.on(c.events.GROUP_JOIN, () => resolve()));
    // Every (re)join resumes each partition where this feed stopped (or, not read yet, where it started), not from the
    // group's committed offsets: a partition whose first bars come during a broker outage has none, and would
    // otherwise start from its end after the outage, so those bars would never reach the clients.
    c.on(c.events.GROUP_JOIN, (e) => {
      const n = this.positions.resume(c, e.payload.memberAssignment);
      if (this.joinedOnce) this.log.info({ partitions: n }, 'gateway consumer rejoined: each partition resumes after the last record it handled');
      this.joinedOnce = true;
    });
    await c.connect();
    type Route = { schema: SchemaName; handle: (v: never, raw: Buffer, ts: number) => void; stages?: [string, string] };
    const routes = new Map<string, Route>([
      [config.topicBars, { schema: 'bar', handle: this.on.bar, stages: ['bar_to_gateway', 'bar_tick_to_gateway'] }],
      [config.topicBarsLive, { schema: 'bar', handle: this.on.update, stages: ['update_to_gateway', 'update_tick_to_gateway'] }],
      [config.topicSignals, { schema: 'signal', handle: this.on.signal }],
    ]);
    if (config.gatewayTrades) routes.set(config.topicTicks, { schema: 'tick', handle: this.on.trade });
    // Live: each partition starts at its end now (its last stable offset: records of transactions still open come too).
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const topic of routes.keys())
        this.positions.startAt(
          topic,
          // Retried: a topic just created (by this gateway or an aggregator) has no leaders for a moment.
          (await retriedLookup(() => admin.fetchTopicOffsets(topic))).map((o) => ({ partition: o.partition, offset: o.high })),
        );
    } finally {
      await admin.disconnect();
    }
    await c.subscribe({ topics: [...routes.keys()], fromBeginning: false });
    // At debug level, one line per batch of final bars read (which offsets of which partition): what a client was sent.
    const traceFinal = this.log.isLevelEnabled('debug');
    const run = () =>
      c.run({
        // No commits: where each partition resumes is this feed's own (the positions), so a commit round trip after
        // every batch would only delay the next fetch.
        autoCommit: false,
        // A bar's partition does not wait behind another partition's (or the trades topic's) batch; the handlers are
        // synchronous, and one partition holds all of a symbol's records, so each series keeps its order.
        partitionsConsumedConcurrently: 4,
        eachBatch: async ({ batch }) => {
          const route = routes.get(batch.topic)!;
          const s = schema(route.schema);
          await resolveWireIds(batch.messages.map((m) => m.value));
          for (const message of batch.messages) {
            let value: never;
            try {
              value = decode<never>(s, message.value);
            } catch (err) {
              // A foreign or malformed record: skip it loudly, never stop the feed (the aggregator dead-letters
              // bad ticks; the gateway only reads).
              this.log.warn({ err, topic: batch.topic, partition: batch.partition, offset: message.offset }, 'undecodable record skipped');
              continue;
            }
            const ts = Number(message.timestamp);
            // Timed: the records that carry their publish time — every final bar, one in-progress update in 64 (the
            // aggregator samples them). A clock read and two observations for every update cost the hot path too much.
            const stages = route.stages;
            const pub = stages && publishedAt(message.headers);
            if (stages && pub !== undefined) {
              const now = Date.now();
              stageSeconds.observe({ stage: stages[0] }, Math.max(0, now - pub) / 1000);
              stageSeconds.observe({ stage: stages[1] }, Math.max(0, now - ts) / 1000);
            }
            route.handle(value, message.value!, ts);
          }
          this.positions.handled(batch.topic, batch.partition, batch.lastOffset());
          if (traceFinal && route.schema === 'bar' && batch.topic === config.topicBars)
            this.log.debug(
              { partition: batch.partition, first: batch.firstOffset(), last: batch.lastOffset(), records: batch.messages.length },
              'final bars read',
            );
          this.on.batchEnd();
        },
      });
    // After a broker outage the consumer rejoins the same group and each partition resumes after the last record it
    // handled (the GROUP_JOIN handler above), so the final bars produced meanwhile still reach the clients, in order.
    superviseConsumer(c, {
      name: 'gateway',
      log: this.log,
      run,
      maxDelayMs: config.retryMaxMs,
      stopping: () => this.stopping,
      onFatal: this.onFatal,
    });
    await run();
    await joined;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect();
  }
}
