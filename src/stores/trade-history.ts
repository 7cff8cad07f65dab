// Pages of the tick archive (stores/questdb/tick-archive.ts) for REST /api/v1/trades, over QuestDB's PostgreSQL wire,
// in the archive's order: event time, then venue, then trade id (the dedup identity, so every page boundary is exact).
import pg from 'pg';
import type { Config } from '../config.js';
import type { Side, Tick } from '../contracts/tick.js';
import { ConfigError, StoreUnavailableError } from '../errors.js';
import { isMissingTable } from './history.js';
import { microsToIso } from '../time.js';

/** Where the previous page ended: the last trade's identity. */
export interface TradeCursor {
  eventTime: number;
  venue: string;
  tradeId: string;
}

export interface TradesQuery {
  symbol: string;
  /** Inclusive lower bound on event time, µs. */
  from: number;
  /** Exclusive upper bound on event time, µs. */
  to: number;
  /** Only trades after this one. */
  after: TradeCursor | undefined;
  limit: number;
}

/** An archived trade: the tick contract without the feed's sequence. */
export type ArchivedTrade = Omit<Tick, 'sequence'>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function toTrade(r: Record<string, unknown>, symbol: string): ArchivedTrade {
  return {
    venue: String(r.venue),
    symbol,
    eventTime: num(r.ts_us),
    price: num(r.price),
    size: num(r.size),
    side: String(r.side) as Side,
    tradeId: String(r.trade_id),
    ingestTime: num(r.ingest_us),
    venueSymbol: r.venue_symbol === null || r.venue_symbol === undefined ? null : String(r.venue_symbol),
  };
}

export function tradeHistorySql(table: string): string {
  return `SELECT venue, trade_id, cast(ts AS long) AS ts_us, price, size, side, cast(ingest_time AS long) AS ingest_us, venue_symbol
    FROM ${table} WHERE symbol = $1 AND ts >= $2 AND ts < $3
      AND (ts > $4 OR (ts = $4 AND (venue > $5 OR (venue = $5 AND trade_id > $6))))
    ORDER BY ts, venue, trade_id LIMIT $7`;
}

export class TradeHistory {
  private readonly pool: pg.Pool;
  private readonly sql: string;
  private readonly table: string;

  constructor(config: Config, opts: { queryTimeoutMs?: number } = {}) {
    this.table = config.ticksTable;
    this.pool = new pg.Pool({
      connectionString: config.questdbPgUrl,
      max: 4,
      idleTimeoutMillis: Math.max(1, config.pgIdleCloseMs),
      query_timeout: opts.queryTimeoutMs,
    });
    this.pool.on('error', () => undefined); // an idle connection dropping is reported on the next query
    this.sql = tradeHistorySql(config.ticksTable);
  }

  /** The symbols with archived trades in [from, to), by name, with their counts. A missing table names TE_TICKS_TABLE. */
  async symbols(from: number, to: number): Promise<{ symbol: string; trades: number }[]> {
    try {
      const { rows } = await this.pool.query<{ symbol: string; n: unknown }>(
        `SELECT symbol, count() AS n FROM ${this.table} WHERE ts >= $1 AND ts < $2 GROUP BY symbol ORDER BY symbol`,
        [microsToIso(from), microsToIso(to)],
      );
      return rows.map((r) => ({ symbol: r.symbol, trades: num(r.n) }));
    } catch (err) {
      if (isMissingTable(err)) throw new ConfigError('TE_TICKS_TABLE', `QuestDB has no tick archive table '${this.table}' (tick-engine archive writes it)`);
      throw new StoreUnavailableError('questdb', err);
    }
  }

  /**
   * Every archived trade over [from, to) in event-time order (then symbol, venue, trade id), `pageRows` per query:
   * what a replay from the archive reads.
   */
  async *inTimeOrder(range: { from: number; to: number; pageRows: number }): AsyncGenerator<ArchivedTrade[]> {
    const sql = `SELECT venue, symbol, trade_id, cast(ts AS long) AS ts_us, price, size, side, cast(ingest_time AS long) AS ingest_us, venue_symbol
      FROM ${this.table} WHERE ts >= $1 AND ts < $2
        AND (ts > $3 OR (ts = $3 AND (symbol > $4 OR (symbol = $4 AND (venue > $5 OR (venue = $5 AND trade_id > $6))))))
      ORDER BY ts, symbol, venue, trade_id LIMIT $7`;
    let after = { eventTime: range.from - 1, symbol: '', venue: '', tradeId: '' };
    for (;;) {
      let rows: Record<string, unknown>[];
      try {
        ({ rows } = await this.pool.query<Record<string, unknown>>(sql, [
          microsToIso(range.from),
          microsToIso(range.to),
          microsToIso(Math.max(after.eventTime, range.from - 1)),
          after.symbol,
          after.venue,
          after.tradeId,
          range.pageRows,
        ]));
      } catch (err) {
        if (isMissingTable(err)) throw new ConfigError('TE_TICKS_TABLE', `QuestDB has no tick archive table '${this.table}' (tick-engine archive writes it)`);
        throw new StoreUnavailableError('questdb', err);
      }
      const trades = rows.map((r) => toTrade(r, String(r.symbol)));
      if (trades.length) yield trades;
      if (trades.length < range.pageRows) return;
      const last = trades[trades.length - 1]!;
      after = { eventTime: last.eventTime, symbol: last.symbol, venue: last.venue, tradeId: last.tradeId };
    }
  }

  /** The trades of each symbol in turn over [from, to), `pageRows` per query, in archive order. */
  async *pages(symbols: readonly string[], range: { from: number; to: number; pageRows: number }): AsyncGenerator<ArchivedTrade[]> {
    for (const symbol of symbols) {
      let after: TradeCursor | undefined;
      do {
        const page = await this.trades({ symbol, from: range.from, to: range.to, after, limit: range.pageRows });
        if (page.trades.length) yield page.trades;
        after = page.next;
      } while (after);
    }
  }

  /** Up to `limit` trades in archive order, and the cursor when more may follow. */
  async trades(q: TradesQuery): Promise<{ trades: ArchivedTrade[]; next: TradeCursor | undefined }> {
    // Before the range: every trade of the range is "after" it.
    const after = q.after ?? { eventTime: q.from - 1, venue: '', tradeId: '' };
    let rows: Record<string, unknown>[];
    try {
      const res = await this.pool.query(this.sql, [
        q.symbol,
        microsToIso(q.from),
        microsToIso(q.to),
        microsToIso(Math.max(after.eventTime, q.from - 1)),
        after.venue,
        after.tradeId,
        q.limit,
      ]);
      rows = res.rows as Record<string, unknown>[];
    } catch (err) {
      throw new StoreUnavailableError('questdb', err);
    }
    const trades = rows.map((r) => toTrade(r, q.symbol));
    const last = trades[trades.length - 1];
    return { trades, next: trades.length === q.limit && last ? { eventTime: last.eventTime, venue: last.venue, tradeId: last.tradeId } : undefined };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
