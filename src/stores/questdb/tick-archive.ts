// The tick archive: every valid tick of the ticks topic in a QuestDB WAL table, deduplicated on the tick's identity
// (event time, venue, symbol, trade id), so writing a batch again after a crash stores each tick once. Written over
// ILP/HTTP by the archive command (src/runtime/tick-archiver.ts); read in pages by REST /api/v1/trades (trade-history.ts).
import { Sender } from '@questdb/nodejs-client';
import { SinkError } from '../../errors.js';
import type { Tick } from '../../contracts/tick.js';
import { questdbExec } from './questdb-sink.js';

export interface TickArchiveOptions {
  httpUrl: string;
  table: string;
  /** An HTTP request (DDL or an ILP write) taking longer fails; the caller retries. */
  timeoutMs?: number;
}

/** The archive table's layout: the tick contract's fields, the sequence left out (it describes the feed, not the trade). */
export function tickArchiveDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (venue SYMBOL, symbol SYMBOL, trade_id VARCHAR, ts TIMESTAMP, price DOUBLE, size DOUBLE,
    side SYMBOL, ingest_time TIMESTAMP, venue_symbol SYMBOL) TIMESTAMP(ts) PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, venue, symbol, trade_id)`;
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

  async init(): Promise<void> {
    try {
      await questdbExec(this.opts.httpUrl, tickArchiveDdl(this.opts.table), this.timeoutMs);
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
