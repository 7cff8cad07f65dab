// Bars into QuestDB: a WAL table with DEDUP UPSERT KEYS on the bar identity (its layout from questdb-migrations.ts,
// applied at start-up), written over ILP/HTTP (binary doubles).
// `complete` is a SYMBOL column, 'true' or 'false', left out of the row (null) when unknown: a QuestDB BOOLEAN cannot
// be null (a row without it reads false), and unknown must not read as incomplete.
import { Sender } from '@questdb/nodejs-client';
import { SchemaError, SinkError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Bar } from '../../contracts/bar.js';
import type { Signal } from '../../contracts/signal.js';
import type { MaintainPolicy, MaintainReport } from '../maintenance.js';
import type { MigrationResult } from '../migrations.js';
import type { BarSink } from '../sink.js';
import { maintainQuestDb } from './questdb-maintenance.js';
import { migrateQuestDb } from './questdb-migrations.js';

// Kept here for the callers that import it with the sink.
export { questdbExec } from './questdb-exec.js';

export interface QuestDbSinkOptions {
  httpUrl: string;
  table: string;
  log: Logger;
  /** An HTTP request (DDL or an ILP write) taking longer fails and is retried by the caller. */
  timeoutMs?: number;
}

export class QuestDbSink implements BarSink {
  readonly name = 'questdb';
  private sender: Sender | undefined;
  private readonly opts: QuestDbSinkOptions;

  private get timeoutMs(): number {
    return this.opts.timeoutMs ?? 10_000;
  }

  constructor(opts: QuestDbSinkOptions) {
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(opts.table)) throw new SinkError('questdb', `table name '${opts.table}' must match [a-z_][a-z0-9_]*`);
    this.opts = opts;
  }

  async init(): Promise<void> {
    const t = this.opts.table;
    try {
      await this.migrate();
      const u = new URL(this.opts.httpUrl);
      // The caller retries a failed write with backoff and reports the store down meanwhile. retry_timeout is the
      // client's bound on a request and its own retries together (0 would abort every request at once).
      this.sender ??= await Sender.fromConfig(
        `http::addr=${u.hostname}:${u.port || 9000};auto_flush=off;protocol_version=2;retry_timeout=${this.timeoutMs};request_timeout=${this.timeoutMs}`,
      );
      this.opts.log.info({ sink: this.name, table: t }, 'bar table ready');
    } catch (err) {
      if (err instanceof SchemaError) throw err;
      throw new SinkError(this.name, `cannot prepare table ${t}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Bring the tables to the latest layout (questdb-migrations.ts); a dry run lists the pending steps only. */
  migrate(opts: { dryRun?: boolean } = {}): Promise<MigrationResult> {
    return migrateQuestDb({ httpUrl: this.opts.httpUrl, table: this.opts.table, dryRun: opts.dryRun ?? false, timeoutMs: this.timeoutMs, log: this.opts.log });
  }

  /** Apply the storage policies (questdb-maintenance.ts). */
  async maintain(policy: MaintainPolicy): Promise<MaintainReport> {
    if (!this.sender) await this.init();
    try {
      return await maintainQuestDb({ httpUrl: this.opts.httpUrl, table: this.opts.table, policy, timeoutMs: this.timeoutMs, log: this.opts.log });
    } catch (err) {
      throw new SinkError(this.name, `storage policies on ${this.opts.table} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async write(bars: Bar[]): Promise<void> {
    await this.send(bars, 'bars', async (s, b) => {
      s.table(this.opts.table).symbol('symbol', b.symbol).symbol('bar_interval', b.interval);
      // Symbols before the other columns (ILP); absent when unknown.
      if (b.complete !== null && b.complete !== undefined) s.symbol('complete', b.complete ? 'true' : 'false');
      await s
        .floatColumn('open', b.open)
        .floatColumn('high', b.high)
        .floatColumn('low', b.low)
        .floatColumn('close', b.close)
        .floatColumn('volume', b.volume)
        .floatColumn('quote_volume', b.quoteVolume)
        .floatColumn('vwap', b.vwap)
        .intColumn('trade_count', b.tradeCount)
        .floatColumn('buy_volume', b.buyVolume)
        .timestampColumn('first_event_time', BigInt(b.firstEventTime), 'us')
        .timestampColumn('last_event_time', BigInt(b.lastEventTime), 'us')
        .intColumn('revision', b.revision)
        .booleanColumn('final', b.final)
        .at(BigInt(b.bucketStart), 'us');
    });
  }

  /** Signals into `<table>_signals`; values in value1..value3 (a signal has one to three, named in the docs). */
  async writeSignals(signals: Signal[]): Promise<void> {
    await this.send(signals, 'signals', async (s, x) => {
      s.table(`${this.opts.table}_signals`)
        .symbol('symbol', x.symbol)
        .symbol('bar_interval', x.interval)
        .symbol('name', x.name)
        .symbol('direction', x.direction);
      x.values.forEach((v, i) => s.floatColumn(`value${i + 1}`, v));
      await s.at(BigInt(x.barTime), 'us');
    });
  }

  /** Rows through ILP, then one flush: one HTTP request per batch, which QuestDB commits as one transaction before answering. */
  private async send<T>(rows: T[], what: string, row: (s: Sender, x: T) => Promise<void>): Promise<void> {
    if (rows.length === 0) return;
    // Started while the store was down: prepare the tables first.
    if (!this.sender) await this.init();
    const s = this.sender!;
    try {
      // A failed request leaves nothing behind for the next one, but a row half built before an error would.
      s.reset();
      for (const x of rows) await row(s, x);
      await s.flush();
    } catch (err) {
      throw new SinkError(this.name, `ILP write of ${rows.length} ${what} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.sender?.close();
  }
}
