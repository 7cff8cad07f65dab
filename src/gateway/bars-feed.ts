// The gateway's Kafka consumer of the bars topic: every instance reads every bar (its own group).
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Bar } from '../aggregate/bar.js';
import { schema } from '../stream/schemas.js';
import { decode } from '../stream/serde.js';
import { ensureTopics } from '../stream/topics.js';

export class BarsFeed {
  private consumer: Consumer | undefined;
  private joined!: Promise<void>;

  constructor(
    private readonly config: Config,
    private readonly kafka: Kafka,
    private readonly log: Logger,
    private readonly onBar: (bar: Bar) => void,
  ) {}

  /** Resolves once the consumer has joined its group and will see bars produced from now on. */
  async start(): Promise<void> {
    // The gateway may start before any aggregator: create the topics rather than wait on a missing one.
    await ensureTopics(this.kafka, this.config);
    const c = this.kafka.consumer({ groupId: `${this.config.kafkaClientId}-gateway-${randomUUID()}`, maxWaitTimeInMs: 50 });
    this.consumer = c;
    this.joined = new Promise((resolve) => c.on(c.events.GROUP_JOIN, () => resolve()));
    await c.connect();
    await c.subscribe({ topic: this.config.topicBars, fromBeginning: false });
    const barSchema = schema('bar');
    await c.run({
      eachMessage: async ({ message, partition }) => {
        let bar: Bar;
        try {
          bar = decode<Bar>(barSchema, message.value);
        } catch (err) {
          // A foreign record on our topic: skip it loudly, never stop the feed.
          this.log.error({ err, partition, offset: message.offset }, 'undecodable record on the bars topic');
          return;
        }
        this.onBar(bar);
      },
    });
    await this.joined;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
