// File backfill: a file's trades into the ticks topic exactly once, whatever kills the process and however often.
//
// How: one Kafka transaction per batch of records carries the batch's ticks, its dead letters AND a progress
// marker (the file's identity and the position after the batch) on a compacted topic. Either all three become
// visible to read_committed consumers or none does. A run starts by fencing its transactional id — derived from the
// file's identity, so a rerun of the same command has the same one — which makes the broker abort whatever
// transaction an earlier run left open; then it reads the file's last committed marker (read_committed) and resumes
// just after it. Records of a killed run's last transaction were aborted, so they are published again, once.
// Consumers of the ticks topic must read read_committed (the aggregator's kafkajs consumer does: kafkajs's default,
// proven in tests/runtime/backfill.int.test.ts; replay's own fetches ask for it explicitly).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { backoffMs, sleep, withTimeout } from '../backoff.js';
import type { Config } from '../config.js';
import { ERROR_CODES, FencedError, KafkaReadError, TickEngineError } from '../errors.js';
import type { Logger } from '../log.js';
import { ticksProduced } from '../metrics.js';
import { tickProblem } from '../contracts/validate.js';
import { sendDeadLetters, type DeadLetter } from '../stream/dlq.js';
import { markerMessage, readLatestMarker, START, type FilePosition, type ProgressMarker } from '../stream/ingest-progress.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { sendChunked } from '../stream/send.js';
import { ensureProgressTopic, ensureTopics } from '../stream/topics.js';
import type { FileBatch, TickFile } from '../ingest/files/tick-file.js';

/** Sessions in a row that fail without committing anything before the run gives up (backoff up to 5 s between). */
const MAX_FAILED_SESSIONS = 10;
const MAX_BACKOFF_MS = 5000;

/** A file's identity for one target: the record key of its markers, and the transactional id of its producer. */
export interface IngestIdentity {
  key: string;
  transactionalId: string;
}

/**
 * The same file (by content: SHA-256 of its bytes, as Binance's .CHECKSUM files give it) read the same way into the
 * same ticks topic is the same ingest, wherever the file lies and whatever it is called; a different venue or
 * symbol override, or another target topic, is another one.
 */
export function ingestIdentity(config: Config, file: TickFile, sha256: string): IngestIdentity {
  const key = createHash('sha256')
    .update(JSON.stringify([config.topicTicks, file.format, file.venue ?? '', file.symbol ?? '', sha256]))
    .digest('hex');
  return { key, transactionalId: `${config.kafkaClientId}-ingest-${key.slice(0, 32)}` };
}

export interface BackfillOptions {
  file: TickFile;
  /** SHA-256 of the file's bytes (fileSha256). */
  sha256: string;
  log: Logger;
  /** After each committed transaction: where the file stands, and the totals so far. */
  onCommit?: (position: FilePosition, totals: { produced: number; rejected: number }) => void;
  /** Stops after the transaction in flight (what it covers is committed; a rerun resumes there). */
  signal?: AbortSignal;
}

export interface BackfillSummary {
  /** Where the run started: the committed position it found (START for a new file). */
  resumedFrom: FilePosition;
  position: FilePosition;
  /** Totals for the whole file so far, this run and earlier ones. */
  produced: number;
  rejected: number;
  /** Transactions this run committed. */
  transactions: number;
  /** The whole file is in the topic (now, or already before this run). */
  done: boolean;
  alreadyDone: boolean;
}

/** The kafkajs error types a fenced producer sees: a newer producer with its transactional id has started. */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);

function fencedCause(err: unknown): unknown {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined; e; e = (e.cause ?? e.originalError) as typeof e) {
    if (e.type && FENCED_TYPES.has(e.type)) return e;
  }
  return undefined;
}

/** Worth another session: a broker or network failure. Our own errors (the file, the configuration, a fence) are final. */
function retriable(err: unknown): boolean {
  return !(err instanceof TickEngineError) || err instanceof KafkaReadError;
}

export class Backfill {
  private readonly identity: IngestIdentity;
  private readonly tickSchema = schema('tick');
  /** The position the last committed transaction reached (across sessions). */
  private committed: FilePosition | undefined;
  /** Where the first session found the file. */
  private resumedFrom: FilePosition | undefined;
  /** Transactions committed by this run, over all its sessions. */
  private transactions = 0;

  constructor(
    private readonly config: Config,
    private readonly kafka: Kafka,
    private readonly opts: BackfillOptions,
  ) {
    this.identity = ingestIdentity(config, opts.file, opts.sha256);
  }

  /** Publishes the rest of the file; a broker outage is waited out (up to MAX_FAILED_SESSIONS sessions without progress). */
  async run(): Promise<BackfillSummary> {
    let failures = 0;
    for (;;) {
      const before = this.committed;
      try {
        const summary = await this.session();
        return { ...summary, resumedFrom: this.resumedFrom ?? summary.resumedFrom };
      } catch (err) {
        if (!retriable(err)) throw err;
        failures = this.committed !== before ? 1 : failures + 1;
        if (failures >= MAX_FAILED_SESSIONS) throw err;
        const wait = backoffMs(failures - 1, MAX_BACKOFF_MS);
        this.opts.log.warn({ err, failures, retryInMs: wait }, 'backfill failed; it resumes from its last committed transaction');
        await sleep(wait);
      }
    }
  }

  /** One producer's life: fence, find the committed position, publish from there. */
  private async session(): Promise<BackfillSummary> {
    const { config, opts } = this;
    const { file, log } = opts;
    // Inside the retried part: a topic just created may briefly be unknown to the broker that answers metadata.
    await ensureTopics(this.kafka, config);
    await ensureProgressTopic(this.kafka, config);
    const producer = this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: this.identity.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: config.backfillTxnTimeoutMs,
      // A transaction's first send is refused (CONCURRENT_TRANSACTIONS) until the broker has written the previous
      // commit's markers, a few ms; the client's 200 ms first retry cost up to that much per transaction.
      retry: { initialRetryTime: 20 },
    });
    await producer.connect();
    try {
      await this.fence(producer);
      // An open transaction of another file's run is decided within its timeout: wait for it that long, and more.
      const marker = await readLatestMarker(
        this.kafka,
        `${config.kafkaClientId}-ingest`,
        config.topicIngestProgress,
        this.identity.key,
        config.backfillTxnTimeoutMs + 10_000,
      );
      const from = marker?.position ?? START;
      this.resumedFrom ??= from;
      let produced = marker?.produced ?? 0;
      let rejected = marker?.rejected ?? 0;
      const base = { resumedFrom: from };
      if (marker?.done) {
        log.info({ file: file.path, produced, rejected, records: from.records }, 'the file was published completely before: nothing to do');
        return { ...base, transactions: this.transactions, position: from, produced, rejected, done: true, alreadyDone: true };
      }
      log.info(
        {
          file: file.path,
          format: file.format,
          venue: file.venue,
          symbol: file.symbol,
          sha256: opts.sha256,
          transactionalId: this.identity.transactionalId,
          from,
        },
        from.records === 0 ? 'backfill starts' : `backfill resumes after record ${from.records}`,
      );
      let position = from;
      for await (const batch of file.batches(from, config.backfillBatch)) {
        const { messages, letters } = this.messages(batch);
        produced += messages.length;
        rejected += letters.length;
        await this.transaction(producer, messages, letters, this.marker(batch.end, produced, rejected, false));
        this.transactions++;
        position = batch.end;
        this.committed = position;
        ticksProduced.inc(messages.length);
        log.debug({ position, produced, rejected }, 'transaction committed');
        opts.onCommit?.(position, { produced, rejected });
        if (opts.signal?.aborted) {
          log.info({ position, produced, rejected }, 'backfill stopped; a rerun resumes here');
          return { ...base, transactions: this.transactions, position, produced, rejected, done: false, alreadyDone: false };
        }
      }
      // The end of the file, in a transaction of its own: a rerun then does nothing.
      await this.transaction(producer, [], [], this.marker(position, produced, rejected, true));
      this.transactions++;
      log.info({ file: file.path, records: position.records, produced, rejected, transactions: this.transactions }, 'backfill complete');
      return { ...base, transactions: this.transactions, position, produced, rejected, done: true, alreadyDone: false };
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  }

  /**
   * Claims the transactional id. kafkajs's connect() initialises only an idempotent producer id; the transactional
   * one — whose InitProducerId bumps the epoch, fencing any older producer with this id and making the broker abort
   * its open transaction (kafkajs retries while the abort completes) — is initialised by the first transaction().
   * Begun and ended here with nothing in it (kafkajs sends no EndTxn for an empty transaction).
   */
  private async fence(producer: Producer): Promise<void> {
    try {
      const txn = await producer.transaction();
      await txn.abort();
    } catch (err) {
      throw this.fenced(err) ?? err;
    }
  }

  private fenced(err: unknown): FencedError | undefined {
    const cause = fencedCause(err);
    return cause
      ? new FencedError(`another run took over the ingest of ${this.opts.file.path} (transactional id ${this.identity.transactionalId})`, { cause })
      : undefined;
  }

  private marker(position: FilePosition, produced: number, rejected: number, done: boolean): ProgressMarker {
    const { config, opts } = this;
    return {
      v: 1,
      key: this.identity.key,
      file: basename(opts.file.path),
      sha256: opts.sha256,
      format: opts.file.format,
      topic: config.topicTicks,
      position,
      produced,
      rejected,
      done,
      at: new Date().toISOString(),
    };
  }

  /** A batch's valid ticks as records, the rest as dead letters. Ticks without an ingest time get the wall clock's. */
  private messages(batch: FileBatch): { messages: Message[]; letters: DeadLetter[] } {
    const { config, opts } = this;
    const name = basename(opts.file.path);
    const now = Date.now() * 1000;
    const messages: Message[] = [];
    const letters: DeadLetter[] = [];
    for (const r of batch.records) {
      const t = r.tick;
      if (t && t.ingestTime === 0) t.ingestTime = now;
      const problem = t ? tickProblem(t, config.maxFutureMs * 1000) : null;
      if (t && problem === null) {
        messages.push({ key: t.symbol, value: encode(this.tickSchema, t) });
        continue;
      }
      const reason = r.error ?? `${r.where}: ${problem!}`;
      letters.push({
        key: t?.symbol ?? opts.file.symbol ?? null,
        value: r.raw ?? (t ? Buffer.from(JSON.stringify(t)) : null),
        code: r.error !== undefined ? ERROR_CODES.decode : ERROR_CODES.invalidTick,
        reason: reason.startsWith(r.where) ? reason : `${r.where}: ${reason}`,
        source: { producer: `ingest --file ${name} ${r.where}` },
      });
    }
    return { messages, letters };
  }

  /** Ticks, dead letters and the marker in one transaction: all of them visible once it commits, none before. */
  private async transaction(producer: Producer, messages: Message[], letters: DeadLetter[], marker: ProgressMarker): Promise<void> {
    const { config } = this;
    const txn = await producer.transaction();
    try {
      await sendChunked(txn, config.topicTicks, messages);
      await sendDeadLetters(txn, config.topicDlq, letters);
      await txn.send({ topic: config.topicIngestProgress, acks: -1, messages: [markerMessage(marker)] });
      await txn.commit();
    } catch (err) {
      // Best effort: the next session's fence aborts it anyway (and the broker does, after the transaction timeout).
      if (txn.isActive()) await withTimeout(txn.abort(), 5000, () => new Error('abort timed out')).catch(() => undefined);
      throw this.fenced(err) ?? err;
    }
  }
}
