// Reads one partition's offset range [from, to) for replay with Fetch requests of its own on a plain
// connection to the partition's leader, handing over the values where they lie in each response (no object
// per record, no copy). The next fetch is in flight while the consumer works through the current one, so
// at most two responses are held (2 × FETCH_MAX_BYTES).
import type { Admin } from 'kafkajs';
import { KafkaReadError } from '../../errors.js';
import { API_FETCH, API_VERSIONS, KafkaConnection } from './kafka-connection.js';
import { readRecordBatches, type AbortedTxn, type ValueRun } from './record-batches.js';

/** Fetch v4: the oldest version Kafka 4 still serves, the first with read_committed and aborted-transaction lists. */
export const FETCH_VERSION = 4;
/** Bytes per fetch (≈ 80,000 ticks). Larger fetches gained nothing measurable; each is held until replayed. */
export const FETCH_MAX_BYTES = 4 * 1024 * 1024;
const MAX_WAIT_MS = 100;
const READ_COMMITTED = 1;

/** The broker's error code for an offset that is no longer (retention) or not yet in the partition. */
export const OFFSET_OUT_OF_RANGE = 1;

const TOPIC_AUTHORIZATION_FAILED = 29;

const ERRORS: Record<number, string> = {
  1: 'OFFSET_OUT_OF_RANGE (the offset is no longer or not yet in the partition)',
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  6: 'NOT_LEADER_OR_FOLLOWER (the partition moved to another broker during the replay: run it again)',
  29: 'TOPIC_AUTHORIZATION_FAILED',
};

export interface Broker {
  host: string;
  port: number;
}

/** Each partition's leader (from the cluster's metadata, through kafkajs); throws for one without a listed leader. */
export async function partitionLeaders(admin: Admin, topic: string): Promise<(partition: number) => Broker> {
  const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
  const { brokers } = await admin.describeCluster();
  return (partition) => {
    const leader = meta?.partitions.find((p) => p.partitionId === partition)?.leader;
    const broker = brokers.find((b) => b.nodeId === leader);
    if (!broker) throw new KafkaReadError(`${topic}/${partition} has no leader the cluster lists (leader ${String(leader)})`);
    return { host: broker.host, port: broker.port };
  };
}

export interface PartitionData {
  highWatermark: number;
  lastStableOffset: number;
  aborted: AbortedTxn[];
  records: Buffer;
}

/** How much one Fetch may return, and how long the broker may hold it while it has nothing. */
export interface FetchLimits {
  maxBytes: number;
  maxWaitMs: number;
}

const REPLAY_LIMITS: FetchLimits = { maxBytes: FETCH_MAX_BYTES, maxWaitMs: MAX_WAIT_MS };

/** A read_committed Fetch v4 of one partition from `offset`. */
export function fetchRequest(topic: string, partition: number, offset: number, limits: FetchLimits = REPLAY_LIMITS): Buffer {
  const name = Buffer.from(topic);
  const b = Buffer.alloc(4 * 4 + 1 + 4 + 2 + name.length + 4 + 4 + 8 + 4);
  let p = b.writeInt32BE(-1, 0); // replica id: a consumer
  p = b.writeInt32BE(limits.maxWaitMs, p);
  p = b.writeInt32BE(1, p); // min bytes
  p = b.writeInt32BE(limits.maxBytes, p);
  p = b.writeInt8(READ_COMMITTED, p);
  p = b.writeInt32BE(1, p); // one topic
  p = b.writeInt16BE(name.length, p);
  p += name.copy(b, p);
  p = b.writeInt32BE(1, p); // one partition
  p = b.writeInt32BE(partition, p);
  p = b.writeBigInt64BE(BigInt(offset), p);
  b.writeInt32BE(limits.maxBytes, p);
  return b;
}

export function parseFetchResponse(b: Buffer, topic: string, partition: number): PartitionData {
  let p = 4; // throttle time
  const topics = b.readInt32BE(p);
  p += 4;
  for (let t = 0; t < topics; t++) {
    const nameLength = b.readInt16BE(p);
    p += 2 + nameLength;
    const partitions = b.readInt32BE(p);
    p += 4;
    for (let i = 0; i < partitions; i++) {
      const id = b.readInt32BE(p);
      const error = b.readInt16BE(p + 4);
      const highWatermark = Number(b.readBigInt64BE(p + 6));
      const lastStableOffset = Number(b.readBigInt64BE(p + 14));
      p += 22;
      const abortedCount = b.readInt32BE(p);
      p += 4;
      const aborted: AbortedTxn[] = [];
      for (let k = 0; k < abortedCount; k++, p += 16) aborted.push({ producerId: b.readBigInt64BE(p), firstOffset: Number(b.readBigInt64BE(p + 8)) });
      const size = b.readInt32BE(p);
      p += 4;
      const records = size > 0 ? b.subarray(p, p + size) : b.subarray(0, 0);
      p += Math.max(0, size);
      if (id !== partition) continue;
      if (error !== 0)
        throw new KafkaReadError(`fetching ${topic}/${partition}: broker error ${error} ${ERRORS[error] ?? ''}`.trimEnd(), {
          brokerError: error,
          fatal: error === TOPIC_AUTHORIZATION_FAILED,
        });
      return { highWatermark, lastStableOffset, aborted, records };
    }
  }
  throw new KafkaReadError(`fetching ${topic}/${partition}: the response does not hold the partition`);
}

export async function checkFetchVersion(conn: KafkaConnection): Promise<void> {
  const b = await conn.request(API_VERSIONS, 0, Buffer.alloc(0));
  const error = b.readInt16BE(0);
  if (error !== 0) throw new KafkaReadError(`ApiVersions to ${conn.host}:${conn.port} failed with error ${error}`);
  const n = b.readInt32BE(2);
  for (let i = 0, p = 6; i < n; i++, p += 6) {
    if (b.readInt16BE(p) !== API_FETCH) continue;
    const min = b.readInt16BE(p + 2);
    const max = b.readInt16BE(p + 4);
    if (FETCH_VERSION >= min && FETCH_VERSION <= max) return;
    throw new KafkaReadError(`broker ${conn.host}:${conn.port} serves Fetch v${min}–v${max}; replay needs v${FETCH_VERSION}`, { fatal: true });
  }
  throw new KafkaReadError(`broker ${conn.host}:${conn.port} does not list the Fetch API`);
}

export interface FetchOptions {
  /**
   * Read every committed record below the partition's high watermark as the first fetch reports it (`to` then
   * only caps the range), waiting for transactions still open there to be decided rather than stopping at the
   * last stable offset — for at most this long, then KafkaReadError. For a reader that must not miss a record
   * committed after another producer's open transaction (file backfill's progress markers). (kafkajs's
   * fetchTopicOffsets reports the last stable offset, not the high watermark, so it cannot give this `to`.)
   */
  waitForOpenTransactionsMs?: number;
}

/**
 * The values of `topic`/`partition` with offsets in [from, to), from its leader `broker`, in offset order
 * (records of aborted transactions and control records left out). Stops early at the last stable offset
 * when a transaction is still open there, unless `opts.waitForOpenTransactionsMs` says to wait for it.
 */
export async function* fetchPartition(
  broker: Broker,
  clientId: string,
  topic: string,
  partition: number,
  from: number,
  to: number,
  opts: FetchOptions = {},
): AsyncGenerator<ValueRun> {
  if (from >= to) return;
  const waitUntil = opts.waitForOpenTransactionsMs === undefined ? undefined : Date.now() + opts.waitForOpenTransactionsMs;
  const conn = new KafkaConnection(broker.host, broker.port, clientId);
  let inFlight: Promise<Buffer> | undefined;
  try {
    await checkFetchVersion(conn);
    const fetch = (offset: number) => conn.request(API_FETCH, FETCH_VERSION, fetchRequest(topic, partition, offset));
    let next = from;
    let first = true;
    inFlight = fetch(next);
    while (next < to) {
      const data = parseFetchResponse(await inFlight, topic, partition);
      if (first && waitUntil !== undefined) to = Math.min(to, data.highWatermark);
      first = false;
      const read = readRecordBatches(data.records, next, to, data.aborted, true);
      if (read.next > next) {
        next = read.next;
        if (next < to) inFlight = fetch(next); // fetched while the consumer works through this one
      } else if (data.records.length > 0) {
        throw new KafkaReadError(`fetching ${topic}/${partition} at offset ${next}: no complete record batch in ${data.records.length} bytes`);
      } else if (data.highWatermark <= next) {
        return; // nothing more
      } else if (data.lastStableOffset <= next) {
        // The records past the last stable offset belong to a transaction still open.
        if (waitUntil === undefined) return;
        if (Date.now() > waitUntil)
          throw new KafkaReadError(`fetching ${topic}/${partition}: a transaction is still open at offset ${next} after ${opts.waitForOpenTransactionsMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
        inFlight = fetch(next);
      } else inFlight = fetch(next);
      for (const run of read.runs) yield run;
    }
  } finally {
    // A consumer that stops early (its own error) leaves a fetch in flight: closing rejects it, unobserved.
    inFlight?.catch(() => undefined);
    conn.close();
  }
}
