// A venue feed's output into Kafka: ticks (Avro, keyed by symbol) to the ticks topic, rejected ones to the dead-letter
// topic, feed events to feed.events, through one idempotent producer; a broker outage is waited out, never dropped.
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Config } from '../../config.js';
import type { FeedEvent } from '../../contracts/feed-event.js';
import type { Tick } from '../../contracts/tick.js';
import type { Logger } from '../../log.js';
import { ticksProduced } from '../../metrics.js';
import { sendDeadLetters, type DeadLetter } from '../../stream/dlq.js';
import { schema } from '../../stream/schemas.js';
import { encode } from '../../stream/serde.js';
import { sendPatiently } from '../../stream/send.js';
import { ensureTopics } from '../../stream/topics.js';
import type { TickSink } from './venue-feed.js';

export class KafkaTickSink implements TickSink {
  private readonly tickSchema = schema('tick');
  private readonly eventSchema = schema('feedEvent');

  private constructor(
    private readonly config: Config,
    private readonly producer: Producer,
    private readonly log: Logger,
  ) {}

  /** Creates the topics if missing and connects the producer. */
  static async open(config: Config, kafka: Kafka, log: Logger): Promise<KafkaTickSink> {
    await ensureTopics(kafka, config);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new KafkaTickSink(config, producer, log);
  }

  async send(ticks: Tick[]): Promise<void> {
    await this.patiently(
      this.config.topicTicks,
      ticks.map((t) => ({ key: t.symbol, value: encode(this.tickSchema, t) })),
    );
    ticksProduced.inc(ticks.length);
  }

  async sendEvents(events: FeedEvent[]): Promise<void> {
    await this.patiently(
      this.config.topicFeedEvents,
      events.map((e) => ({ key: e.symbol, value: encode(this.eventSchema, e) })),
    );
  }

  sendDeadLetters(letters: DeadLetter[]): Promise<void> {
    return sendDeadLetters(this.producer, this.config.topicDlq, letters);
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }

  private patiently(topic: string, messages: Message[]): Promise<void> {
    return sendPatiently(this.producer, topic, messages, {
      maxDelayMs: 1000,
      onDown: (err) => this.log.warn({ err, topic }, 'broker unavailable: the venue feed waits and retries'),
      onUp: () => this.log.info({ topic }, 'broker available again: the venue feed resumes'),
    });
  }
}
