// The read side of the QuestDB bar table (questdb-sink.ts writes it), over QuestDB's PostgreSQL wire: the same page
// as postgres-history.ts, in QuestDB's SQL (timestamps cast to long µs; `complete` is a symbol, 'true' or 'false', or
// null: QuestDB has no null boolean), and the series a time range holds.
import { HISTORY_COLUMNS } from '../postgres/postgres-history.js';

export function questdbHistorySql(table: string): string {
  return `SELECT cast(bucket AS long) AS bucket_us, ${HISTORY_COLUMNS}, cast(first_event_time AS long) AS first_us, cast(last_event_time AS long) AS last_us
    FROM ${table} WHERE symbol = $1 AND bar_interval = $2 AND bucket >= $3 AND bucket < $4 AND bucket > $5 ORDER BY bucket LIMIT $6`;
}

/** The series of a time range with their bar counts, as postgresSeriesSql. */
export function questdbSeriesSql(table: string): string {
  return `SELECT symbol, bar_interval, count() AS n FROM ${table} WHERE bucket >= $1 AND bucket < $2 GROUP BY symbol, bar_interval`;
}
