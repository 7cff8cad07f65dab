// Read bars back from every place the engine puts them: PostgreSQL/TimescaleDB, QuestDB, Kafka topics.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { OracleBar } from './oracle.js';

/**
 * The bars table as the engine's first version created it (git show df70c27:src/aggregate/sinks/postgres-sink.ts),
 * before bar schema version 2's `complete`: written out here, apart from the migrations' own copy, so the upgrade
 * tests start from the old layout as it was, not as the code now thinks it was.
 */
export const PREVIOUS_PG_BAR_COLUMNS = `symbol text NOT NULL, bar_interval text NOT NULL, bucket timestamptz NOT NULL,
  open double precision NOT NULL, high double precision NOT NULL, low double precision NOT NULL, close double precision NOT NULL,
  volume double precision NOT NULL, quote_volume double precision NOT NULL, vwap double precision NOT NULL,
  trade_count bigint NOT NULL, buy_volume double precision NOT NULL,
  first_event_time timestamptz NOT NULL, last_event_time timestamptz NOT NULL,
  revision integer NOT NULL, final boolean NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, bar_interval, bucket)`;

// Bigint columns (µs times, counts) arrive as strings; they are below 2^53, so Number is exact.
const toNum = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function rowToBar(r: Record<string, unknown>): OracleBar {
  return {
    symbol: String(r.symbol),
    interval: String(r.bar_interval),
    bucketStart: toNum(r.bucket_us),
    open: toNum(r.open),
    high: toNum(r.high),
    low: toNum(r.low),
    close: toNum(r.close),
    volume: toNum(r.volume),
    quoteVolume: toNum(r.quote_volume),
    vwap: toNum(r.vwap),
    tradeCount: toNum(r.trade_count),
    buyVolume: toNum(r.buy_volume),
    firstEventTime: toNum(r.first_us),
    lastEventTime: toNum(r.last_us),
    revision: toNum(r.revision),
    final: r.final === true || r.final === 't',
    // PostgreSQL's nullable boolean; QuestDB's symbol 'true'/'false' (null when absent).
    complete:
      r.complete === true || r.complete === 't' || r.complete === 'true'
        ? true
        : r.complete === false || r.complete === 'f' || r.complete === 'false'
          ? false
          : null,
  };
}

export async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Every bar in a PostgreSQL or TimescaleDB table, times as exact µs. */
export function readPgBars(url: string, table: string): Promise<OracleBar[]> {
  const us = (col: string) => `(extract(epoch from ${col}) * 1000000)::bigint`;
  return withPg(url, async (c) => {
    const { rows } = await c.query(
      `SELECT symbol, bar_interval, ${us('bucket')} AS bucket_us, open, high, low, close, volume, quote_volume, vwap, trade_count, buy_volume,
        ${us('first_event_time')} AS first_us, ${us('last_event_time')} AS last_us, revision, final, complete FROM ${table}`,
    );
    return rows.map(rowToBar);
  });
}

/** Every bar in a QuestDB table, read over its PostgreSQL wire. */
export function readQuestDbBars(pgUrl: string, table: string): Promise<OracleBar[]> {
  return withPg(pgUrl, async (c) => {
    const { rows } = await c.query(
      `SELECT symbol, bar_interval, cast(bucket AS long) AS bucket_us, open, high, low, close, volume, quote_volume, vwap, trade_count, buy_volume,
        cast(first_event_time AS long) AS first_us, cast(last_event_time AS long) AS last_us, revision, final, complete FROM ${table}`,
    );
    return rows.map(rowToBar);
  });
}

export async function questDbCount(httpUrl: string, table: string): Promise<number> {
  const res = await fetch(`${httpUrl}/exec?query=${encodeURIComponent(`select count() from ${table}`)}`);
  const body = (await res.json()) as { dataset?: [[number]]; error?: string };
  if (body.error) return -1;
  return body.dataset?.[0]?.[0] ?? 0;
}

/** Poll until `probe` returns `want` (or stops changing past the deadline); returns the last value. */
export async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface TopicRecord {
  partition: number;
  offset: number;
  message: KafkaMessage;
}

/** Every record currently in a topic (up to the high watermarks at call time), with positions. */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<TopicRecord[]> {
  const out: TopicRecord[] = [];
  await eachRecord(kafka, topic, (r) => void out.push(r), timeoutMs);
  return out;
}

/**
 * Hand every record currently in a topic to `fn`, in offset order per partition, keeping none: for topics too
 * large to hold as records (a long run's ticks). The timeout grows with the records still to read.
 */
export async function eachRecord(kafka: Kafka, topic: string, fn: (r: TopicRecord) => void, timeoutMs = 60_000): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]));
  let n = 0;
  if (remaining.size === 0) return n;
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    let timer = setTimeout(() => reject(new Error(`reading ${topic}: timed out with ${n} records`)), timeoutMs);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        // Progress resets the timeout: a big topic may take longer than it, a stuck read may not.
        clearTimeout(timer);
        timer = setTimeout(() => reject(new Error(`reading ${topic}: stuck at ${n} records`)), timeoutMs);
        const partition = batch.partition;
        for (const message of batch.messages) {
          const offset = Number(message.offset);
          const end = remaining.get(partition);
          if (end === undefined || offset >= end) continue;
          fn({ partition, offset, message });
          n++;
          if (offset === end - 1) remaining.delete(partition);
        }
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return n;
}

/** A stored signal, in the shape of the Signal contract. */
export interface StoredSignal {
  symbol: string;
  interval: string;
  barTime: number;
  name: string;
  direction: string;
  values: number[];
}

function rowToSignal(r: { symbol: string; bar_interval: string; bar_us: string; name: string; direction: string }, values: number[]): StoredSignal {
  return { symbol: r.symbol, interval: r.bar_interval, barTime: Number(r.bar_us), name: r.name, direction: r.direction, values: values.map(Number) };
}

/** Every signal in a PostgreSQL or TimescaleDB signals table. */
export function readPgSignals(url: string, table: string): Promise<StoredSignal[]> {
  return withPg(url, async (c) => {
    const { rows } = await c.query<{ symbol: string; bar_interval: string; bar_us: string; name: string; direction: string; vals: number[] }>(
      `SELECT symbol, bar_interval, (extract(epoch from bar_time) * 1000000)::bigint AS bar_us, name, direction, vals FROM ${table}`,
    );
    return rows.map((r) => rowToSignal(r, r.vals));
  });
}

/** Every signal in a QuestDB signals table (values from value1..value3, nulls dropped). */
export function readQuestDbSignals(pgUrl: string, table: string): Promise<StoredSignal[]> {
  return withPg(pgUrl, async (c) => {
    const { rows } = await c.query<{
      symbol: string;
      bar_interval: string;
      bar_us: string;
      name: string;
      direction: string;
      value1: number | null;
      value2: number | null;
      value3: number | null;
    }>(`SELECT symbol, bar_interval, cast(bar_time AS long) AS bar_us, name, direction, value1, value2, value3 FROM ${table}`);
    return rows.map((r) =>
      rowToSignal(
        r,
        [r.value1, r.value2, r.value3].filter((v): v is number => v !== null),
      ),
    );
  });
}
