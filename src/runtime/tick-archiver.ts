// The archive command's consumer: reads the ticks topic in a consumer group of its own (read_committed) and writes
// every valid tick to the tick archive (stores/questdb/tick-archive.ts), committing a batch's offsets only after
// QuestDB has acknowledged its write. A crash or rebalance re-reads from the last commit and writes those ticks again;
// the table's dedup keys keep each once, so the archive holds every tick exactly once across crashes.
// Records that do not decode or validate are left out (the aggregator dead-letters them) and counted.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../config.js';
import type { Tick } from '../contracts/tick.js';
import { tickProblem } from '../contracts/validate.js';
import type { Logger } from '../log.js';
import { archiveSkipped, ticksArchived } from '../metrics.js';
import { backoffMs, sleep } from '../backoff.js';
import { TickArchive } from '../stores/questdb/tick-archive.js';
import { superviseConsumer } from '../stream/consumer-supervisor.js';
import { schema } from '../stream/schemas.js';
import { decode } from '../stream/serde.js';
import { topicSubjects } from '../stream/schema-ids.js';
import { prepareSchemaRegistry, resolveWireIds } from '../stream/schema-registry.js';
import { ensureTopics } from '../stream/topics.js';
import { DependencyHealth } from './dependency-health.js';

export interface TickArchiverDeps {
  kafka: Kafka;
  log: Logger;
  /** Consuming stopped for good (a non-retriable error): the process should shut down. */
  onFatal?: (err: Error) => void;
}

/** The ticks of a batch's messages that decode and validate; the others counted by reason. */
export function archivableTicks(messages: readonly KafkaMessage[]): Tick[] {
  const s = schema('tick');
  const out: Tick[] = [];
  for (const m of messages) {
    let t: Tick;
    try {
      t = decode<Tick>(s, m.value);
    } catch {
      archiveSkipped.inc({ reason: 'undecodable' });
      continue;
    }
    if (tickProblem(t) !== null) {
      archiveSkipped.inc({ reason: 'invalid' });
      continue;
    }
    out.push(t);
  }
  return out;
}

export class TickArchiver {
  readonly health: DependencyHealth;
  private readonly consumer: Consumer;
  private readonly archive: TickArchive;
  private stopping = false;
  private started = false;

  constructor(
    private readonly config: Config,
    private readonly deps: TickArchiverDeps,
  ) {
    this.health = new DependencyHealth(deps.log, []);
    this.archive = new TickArchive({ httpUrl: config.questdbHttp, table: config.ticksTable, log: deps.log });
    this.consumer = deps.kafka.consumer({
      groupId: config.archiveGroupId,
      maxWaitTimeInMs: 200,
      maxBytesPerPartition: 2 * 1024 * 1024,
      sessionTimeout: config.aggSessionTimeoutMs,
      rebalanceTimeout: Math.max(10_000, 2 * config.aggSessionTimeoutMs),
    });
    superviseConsumer(this.consumer, {
      name: 'archive',
      log: deps.log,
      run: () => this.run(),
      maxDelayMs: config.retryMaxMs,
      stopping: () => this.stopping,
      onFatal: deps.onFatal,
    });
  }

  get ready(): boolean {
    return this.started && !this.stopping && this.health.ready;
  }

  readiness(): { ready: boolean; waitingFor: ReturnType<DependencyHealth['problems']> } {
    return { ready: this.ready, waitingFor: this.health.problems() };
  }

  async start(): Promise<void> {
    await ensureTopics(this.deps.kafka, this.config);
    // A QuestDB that is down at start-up is waited for, as during a run.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.archive.init();
        this.health.up('questdb');
        break;
      } catch (err) {
        if (this.stopping) throw err;
        this.health.down('questdb', err);
        await sleep(backoffMs(attempt, this.config.retryMaxMs));
      }
    }
    // With a schema registry: its ids of the tick schema's versions; /ready names it meanwhile.
    if (this.config.schemaRegistryUrl)
      await prepareSchemaRegistry(this.config, {
        log: this.deps.log,
        role: 'reader',
        subjects: topicSubjects(this.config).filter((x) => x.topic === this.config.topicTicks),
        retryMaxMs: this.config.retryMaxMs,
        onDown: (err) => this.health.down('schema-registry', err),
        onUp: () => this.health.up('schema-registry'),
      });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.config.topicTicks, fromBeginning: true });
    await this.run();
    this.started = true;
    this.deps.log.info({ topic: this.config.topicTicks, group: this.config.archiveGroupId, table: this.config.ticksTable }, 'tick archive started');
  }

  private run(): Promise<void> {
    return this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.onBatch(p) });
  }

  /** Write the batch's ticks (retried while QuestDB is away and the batch is still ours), then commit past it. */
  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    await resolveWireIds(batch.messages.map((m) => m.value));
    const ticks = archivableTicks(batch.messages);
    for (let attempt = 0; ; attempt++) {
      if (!isRunning() || isStale()) return;
      try {
        await this.archive.write(ticks);
        this.health.up('questdb');
        break;
      } catch (err) {
        this.health.down('questdb', err);
        await sleep(backoffMs(attempt, this.config.retryMaxMs));
        await heartbeat();
      }
    }
    ticksArchived.inc(ticks.length);
    const next = String(Number(batch.lastOffset()) + 1);
    resolveOffset(batch.lastOffset());
    try {
      await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    } catch (err) {
      // Not lost work: whoever reads the partition next writes these ticks again from the last commit, and they dedup.
      this.deps.log.warn({ err, partition: batch.partition, offset: next }, 'tick archive commit failed; the batch will be written again');
    }
    await heartbeat();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
    await this.archive.close();
    this.deps.log.info('tick archive stopped');
  }
}
