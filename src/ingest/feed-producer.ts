// Runs the simulated feed: paces the feed clock against wall time, validates, encodes Avro, produces
// to the ticks topic keyed by symbol. Invalid ticks go to the dead-letter topic, never to `ticks`.
import { ERROR_CODES } from '../errors.js';
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ticksProduced } from '../metrics.js';
import { sendDeadLetters, type DeadLetter } from '../stream/dlq.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { sendPatiently } from '../stream/send.js';
import { ensureTopics } from '../stream/topics.js';
import { FeedSimulator } from './simulator.js';
import type { Tick } from '../contracts/tick.js';
import { tickProblem } from '../contracts/validate.js';

export interface FeedRunOptions {
  /** Called with each batch just before it is produced (benchmarks timestamp here). */
  onBatch?: (ticks: Tick[]) => void;
  signal?: AbortSignal;
}

export interface FeedSummary {
  produced: number;
  rejected: number;
  firstEventTime: number;
  lastClock: number;
}

const MAX_BATCH = 5000;

export class FeedProducer {
  private producer: Producer | undefined;

  constructor(
    private readonly config: Config,
    private readonly kafka: Kafka,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await ensureTopics(this.kafka, this.config);
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
  }

  /** Produce until the configured event-time duration is covered or the signal aborts. */
  async run(opts: FeedRunOptions = {}): Promise<FeedSummary> {
    const c = this.config;
    const start = c.simStart === 'now' ? Date.now() * 1000 : c.simStart;
    const sim = new FeedSimulator({
      symbols: c.simSymbols,
      rate: c.simRate,
      seed: c.simSeed,
      start,
      jitter: c.simJitterMs * 1000,
      venue: c.simVenue,
    });
    const end = c.simDurationS > 0 ? start + c.simDurationS * 1e6 : Infinity;
    const tickSchema = schema('tick');
    const wallStart = performance.now();
    let produced = 0;
    let rejected = 0;
    let lastReport = wallStart;
    let lastReported = 0;
    let inFlight = Promise.resolve();
    this.log.info(
      {
        symbols: c.simSymbols,
        rate: c.simRate,
        seed: c.simSeed,
        start: new Date(start / 1000).toISOString(),
        speed: c.simSpeed,
        durationS: c.simDurationS || 'until stopped',
      },
      'feed started',
    );
    while (sim.now < end && !opts.signal?.aborted) {
      // How far the feed clock may run now: wall time elapsed × speed (speed 0: one full batch).
      const target = c.simSpeed > 0 ? Math.min(end, start + (performance.now() - wallStart) * 1000 * c.simSpeed) : end;
      const batch: Tick[] = [];
      const ingestTime = Date.now() * 1000;
      while (sim.now < target && batch.length < MAX_BATCH) {
        const t = sim.next();
        // The run covers feed-clock time [start, end): the tick that crosses the end is not sent.
        if (sim.now >= end) break;
        t.ingestTime = ingestTime;
        batch.push(t);
      }
      if (batch.length === 0) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const messages: Message[] = [];
      const letters: DeadLetter[] = [];
      for (const t of batch) {
        const problem = tickProblem(t, c.maxFutureMs * 1000);
        if (problem)
          letters.push({
            key: t.symbol,
            value: Buffer.from(JSON.stringify(t)),
            code: ERROR_CODES.invalidTick,
            reason: problem,
            source: { producer: 'simulator' },
          });
        else messages.push({ key: t.symbol, value: encode(tickSchema, t) });
      }
      // This batch was made while the previous one was on its way; one send in flight at a time keeps the
      // idempotent producer's order.
      await inFlight;
      opts.onBatch?.(batch);
      inFlight = this.send(messages, letters, opts.signal).then(() => {
        produced += messages.length;
        rejected += letters.length;
        ticksProduced.inc(messages.length);
      });
      inFlight.catch(() => undefined); // its failure is thrown where it is awaited: before the next send, or at the end
      const now = performance.now();
      if (now - lastReport >= 5000) {
        this.log.info(
          { produced, rate: Math.round(((produced - lastReported) * 1000) / (now - lastReport)), eventTime: new Date(sim.now / 1000).toISOString() },
          'feed progress',
        );
        lastReport = now;
        lastReported = produced;
      }
    }
    await inFlight;
    this.log.info({ produced, rejected }, 'feed finished');
    return { produced, rejected, firstEventTime: start, lastClock: sim.now };
  }

  /** One batch: its ticks, then its dead letters. A broker outage pauses the feed; it never drops a tick. */
  private async send(messages: Message[], letters: DeadLetter[], signal: AbortSignal | undefined): Promise<void> {
    await sendPatiently(this.producer!, this.config.topicTicks, messages, {
      signal,
      maxDelayMs: 1000,
      onDown: (err) => this.log.warn({ err }, 'broker unavailable: the feed waits and retries'),
      onUp: () => this.log.info('broker available again: the feed resumes'),
    });
    await sendDeadLetters(this.producer!, this.config.topicDlq, letters);
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect();
  }
}
