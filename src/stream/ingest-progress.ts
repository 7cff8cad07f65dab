// File backfill's progress markers on a compacted topic: one JSON record per committed transaction, keyed by the
// file's identity, written inside the transaction that publishes the records it covers — so the marker and the
// ticks become visible together or not at all — and read back read_committed when a run starts.
import type { Kafka, Message } from 'kafkajs';
import { DecodeError } from '../errors.js';
import { fetchPartition, partitionLeaders } from './fetch/index.js';

/** Where a file's reading stands: after its `records`-th record (good or bad), which ends line `line` at byte `byte`. */
export interface FilePosition {
  /** Records consumed (ticks and rejected rows alike). */
  records: number;
  /** Text files: the line number of the last record consumed (1-based; 0 before the first). Avro files: 0. */
  line: number;
  /** Text files: the byte offset (in the uncompressed text) just after that line. Avro files: 0. */
  byte: number;
}

export const START: FilePosition = Object.freeze({ records: 0, line: 0, byte: 0 });

/** The progress of one file into one ticks topic, as committed. */
export interface ProgressMarker {
  v: 1;
  /** The file's identity (IngestIdentity.key): the record key. */
  key: string;
  /** For people reading the topic: the file's name and SHA-256, its format, venue/symbol overrides, the target topic. */
  file: string;
  sha256: string;
  format: string;
  topic: string;
  position: FilePosition;
  /** Ticks published and rows dead-lettered, in total, up to `position`. */
  produced: number;
  rejected: number;
  /** The whole file is published: a rerun does nothing. */
  done: boolean;
  /** When the transaction that carries it was built (ISO-8601). */
  at: string;
}

/** The marker's record: always on partition 0, the one partition readLatestMarker reads (whatever the topic has). */
export function markerMessage(m: ProgressMarker): Message {
  return { key: m.key, value: JSON.stringify(m), partition: 0 };
}

function parseMarker(value: Buffer): ProgressMarker | undefined {
  let m: unknown;
  try {
    m = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined; // not ours: someone else's record on the topic
  }
  const p = m as Partial<ProgressMarker> | null;
  if (!p || p.v !== 1 || typeof p.key !== 'string' || !p.position || typeof p.done !== 'boolean') return undefined;
  const { records, line, byte } = p.position;
  if (![records, line, byte].every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new DecodeError(`progress marker of ${p.key} has a malformed position ${JSON.stringify(p.position)}`);
  return p as ProgressMarker;
}

/**
 * The latest committed marker of `key` on `topic` (one partition), or undefined when the file was never started.
 * Reads read_committed up to the end of the partition as it is now: markers of aborted transactions (a run killed
 * mid-way) are skipped, and a transaction still open (another file's run) is waited for, up to `waitMs`, rather
 * than stopped at — a marker committed after it must not be missed. Call it only after this file's own producer
 * has been fenced (its previous run's open transaction aborted), or it would wait for that one in vain.
 */
export async function readLatestMarker(kafka: Kafka, clientId: string, topic: string, key: string, waitMs: number): Promise<ProgressMarker | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  let low: number;
  let leaders: Awaited<ReturnType<typeof partitionLeaders>>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const p0 = offsets.find((o) => o.partition === 0);
    if (!p0) throw new DecodeError(`progress topic ${topic} has no partition 0`);
    low = Number(p0.low);
    leaders = await partitionLeaders(admin, topic);
  } finally {
    await admin.disconnect();
  }
  const needle = Buffer.from(`"key":${JSON.stringify(key)}`);
  let latest: ProgressMarker | undefined;
  // Up to the high watermark the first fetch finds (not fetchTopicOffsets' high: that is the last stable offset).
  for await (const run of fetchPartition(leaders(0), clientId, topic, 0, low, Number.MAX_SAFE_INTEGER, { waitForOpenTransactionsMs: waitMs })) {
    for (let i = 0; i < run.lengths.length; i++) {
      const len = run.lengths[i]!;
      if (len < 0) continue; // a tombstone
      const value = run.data.subarray(run.starts[i]!, run.starts[i]! + len);
      if (value.indexOf(needle) < 0) continue; // another file's marker: not parsed
      const m = parseMarker(value);
      if (m?.key === key) latest = m;
    }
  }
  return latest;
}
