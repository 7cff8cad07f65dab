// The tick archive: every valid tick of the ticks topic in a QuestDB WAL table, deduplicated on the tick's identity
// (event time, venue, symbol, trade id), so writing a batch again after a crash stores each tick once. Written over
// ILP/HTTP by the archive command (src/runtime/tick-archiver.ts); read in pages by REST /api/v1/trades (trade-history.ts).
import { Sender } from '@questdb/nodejs-client';
import { SinkError } from '../../errors.js';
import type { Tick } from '../../contracts/tick.js';
import type { Logger } from '../../log.js';
import type { MigrationResult } from '../migrations.js';
import { questdbTableExists, setQuestDbTtl } from './questdb-exec.js';
import { migrateQuestDb } from './questdb-migrations.js';

export interface TickArchiveOptions {
  httpUrl: string;
  table: string;
  /** An HTTP request (DDL or an ILP write) taking longer fails; the caller retries. */
  timeoutMs?: number;
  log: Logger;
}

export class TickArchive {
  readonly name = 'questdb';
  private sender: Sender | undefined;

  constructor(private readonly opts: TickArchiveOptions) {
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(opts.table)) throw new SinkError('questdb', `tick archive table name '${opts.table}' must match [a-z_][a-z0-9_]*`);
  }

  private get timeoutMs(): number {
    return this.opts.timeoutMs ?? 10_000;
  }

  /** The table's pending schema steps (questdb-migrations.ts, layout 'archive'), applied and recorded. */
  migrate(opts: { dryRun?: boolean } = {}): Promise<MigrationResult> {
    const { httpUrl, table, log } = this.opts;
    return migrateQuestDb({ httpUrl, table, layout: 'archive', dryRun: opts.dryRun ?? false, timeoutMs: this.timeoutMs, log });
  }

  /** Whether the archive table exists (the archive command, or a restore, made it). */
  exists(): Promise<boolean> {
    return questdbTableExists(this.opts.httpUrl, this.opts.table, this.timeoutMs);
  }

  /** QuestDB's partition-wise retention of the archive: a TTL of `days` whole days, 0 = none (every tick kept). */
  setTtl(days: number): Promise<string> {
    return setQuestDbTtl(this.opts.httpUrl, this.opts.table, days, this.timeoutMs);
  }

  async init(): Promise<void> {
    try {
      await this.migrate();
      const u = new URL(this.opts.httpUrl);
      this.sender ??= await Sender.fromConfig(
        `http::addr=${u.hostname}:${u.port || 9000};auto_flush=off;protocol_version=2;retry_timeout=${this.timeoutMs};request_timeout=${this.timeoutMs}`,
      );
    } catch (err) {
      throw new SinkError(this.name, `cannot prepare the tick archive table ${this.opts.table}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Every tick in one ILP request, committed by QuestDB as one transaction before it answers. */
  async write(ticks: readonly Tick[]): Promise<void> {
    if (ticks.length === 0) return;
    if (!this.sender) await this.init();
    const s = this.sender!;
    try {
      s.reset();
      for (const t of ticks) {
        s.table(this.opts.table).symbol('venue', t.venue).symbol('symbol', t.symbol).symbol('side', t.side);
        if (t.venueSymbol) s.symbol('venue_symbol', t.venueSymbol);
        await s
          .stringColumn('trade_id', t.tradeId)
          .floatColumn('price', t.price)
          .floatColumn('size', t.size)
          .timestampColumn('ingest_time', BigInt(t.ingestTime), 'us')
          .at(BigInt(t.eventTime), 'us');
      }
      await s.flush();
    } catch (err) {
      throw new SinkError(this.name, `ILP write of ${ticks.length} archived ticks failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.sender?.close();
  }
}
