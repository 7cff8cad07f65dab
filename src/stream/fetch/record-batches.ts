// The records of a Fetch response, read in place: Kafka record batches (magic 2) → the values' positions,
// lengths and offsets, without an object per record. Replay's Kafka input.
//
// Follows the consumer's rules (KIP-98, Java's Fetcher): control batches are skipped; with read_committed
// the batches of a producer inside an aborted transaction (listed in the response) are skipped up to its
// abort marker. Compression: none and gzip (what kafkajs reads without plugins); other codecs are an error
// naming the codec. CRCs are not checked (kafkajs does not either; the broker checked them on produce).
import { gunzipSync } from 'node:zlib';
import type { PackedBatch } from '../packed-batch.js';
import { KafkaReadError } from '../../errors.js';

/** A transaction the broker reports aborted: from `firstOffset` on, `producerId`'s batches up to its abort marker. */
export interface AbortedTxn {
  producerId: bigint;
  firstOffset: number;
}

/** Record values where they lie in a buffer (a response or a decompressed batch), in offset order. */
export interface ValueRun extends PackedBatch {
  data: Buffer;
  starts: Int32Array;
  /** Where each record's key starts in `data`, and its length (-1: null); for the rare record that is dead-lettered. */
  keyStarts: Int32Array;
  keyLengths: Int32Array;
  /** Each record's timestamp (ms): its own, or the batch's when the topic stamps log append time. */
  timestamps: Float64Array;
}

export interface BatchesRead {
  runs: ValueRun[];
  /** The offset after the last complete batch in the response (the next fetch's), or `from` if there is none. */
  next: number;
}

/** Offsets of record batch v2 header fields. */
const LENGTH = 8;
const MAGIC = 16;
const ATTRIBUTES = 21;
const LAST_OFFSET_DELTA = 23;
const FIRST_TIMESTAMP = 27;
const MAX_TIMESTAMP = 35;
const PRODUCER_ID = 43;
const RECORD_COUNT = 57;
const RECORDS = 61;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const int64 = (b: Buffer, at: number) => b.readInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4);

/** Reads the zigzag varints of records; `pos` is the read position. */
class VarReader {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  varint(): number {
    const b = this.b;
    let n = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = b[this.pos++]!;
      n |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80 && shift < 35);
    return (n >>> 1) ^ -(n & 1);
  }
  /** A zigzag varlong (timestamp deltas), exact up to 2^53. */
  varlong(): number {
    const b = this.b;
    let n = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = b[this.pos++]!;
      n += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  skipVarint(): void {
    while (this.b[this.pos++]! & 0x80);
  }
}

/** Whether the control batch at `at` (one record, key = version int16, type int16) is an abort marker. */
function isAbortMarker(b: Buffer, at: number, end: number): boolean {
  const r = new VarReader(b);
  r.pos = at + RECORDS;
  r.varint(); // record length
  r.pos++; // attributes
  r.skipVarint(); // timestamp delta
  r.skipVarint(); // offset delta
  const keyLength = r.varint();
  if (keyLength < 4 || r.pos + 4 > end) throw new KafkaReadError(`control batch at byte ${at} has no control key`);
  return b.readInt16BE(r.pos + 2) === 0;
}

/** Collects values into runs; a run ends where the buffer changes (a decompressed batch). */
class RunBuilder {
  readonly runs: ValueRun[] = [];
  private data: Buffer | undefined;
  private starts: Int32Array;
  private lengths: Int32Array;
  private offsets: Float64Array;
  private keyStarts: Int32Array;
  private keyLengths: Int32Array;
  private timestamps: Float64Array;
  private n = 0;
  private first = 0;

  constructor(capacity: number) {
    this.starts = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.offsets = new Float64Array(capacity);
    this.keyStarts = new Int32Array(capacity);
    this.keyLengths = new Int32Array(capacity);
    this.timestamps = new Float64Array(capacity);
  }

  /**
   * The records of a batch in `b` from `pos` to `end`: values with offsets in [from, to). `firstTimestamp` is the
   * batch's; `appendTime` the batch's max timestamp when the topic stamps log append time (it then applies to all).
   */
  records(
    b: Buffer,
    pos: number,
    end: number,
    count: number,
    batch: { base: number; firstTimestamp: number; appendTime: number | undefined },
    from: number,
    to: number,
    where: string,
  ): void {
    if (this.data !== b) this.cut(b);
    const r = new VarReader(b);
    r.pos = pos;
    for (let i = 0; i < count; i++) {
      const length = r.varint();
      const recordEnd = r.pos + length;
      if (length < 0 || recordEnd > end) throw new KafkaReadError(`${where}: record ${i} overruns its batch`);
      r.pos++; // attributes
      const timestampDelta = r.varlong();
      const offset = batch.base + r.varint();
      const keyLength = r.varint();
      const keyStart = r.pos;
      if (keyLength > 0) r.pos += keyLength;
      const valueLength = r.varint();
      if (valueLength > 0 && r.pos + valueLength > recordEnd) throw new KafkaReadError(`${where}: the value of record ${i} overruns it`);
      if (offset >= from && offset < to) {
        const k = this.n++;
        this.starts[k] = r.pos;
        this.lengths[k] = valueLength < 0 ? -1 : valueLength;
        this.offsets[k] = offset;
        this.keyStarts[k] = keyStart;
        this.keyLengths[k] = keyLength < 0 ? -1 : keyLength;
        this.timestamps[k] = batch.appendTime ?? batch.firstTimestamp + timestampDelta;
      }
      r.pos = recordEnd; // headers are not read
    }
  }

  finish(): ValueRun[] {
    this.cut(undefined);
    return this.runs;
  }

  private cut(next: Buffer | undefined): void {
    if (this.data && this.n > this.first) {
      const s = this.first;
      const e = this.n;
      this.runs.push({
        data: this.data,
        starts: this.starts.subarray(s, e),
        lengths: this.lengths.subarray(s, e),
        offsets: this.offsets.subarray(s, e),
        keyStarts: this.keyStarts.subarray(s, e),
        keyLengths: this.keyLengths.subarray(s, e),
        timestamps: this.timestamps.subarray(s, e),
      });
    }
    this.first = this.n;
    this.data = next;
  }
}

/**
 * The values with offsets in [from, to) of the record batches in `records` (one partition of a Fetch
 * response; it may end with a partial batch, which is left for the next fetch).
 */
export function readRecordBatches(records: Buffer, from: number, to: number, aborted: AbortedTxn[], readCommitted: boolean): BatchesRead {
  // First the batch headers: where complete batches end, and how many records they hold at most.
  let capacity = 0;
  let end = 0;
  let next = from;
  while (end + RECORDS <= records.length) {
    const size = 12 + records.readInt32BE(end + LENGTH);
    if (end + size > records.length) break;
    capacity += records.readInt32BE(end + RECORD_COUNT);
    next = int64(records, end) + records.readInt32BE(end + LAST_OFFSET_DELTA) + 1;
    end += size;
  }
  const out = new RunBuilder(capacity);
  const pendingAborts = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<bigint>();
  for (let at = 0; at < end;) {
    const size = 12 + records.readInt32BE(at + LENGTH);
    const batchEnd = at + size;
    const base = int64(records, at);
    const where = `record batch at offset ${base}`;
    const last = base + records.readInt32BE(at + LAST_OFFSET_DELTA);
    const at0 = at;
    at = batchEnd;
    if (records[at0 + MAGIC] !== 2) throw new KafkaReadError(`${where}: message format v${records[at0 + MAGIC]} is not supported (v2 only)`, { fatal: true });
    if (last < from) continue;
    if (base >= to) break;
    const attributes = records.readInt16BE(at0 + ATTRIBUTES);
    const control = (attributes & 0x20) !== 0;
    const producerId = records.readBigInt64BE(at0 + PRODUCER_ID);
    if (readCommitted && producerId >= 0n) {
      while (pendingAborts.length && pendingAborts[0]!.firstOffset <= last) abortedProducers.add(pendingAborts.shift()!.producerId);
      if (control && isAbortMarker(records, at0, batchEnd)) abortedProducers.delete(producerId);
      else if ((attributes & 0x10) !== 0 && abortedProducers.has(producerId)) continue;
    }
    if (control) continue;
    const count = records.readInt32BE(at0 + RECORD_COUNT);
    const codec = attributes & 0x07;
    const batch = {
      base,
      firstTimestamp: int64(records, at0 + FIRST_TIMESTAMP),
      appendTime: (attributes & 0x08) !== 0 ? int64(records, at0 + MAX_TIMESTAMP) : undefined,
    };
    if (codec === 0) out.records(records, at0 + RECORDS, batchEnd, count, batch, from, to, where);
    else if (codec === 1) {
      const plain = gunzipSync(records.subarray(at0 + RECORDS, batchEnd));
      out.records(plain, 0, plain.length, count, batch, from, to, where);
    } else
      throw new KafkaReadError(`${where}: ${CODECS[codec] ?? `codec ${codec}`} compression is not supported by the engine's reader (none, gzip)`, {
        fatal: true,
      });
  }
  return { runs: out.finish(), next };
}
