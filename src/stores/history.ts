// Bar history for REST: one query shape over PostgreSQL/TimescaleDB or QuestDB (both speak the pg wire); each
// store's SQL lives beside its writer (postgres/, questdb/).
import pg from 'pg';
import type { Config } from '../config.js';
import { StoreUnavailableError } from '../errors.js';
import type { Bar } from '../contracts/bar.js';
import { microsToIso } from '../time.js';
import { postgresHistorySql } from './postgres/postgres-history.js';
import { questdbHistorySql } from './questdb/questdb-history.js';

export interface HistoryQuery {
  symbol: string;
  interval: string;
  /** Inclusive lower bound on bucket start, µs. */
  from: number;
  /** Exclusive upper bound on bucket start, µs. */
  to: number;
  /** Only bars strictly after this bucket start (the cursor), µs. */
  after: number | undefined;
  limit: number;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function rowToBar(r: Record<string, unknown>, symbol: string, interval: string): Bar {
  return {
    symbol,
    interval,
    bucketStart: num(r.bucket_us),
    open: num(r.open),
    high: num(r.high),
    low: num(r.low),
    close: num(r.close),
    volume: num(r.volume),
    quoteVolume: num(r.quote_volume),
    vwap: num(r.vwap),
    tradeCount: num(r.trade_count),
    buyVolume: num(r.buy_volume),
    firstEventTime: num(r.first_us),
    lastEventTime: num(r.last_us),
    revision: num(r.revision),
    final: r.final === true || r.final === 't',
    complete: completeFrom(r.complete),
  };
}

/** PostgreSQL's nullable boolean, or QuestDB's symbol 'true'/'false' (null when absent). */
function completeFrom(v: unknown): boolean | null {
  if (v === true || v === 't' || v === 'true') return true;
  if (v === false || v === 'f' || v === 'false') return false;
  return null;
}

export class BarHistory {
  private readonly pool: pg.Pool;
  private readonly sql: string;
  readonly store: string;

  constructor(config: Config) {
    this.store = config.historyStore;
    const t = config.barsTable;
    const url = { postgres: config.pgUrl, timescaledb: config.tsdbUrl, questdb: config.questdbPgUrl }[config.historyStore]!;
    this.pool = new pg.Pool({
      connectionString: url,
      max: 4,
      idleTimeoutMillis: Math.max(1, config.pgIdleCloseMs),
    });
    this.pool.on('error', () => undefined); // an idle connection dropping is reported on the next query
    this.sql = config.historyStore === 'questdb' ? questdbHistorySql(t) : postgresHistorySql(t);
  }

  /** Up to `limit` bars in ascending bucket order, and the cursor (last bucket start) when more may follow. */
  async bars(q: HistoryQuery): Promise<{ bars: Bar[]; next: number | undefined }> {
    const lower = q.after !== undefined ? Math.max(q.after, q.from - 1) : q.from - 1;
    let rows: Record<string, unknown>[];
    try {
      const res = await this.pool.query(this.sql, [q.symbol, q.interval, microsToIso(q.from), microsToIso(q.to), microsToIso(lower), q.limit]);
      rows = res.rows as Record<string, unknown>[];
    } catch (err) {
      throw new StoreUnavailableError(this.store, err);
    }
    const bars = rows.map((r) => rowToBar(r, q.symbol, q.interval));
    return { bars, next: bars.length === q.limit ? bars[bars.length - 1]!.bucketStart : undefined };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
