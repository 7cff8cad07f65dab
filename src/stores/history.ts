// Bar history for REST and export: one query shape over PostgreSQL/TimescaleDB or QuestDB (both speak the pg wire);
// each store's SQL lives beside its writer (postgres/, questdb/). An export pages through it series by series, so any
// range is read holding at most two pages.
import pg from 'pg';
import type { Config } from '../config.js';
import { ConfigError, StoreUnavailableError } from '../errors.js';
import type { Bar } from '../contracts/bar.js';
import { microsToIso } from '../time.js';
import { postgresHistorySql, postgresSeriesSql } from './postgres/postgres-history.js';
import { questdbHistorySql, questdbSeriesSql } from './questdb/questdb-history.js';

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

/** The stores bars can be read from. */
export type HistoryStore = 'postgres' | 'timescaledb' | 'questdb';

/** One (symbol, interval) of a time range, and how many bars it holds there. */
export interface BarSeries {
  symbol: string;
  interval: string;
  bars: number;
}

export interface HistoryOptions {
  /** The store to read (default: TE_HISTORY_STORE, the gateway's). */
  store?: HistoryStore;
  /** A query not answered within this long fails (default: none, as the gateway's REST history). */
  queryTimeoutMs?: number;
}

/** PostgreSQL's undefined_table, or QuestDB's message for the same. */
export function isMissingTable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '42P01' || /table does not exist/i.test(e.message ?? '');
}

export class BarHistory {
  private readonly pool: pg.Pool;
  private readonly sql: string;
  private readonly seriesSql: string;
  private readonly table: string;
  readonly store: HistoryStore;

  constructor(config: Config, opts: HistoryOptions = {}) {
    const store = opts.store ?? (config.historyStore as HistoryStore);
    this.store = store;
    const t = config.barsTable;
    this.table = t;
    const url = { postgres: config.pgUrl, timescaledb: config.tsdbUrl, questdb: config.questdbPgUrl }[store];
    this.pool = new pg.Pool({
      connectionString: url,
      max: 4,
      idleTimeoutMillis: Math.max(1, config.pgIdleCloseMs),
      ...(opts.queryTimeoutMs !== undefined ? { connectionTimeoutMillis: opts.queryTimeoutMs, query_timeout: opts.queryTimeoutMs } : {}),
    });
    this.pool.on('error', () => undefined); // an idle connection dropping is reported on the next query
    this.sql = store === 'questdb' ? questdbHistorySql(t) : postgresHistorySql(t);
    this.seriesSql = store === 'questdb' ? questdbSeriesSql(t) : postgresSeriesSql(t);
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

  /**
   * Every (symbol, interval) with bars whose bucket starts in [from, to), with their counts, in no particular order.
   * A table that does not exist is a configuration error naming TE_BARS_TABLE.
   */
  async series(from: number, to: number): Promise<BarSeries[]> {
    try {
      const { rows } = await this.pool.query<{ symbol: string; bar_interval: string; n: unknown }>(this.seriesSql, [microsToIso(from), microsToIso(to)]);
      return rows.map((r) => ({ symbol: r.symbol, interval: r.bar_interval, bars: num(r.n) }));
    } catch (err) {
      if (isMissingTable(err)) throw new ConfigError('TE_BARS_TABLE', `${this.store} has no table '${this.table}'`);
      throw new StoreUnavailableError(this.store, err);
    }
  }

  /**
   * The bars of each series in turn (in the order given), bucket by bucket over [from, to), `pageRows` per query. The
   * next page of a series is asked for while the caller writes the one yielded, so the caller holds at most two
   * pages whatever the range.
   */
  async *pages(series: readonly Pick<BarSeries, 'symbol' | 'interval'>[], range: { from: number; to: number; pageRows: number }): AsyncGenerator<Bar[]> {
    for (const s of series) {
      const ask = (after: number | undefined) => {
        const page = this.bars({ symbol: s.symbol, interval: s.interval, from: range.from, to: range.to, after, limit: range.pageRows });
        // A caller that stops early leaves the page asked for ahead unread: its failure must not go unhandled.
        page.catch(() => undefined);
        return page;
      };
      let pending = ask(undefined);
      for (;;) {
        const page = await pending;
        if (page.next !== undefined) pending = ask(page.next);
        if (page.bars.length > 0) yield page.bars;
        if (page.next === undefined) break;
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
