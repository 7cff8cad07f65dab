// Bars into PostgreSQL: a hypertable when the timescaledb extension is there, native daily partitions otherwise; the
// layout comes from the migrations (postgres-migrations.ts), applied at start-up.
import pg from 'pg';
import { SchemaError, SinkError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { microsToDay } from '../../time.js';
import type { Bar } from '../../contracts/bar.js';
import type { Signal } from '../../contracts/signal.js';
import type { MaintainPolicy, MaintainReport } from '../maintenance.js';
import type { MigrationResult } from '../migrations.js';
import type { BarSink } from '../sink.js';
import { maintainPostgres, partitionDdl, setChunkInterval } from './postgres-maintenance.js';
import { migratePostgres, type PgMode } from './postgres-migrations.js';
import { boolArray, numberArray, textArray } from './array-literal.js';

export interface PostgresSinkOptions {
  name: string;
  url: string;
  table: string;
  log: Logger;
  /** Close the connection after it has been idle this long; 0 = after every write. */
  idleCloseMs: number;
  /**
   * TE_STORE_TIMEOUT_MS: past it the store is reported down (the aggregator's readiness), but the request goes on;
   * a connection attempt or statement is abandoned (the connection dropped and the write retried on a new one) only
   * after ABANDON_FACTOR times this. A hung server is retried, not waited on for ever; a slow one still gets its
   * answers in: abandoning at the same moment it is reported slow turned a store answering in 4 s into one that
   * never answered (every query killed at 3 s and started again — the soak of 2026-12-02 with TE_STORE_TIMEOUT_MS=3000).
   */
  timeoutMs?: number;
  /** Plain PostgreSQL: daily partitions created ahead of today at start-up (TE_PARTITIONS_AHEAD). */
  partitionsAhead?: number;
  /** TimescaleDB: the time range of new chunks, µs (TE_TSDB_CHUNK_INTERVAL); unset: as created (1 day). */
  chunkIntervalUs?: number;
}

const UNLIMITED_DECOMPRESSION = 'SET timescaledb.max_tuples_decompressed_per_dml_transaction = 0';

/** How many times TE_STORE_TIMEOUT_MS a PostgreSQL request may take before it is abandoned. */
export const ABANDON_FACTOR = 3;

/** SQL turning an int8 of µs since the epoch into a timestamptz, exactly (interval arithmetic is in whole µs). */
const microsToTimestamptz = (expr: string): string => `(timestamptz 'epoch' + ${expr} * interval '1 microsecond')`;

const UPSERT = (t: string) => `INSERT INTO ${t} (symbol, bar_interval, bucket, open, high, low, close, volume, quote_volume, vwap,
    trade_count, buy_volume, first_event_time, last_event_time, revision, final, complete)
  SELECT s, i, ${microsToTimestamptz('b')}, o, h, l, c, v, qv, vw, n, bv, ${microsToTimestamptz('f')}, ${microsToTimestamptz('la')}, r, fi, co
  FROM unnest($1::text[], $2::text[], $3::int8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
    $8::float8[], $9::float8[], $10::float8[], $11::bigint[], $12::float8[], $13::int8[], $14::int8[], $15::int[], $16::bool[], $17::bool[])
    AS x(s, i, b, o, h, l, c, v, qv, vw, n, bv, f, la, r, fi, co)
  ON CONFLICT (symbol, bar_interval, bucket) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume,
    quote_volume = EXCLUDED.quote_volume, vwap = EXCLUDED.vwap, trade_count = EXCLUDED.trade_count, buy_volume = EXCLUDED.buy_volume,
    first_event_time = EXCLUDED.first_event_time, last_event_time = EXCLUDED.last_event_time,
    revision = EXCLUDED.revision, final = EXCLUDED.final, complete = EXCLUDED.complete, updated_at = now()
  WHERE ${t}.revision <= EXCLUDED.revision`;

const UPSERT_SIGNALS = (t: string) => `INSERT INTO ${t} (symbol, bar_interval, bar_time, name, direction, vals)
  SELECT s, i, ${microsToTimestamptz('b')}, n, d, ARRAY(SELECT jsonb_array_elements_text(v)::float8)
  FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::jsonb[]) AS x(s, i, b, n, d, v)
  ON CONFLICT (symbol, bar_interval, bar_time, name) DO UPDATE SET direction = EXCLUDED.direction, vals = EXCLUDED.vals`;

/** The signals table that goes with a bars table. */
export const signalsTable = (barsTable: string): string => `${barsTable}_signals`;

export class PostgresSink implements BarSink {
  readonly name: string;
  /** One connection at most, re-established after a failure (a store restart) on the next write. */
  private readonly pool: pg.Pool;
  private readonly table: string;
  private readonly log: Logger;
  /** 'hypertable' with TimescaleDB, 'partitioned' on plain PostgreSQL. */
  mode: PgMode | undefined;
  private readonly partitions = new Set<string>();
  private readonly partitionsAhead: number;
  private readonly chunkIntervalUs: number | undefined;
  /** Connections that carry the session settings (UNLIMITED_DECOMPRESSION). */
  private readonly configured = new WeakSet<pg.PoolClient>();

  constructor(opts: PostgresSinkOptions) {
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(opts.table)) throw new SinkError(opts.name, `table name '${opts.table}' must match [a-z_][a-z0-9_]*`);
    this.name = opts.name;
    this.table = opts.table;
    this.log = opts.log;
    this.partitionsAhead = opts.partitionsAhead ?? 0;
    this.chunkIntervalUs = opts.chunkIntervalUs;
    // idleTimeoutMillis 0 would mean "never": the shortest real timeout closes right after each write.
    // A query that fails or times out releases its client with the error, which destroys the connection: the next
    // write opens a fresh one rather than queueing behind an answer that may never come.
    const abandonMs = ABANDON_FACTOR * (opts.timeoutMs ?? 10_000);
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: 1,
      idleTimeoutMillis: Math.max(1, opts.idleCloseMs),
      connectionTimeoutMillis: abandonMs,
      query_timeout: abandonMs,
      statement_timeout: abandonMs,
    });
    // An idle connection that drops is evicted and reported; the next write opens a new one.
    this.pool.on('error', (err) => this.log.warn({ err, sink: this.name }, 'idle connection dropped'));
  }

  /**
   * One statement on the pool's connection. TimescaleDB refuses a write that decompresses more than 100,000 rows of
   * compressed chunks (its default guard): a late revision's upsert into a compressed chunk decompresses the batch (up
   * to 1,000 rows) of each bar it touches, so a few hundred late bars exceed it, and retention deletes whole intervals
   * from compressed chunks. Those must land: the sink's sessions have no limit (set once per connection, in the
   * session: the local endpoint ignores startup options).
   */
  /** Public for the maintenance functions (PgQueryable). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await this.pool.connect();
    // A checked-out client has no pool listener: a connection that drops (the server stopped) would emit an unhandled
    // 'error' and end the process. The statement in flight fails with it anyway; the store is retried as down.
    const onError = (err: Error) => this.log.warn({ err, sink: this.name }, 'connection dropped during a statement');
    client.on('error', onError);
    try {
      if (this.mode === 'hypertable' && !this.configured.has(client)) {
        await client.query(UNLIMITED_DECOMPRESSION);
        this.configured.add(client);
      }
      const result = await client.query<R>(sql, params);
      client.off('error', onError);
      client.release();
      return result;
    } catch (err) {
      // As pool.query does: a connection that failed a statement is dropped, the next one is fresh.
      client.off('error', onError);
      client.release(err as Error);
      throw err;
    }
  }

  /** TimescaleDB when the extension is installed or can be; native partitions otherwise. */
  private async detectMode(): Promise<{ mode: PgMode; install: boolean }> {
    const { rows } = await this.pool.query<{ installed: string | null; available: boolean }>(
      `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS installed,
              EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available`,
    );
    const hasTimescale = rows[0]!.installed !== null || rows[0]!.available;
    return { mode: hasTimescale ? 'hypertable' : 'partitioned', install: hasTimescale && rows[0]!.installed === null };
  }

  /** Bring the tables to the latest layout (postgres-migrations.ts); a dry run lists the pending steps only. */
  async migrate(opts: { dryRun?: boolean } = {}): Promise<MigrationResult> {
    const { mode, install } = await this.detectMode();
    if (install && !opts.dryRun) await this.pool.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    const result = await migratePostgres(this.pool, { store: this.name, table: this.table, mode, dryRun: opts.dryRun ?? false, log: this.log });
    if (!opts.dryRun) this.mode = mode;
    return result;
  }

  async init(): Promise<void> {
    try {
      await this.migrate();
      if (this.mode === 'partitioned' && this.partitionsAhead > 0) {
        const today = Date.now() * 1000;
        await this.ensurePartitions(Array.from({ length: this.partitionsAhead + 1 }, (_, d) => microsToDay(today + d * 86_400_000_000)));
      }
      if (this.mode === 'hypertable' && this.chunkIntervalUs !== undefined) await setChunkInterval(this, this.table, this.chunkIntervalUs);
      this.log.info({ sink: this.name, mode: this.mode, table: this.table }, 'bar table ready');
    } catch (err) {
      if (err instanceof SchemaError) throw err;
      throw new SinkError(this.name, `cannot prepare table ${this.table}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Apply the storage policies (postgres-maintenance.ts). */
  async maintain(policy: MaintainPolicy): Promise<MaintainReport> {
    if (this.mode === undefined) await this.init();
    try {
      return await maintainPostgres(
        { query: (sql, params) => this.query(sql, params) },
        { store: this.name, table: this.table, mode: this.mode!, policy, log: this.log },
      );
    } catch (err) {
      throw new SinkError(this.name, `storage policies on ${this.table} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private async ensurePartitions(days: Iterable<string>): Promise<void> {
    for (const day of days) {
      if (this.partitions.has(day)) continue;
      await this.query(partitionDdl(this.table, day).sql);
      this.partitions.add(day);
    }
  }

  async write(bars: Bar[]): Promise<void> {
    if (bars.length === 0) return;
    // Started while the store was down: prepare the table first.
    if (this.mode === undefined) await this.init();
    try {
      if (this.mode === 'partitioned') await this.ensurePartitions(new Set(bars.map((b) => microsToDay(b.bucketStart))));
      // One array literal per column (array-literal.ts), in the statement's $n order; times as µs, turned into
      // timestamptz by the statement.
      const col = <T>(f: (b: Bar) => T): T[] => bars.map(f);
      const params = [
        textArray(col((b) => b.symbol)),
        textArray(col((b) => b.interval)),
        numberArray(col((b) => b.bucketStart)),
        numberArray(col((b) => b.open)),
        numberArray(col((b) => b.high)),
        numberArray(col((b) => b.low)),
        numberArray(col((b) => b.close)),
        numberArray(col((b) => b.volume)),
        numberArray(col((b) => b.quoteVolume)),
        numberArray(col((b) => b.vwap)),
        numberArray(col((b) => b.tradeCount)),
        numberArray(col((b) => b.buyVolume)),
        numberArray(col((b) => b.firstEventTime)),
        numberArray(col((b) => b.lastEventTime)),
        numberArray(col((b) => b.revision)),
        boolArray(col((b) => b.final)),
        boolArray(col((b) => b.complete ?? null)),
      ];
      await this.query(UPSERT(this.table), params);
    } catch (err) {
      throw new SinkError(this.name, `upsert of ${bars.length} bars failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async writeSignals(signals: Signal[]): Promise<void> {
    if (signals.length === 0) return;
    if (this.mode === undefined) await this.init();
    try {
      // As the bars: one array literal per column; the values as JSON text, each element of a jsonb[].
      const col = <T>(f: (x: Signal) => T): T[] => signals.map(f);
      await this.query(UPSERT_SIGNALS(signalsTable(this.table)), [
        textArray(col((x) => x.symbol)),
        textArray(col((x) => x.interval)),
        numberArray(col((x) => x.barTime)),
        textArray(col((x) => x.name)),
        textArray(col((x) => x.direction)),
        textArray(col((x) => JSON.stringify(x.values))),
      ]);
    } catch (err) {
      throw new SinkError(this.name, `upsert of ${signals.length} signals failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
