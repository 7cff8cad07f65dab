// The read side of the PostgreSQL/TimescaleDB bar table (postgres-sink.ts writes it): one page of a symbol's bars, and
// the series (symbol, interval) a time range holds with their bar counts (what an export reads, page by page).
// Parameters: $1 symbol, $2 interval, $3 from (inclusive), $4 to (exclusive), $5 after (exclusive), $6 limit; times
// come back as exact µs.

export const HISTORY_COLUMNS = 'open, high, low, close, volume, quote_volume, vwap, trade_count, buy_volume, revision, final, complete';

export function postgresHistorySql(table: string): string {
  return `SELECT (extract(epoch from bucket) * 1000000)::bigint AS bucket_us, ${HISTORY_COLUMNS},
      (extract(epoch from first_event_time) * 1000000)::bigint AS first_us, (extract(epoch from last_event_time) * 1000000)::bigint AS last_us
    FROM ${table} WHERE symbol = $1 AND bar_interval = $2 AND bucket >= $3 AND bucket < $4 AND bucket > $5 ORDER BY bucket LIMIT $6`;
}

/** Parameters: $1 from (inclusive), $2 to (exclusive): each (symbol, interval) with bars in the range, and how many. */
export function postgresSeriesSql(table: string): string {
  return `SELECT symbol, bar_interval, count(*) AS n FROM ${table} WHERE bucket >= $1 AND bucket < $2 GROUP BY symbol, bar_interval`;
}
