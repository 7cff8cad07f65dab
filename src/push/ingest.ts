// One pushed batch, from its bytes to its answer: read and check every record, refuse the batch if the key may not
// write one of its venues or symbols (403, nothing written), write the valid records and dead-letter the others,
// and answer only once the broker has acknowledged all of it — 200 when every record was taken, 207 when some were
// rejected (each with its index, field and reason). With an Idempotency-Key, the same batch sent again gets the
// kept answer and nothing is written (replies.ts); without one, its records are still recognised by identity.
import { createHash } from 'node:crypto';
import { withTimeout } from '../backoff.js';
import type { Config } from '../config.js';
import { AuthError, BadRequestError, BrokerUnavailableError, ERROR_CODES, KafkaReadError, TickEngineError } from '../errors.js';
import type { Logger } from '../log.js';
import { pushReplayed, pushRecords } from '../metrics.js';
import type { DeadLetter } from '../stream/dlq.js';
import { serializeAnswer, type Answer, type AnswerError } from './answer.js';
import { readBatch, type BatchFormat } from './batch.js';
import type { BatchRecord } from './records.js';
import type { PushScope } from './keys.js';
import { ReplyCache, type StoredReply } from './replies.js';
import type { BatchWriter, WriteCounts } from './writer.js';

export interface PushOutcome extends StoredReply {
  /** The kept answer of an earlier batch with the same Idempotency-Key: nothing was written now. */
  replayed: boolean;
  /** The answer's parts, for a WebSocket result (undefined when replayed). */
  answer?: Answer;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** The kind label of a rejected record (tick_engine_push_records_total): 'record' when it was not even readable. */
const REJECTED_KIND: Partial<Record<string, string>> = { [ERROR_CODES.invalidTick]: 'trade', [ERROR_CODES.invalidQuote]: 'quote' };

export class PushIngest {
  private readonly replies: ReplyCache;

  constructor(
    private readonly config: Config,
    private readonly writer: BatchWriter,
    private readonly log: Logger,
  ) {
    this.replies = new ReplyCache(config.pushIdempotencyWindowMs, config.pushIdempotencyMaxBytes);
  }

  /** The answer to a batch. Throws TickEngineErrors for a batch refused whole (400, 403, 415, 422, 503, …). */
  async batch(scope: PushScope, format: BatchFormat, body: Buffer, idempotencyKey?: string): Promise<PushOutcome> {
    if (idempotencyKey === undefined) return { ...(await this.run(scope, format, body)), replayed: false };
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) throw new BadRequestError('Idempotency-Key must be 1 to 255 printable ASCII characters without spaces');
    const digest = createHash('sha256').update(format).update('\n').update(body).digest('hex');
    let answer: Answer | undefined;
    const r = await this.replies.run(scope.principal.id, idempotencyKey, digest, Date.now(), async () => {
      const out = await this.run(scope, format, body);
      answer = out.answer;
      return { status: out.status, body: out.body };
    });
    if (r.replayed) pushReplayed.inc();
    return { status: r.status, body: r.body, replayed: r.replayed, answer: r.replayed ? undefined : answer };
  }

  private async run(scope: PushScope, format: BatchFormat, body: Buffer): Promise<StoredReply & { answer: Answer }> {
    const records = readBatch(format, body, this.config.pushMaxRecords, {
      ingestTime: Date.now() * 1000,
      maxAheadMicros: this.config.maxFutureMs * 1000,
    });
    entitle(scope, records);
    const trades = records.flatMap((r) => r.items?.trades ?? []);
    const quotes = records.flatMap((r) => r.items?.quotes ?? []);
    const rejected = records.filter((r) => r.error);
    const letters: DeadLetter[] = rejected.map((r) => ({
      key: null,
      value: r.raw,
      code: r.error!.code,
      reason: `${r.error!.field ? `${r.error!.field}: ` : ''}${r.error!.reason}`,
      source: { producer: `push:${scope.principal.id}#${r.index}` },
    }));
    for (const r of rejected) pushRecords.inc({ kind: REJECTED_KIND[r.error!.code] ?? 'record', outcome: 'rejected' });
    const counts = await this.written({ trades, quotes, letters });
    const errors: AnswerError[] = rejected.map((r) => {
      const e: AnswerError = { index: r.index, code: r.error!.code, reason: r.error!.reason };
      if (r.line !== undefined) e.line = r.line;
      if (r.error!.field !== undefined) e.field = r.error!.field;
      return e;
    });
    const answer: Answer = {
      records: records.length,
      accepted: records.length - rejected.length,
      rejected: rejected.length,
      written: { trades: counts.trades.written, quotes: counts.quotes.written, quoteTicks: counts.quoteTicks },
      duplicates: { trades: counts.trades.duplicates, quotes: counts.quotes.duplicates },
      errors,
    };
    if (rejected.length) this.log.debug({ key: scope.principal.id, rejected: rejected.length, first: errors[0] }, 'push batch with rejected records');
    return { status: rejected.length ? 207 : 200, body: serializeAnswer(answer), answer };
  }

  /**
   * The writer's counts once the broker acknowledged the batch. A batch not acknowledged within
   * TE_PUSH_ACK_TIMEOUT_MS is answered 503 while its write goes on: if it succeeds, the client's retry finds its
   * records written and skips them; if it fails, the retry writes them.
   */
  private async written(req: Parameters<BatchWriter['write']>[0]): Promise<WriteCounts> {
    const ms = this.config.pushAckTimeoutMs;
    try {
      // The write goes on after a timeout answered: nobody waits for its outcome then (withTimeout observes it).
      return await withTimeout(
        this.writer.write(req),
        ms,
        () => new BrokerUnavailableError(`the broker has not acknowledged the batch within ${ms} ms (TE_PUSH_ACK_TIMEOUT_MS): send the same batch again`),
      );
    } catch (err) {
      if (brokerFailure(err))
        throw new BrokerUnavailableError(`the broker did not take the batch (${(err as Error).message}): send the same batch again`, { cause: err });
      throw err;
    }
  }
}

/** A failure of the broker or the way to it (kafkajs' errors, the read-back's, a socket's), not of this code. */
function brokerFailure(err: unknown): boolean {
  if (err instanceof KafkaReadError) return true;
  if (err instanceof TickEngineError || !(err instanceof Error)) return false;
  return err.name.startsWith('KafkaJS') || /^E[A-Z]+$/.test(String((err as NodeJS.ErrnoException).code ?? ''));
}

/** 403 for the whole batch when one of its records names a venue or symbol the key may not write. */
function entitle(scope: PushScope, records: BatchRecord[]): void {
  const venues = new Set<string>();
  const symbols = new Set<string>();
  for (const r of records)
    for (const x of [...(r.items?.trades ?? []), ...(r.items?.quotes ?? [])]) {
      if (!scope.venueAllowed(x.venue)) venues.add(x.venue);
      if (!scope.symbolAllowed(x.symbol)) symbols.add(x.symbol);
    }
  if (venues.size === 0 && symbols.size === 0) return;
  const list = (s: Set<string>) => [...s].slice(0, 5).join(', ') + (s.size > 5 ? ', …' : '');
  const what = [venues.size ? `venue ${list(venues)}` : '', symbols.size ? `symbol ${list(symbols)}` : ''].filter(Boolean).join(' and ');
  throw new AuthError(403, 'not_entitled', `${scope.principal.id} may not push ${what}: nothing of the batch was written`);
}
