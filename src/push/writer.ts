// The push endpoint's one way into Kafka: a batch's new trades (and the ticks its quotes make) to the ticks topic,
// its new quotes to the quotes topic, its rejected records to the dead-letter topic — all acknowledged by every
// in-sync replica (acks=-1) before the batch's answer — through one idempotent producer.
//
// Batches are written one at a time, so a record is checked against the identities written before it only once
// those writes have settled: a retry that arrives while the first attempt is still being written waits behind it,
// then finds its records written and skips them. Identities are remembered per acknowledged send, so a batch that
// failed halfway (ticks acknowledged, quotes not) skips what was acknowledged when it is sent again. A send that
// failed may still have been written (its acknowledgement lost): the writer is then in doubt, and before the next
// batch it reads the topics back from when the failed write began (recall.ts) — the records found there count as
// written, so the client's retry does not write them twice. Until that read succeeds, nothing else is written.
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Config } from '../config.js';
import type { Quote } from '../contracts/quote.js';
import { QUOTE_TICK_HEADER, QuoteTickRules, quoteTick, type QuoteSide } from '../contracts/quote-ticks.js';
import type { Tick } from '../contracts/tick.js';
import { OverloadedError } from '../errors.js';
import type { Logger } from '../log.js';
import { pushIdentities, pushRecords, ticksProduced } from '../metrics.js';
import { Serial } from '../serial.js';
import { sendDeadLetters, type DeadLetter } from '../stream/dlq.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { sendChunked } from '../stream/send.js';
import { ensureTopics } from '../stream/topics.js';
import { IdentityWindow, quoteIdentity, tradeIdentity } from './identity-window.js';
import { recallIdentities } from './recall.js';

/** Batches waiting to be written, at most; past it a batch is refused (503) rather than held (bodies are in memory). */
export const MAX_QUEUED_BATCHES = 64;
/** A failed write is read back from this long before it began (record timestamps are this process's clock, or the broker's). */
const DOUBT_MARGIN_MS = 10_000;

export interface WriteRequest {
  trades: Tick[];
  quotes: Quote[];
  letters: DeadLetter[];
}

export interface WriteCounts {
  trades: { written: number; duplicates: number };
  quotes: { written: number; duplicates: number };
  /** Ticks made from quotes (TE_PUSH_QUOTE_TICKS) and written. */
  quoteTicks: number;
}

/** What the ingest path needs of a writer (tests substitute their own). */
export interface BatchWriter {
  write(req: WriteRequest): Promise<WriteCounts>;
}

export class PushWriter implements BatchWriter {
  readonly window: IdentityWindow;
  private readonly serial = new Serial();
  private readonly rules: QuoteTickRules;
  private readonly tickSchema = schema('tick');
  private readonly quoteSchema = schema('quote');
  private queued = 0;
  /** When the earliest write that failed since the last read-back began (ms): the writer is in doubt. */
  private doubtSince: number | undefined;

  private constructor(
    private readonly config: Config,
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly venueAllowed: (venue: string) => boolean,
    private readonly log: Logger,
  ) {
    this.window = new IdentityWindow(config.pushDedupeWindowMs, config.pushDedupeMaxIds);
    this.rules = QuoteTickRules.parse(config.pushQuoteTicks);
  }

  /** Creates the topics if missing and connects the producer; `venueAllowed`: the venues any key may push (read-backs). */
  static async open(config: Config, kafka: Kafka, venueAllowed: (venue: string) => boolean, log: Logger): Promise<PushWriter> {
    await ensureTopics(kafka, config);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new PushWriter(config, kafka, producer, venueAllowed, log);
  }

  /** Reads back the identities written since `since` (start-up: the whole window). */
  recall(since?: number): Promise<unknown> {
    return recallIdentities(this.kafka, this.config, this.window, this.venueAllowed, this.log, since);
  }

  /** Writes what is new of a batch, after the batches before it; resolves once the broker acknowledged all of it. */
  write(req: WriteRequest): Promise<WriteCounts> {
    if (this.queued >= MAX_QUEUED_BATCHES) throw new OverloadedError(`${MAX_QUEUED_BATCHES} batches are waiting to be written already: send again shortly`);
    this.queued++;
    return this.serial.run(() => this.writeNow(req)).finally(() => this.queued--);
  }

  /** Waits for every batch taken so far, then disconnects. */
  async close(): Promise<void> {
    await this.serial.run(async () => undefined);
    await this.producer.disconnect();
  }

  private async writeNow(req: WriteRequest): Promise<WriteCounts> {
    const began = Date.now();
    if (this.doubtSince !== undefined) {
      await this.recall(this.doubtSince - DOUBT_MARGIN_MS);
      this.log.info('writes resumed after reading back what the failed write had written');
      this.doubtSince = undefined;
    }
    try {
      return await this.send(req);
    } catch (err) {
      this.doubtSince ??= began;
      throw err;
    }
  }

  private async send(req: WriteRequest): Promise<WriteCounts> {
    const now = Date.now();
    const inBatch = new Set<string>();
    const isNew = (id: string) => {
      if (inBatch.has(id) || this.window.has(id, now)) return false;
      inBatch.add(id);
      return true;
    };
    const trades = req.trades.filter((t) => isNew(tradeIdentity(t)));
    const quotes = req.quotes.filter((q) => isNew(quoteIdentity(q)));
    const quoteTicks: { tick: Tick; side: QuoteSide }[] = [];
    for (const q of quotes) {
      const side = this.rules.sideOf(q.symbol);
      if (!side) continue;
      const tick = quoteTick(q, side);
      if (isNew(tradeIdentity(tick))) quoteTicks.push({ tick, side });
    }

    const tickMessages: Message[] = [
      ...trades.map((t) => ({ key: t.symbol, value: encode(this.tickSchema, t) })),
      ...quoteTicks.map(({ tick, side }) => ({ key: tick.symbol, value: encode(this.tickSchema, tick), headers: { [QUOTE_TICK_HEADER]: `quote-${side}` } })),
    ];
    if (tickMessages.length) {
      await sendChunked(this.producer, this.config.topicTicks, tickMessages);
      const at = Date.now();
      for (const t of trades) this.window.add(tradeIdentity(t), at);
      for (const { tick } of quoteTicks) this.window.add(tradeIdentity(tick), at);
      ticksProduced.inc(tickMessages.length);
      pushRecords.inc({ kind: 'trade', outcome: 'written' }, trades.length);
      pushRecords.inc({ kind: 'quote_tick', outcome: 'written' }, quoteTicks.length);
    }
    if (quotes.length) {
      await sendChunked(
        this.producer,
        this.config.topicQuotes,
        quotes.map((q) => ({ key: q.symbol, value: encode(this.quoteSchema, q) })),
      );
      const at = Date.now();
      for (const q of quotes) this.window.add(quoteIdentity(q), at);
      pushRecords.inc({ kind: 'quote', outcome: 'written' }, quotes.length);
    }
    await sendDeadLetters(this.producer, this.config.topicDlq, req.letters);
    const counts: WriteCounts = {
      trades: { written: trades.length, duplicates: req.trades.length - trades.length },
      quotes: { written: quotes.length, duplicates: req.quotes.length - quotes.length },
      quoteTicks: quoteTicks.length,
    };
    pushRecords.inc({ kind: 'trade', outcome: 'duplicate' }, counts.trades.duplicates);
    pushRecords.inc({ kind: 'quote', outcome: 'duplicate' }, counts.quotes.duplicates);
    pushIdentities.set(this.window.size);
    this.log.debug({ ...counts, letters: req.letters.length }, 'push batch written');
    return counts;
  }
}
