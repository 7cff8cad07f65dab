// What the aggregator folds, from either read path: a batch's values packed for a worker (transferred, not copied),
// their offsets, and a way back to a record's key and value for the rare one that is dead-lettered.
import type { KafkaMessage } from 'kafkajs';
import { detachValues, packBatch, type PackedBatch } from '../stream/packed-batch.js';
import type { ValueRun } from '../stream/fetch/index.js';

export interface FoldInput {
  packed: PackedBatch;
  /** The packed batch's buffers, transferred to the worker. */
  transfer: ArrayBuffer[];
  /** Offsets of the values (not transferred: read after the worker answered). */
  offsets: ArrayLike<number>;
  /** The key, value and offset of value `i` (only for the rare record dead-lettered). */
  record(i: number): { key: Buffer | null; value: Buffer | null; offset: string };
  /** Kafka timestamp (ms) of the last record. */
  lastTs: number;
  highWatermark: number;
}

/** kafkajs read path: a batch's messages (packed into one buffer for the worker). */
export function messagesInput(msgs: KafkaMessage[], highWatermark: number): FoldInput {
  const offsets = msgs.map((m) => Number(m.offset));
  const packed = packBatch(
    msgs.map((m) => m.value),
    offsets,
  );
  return {
    packed,
    transfer: [packed.data.buffer as ArrayBuffer, packed.lengths.buffer as ArrayBuffer, packed.offsets.buffer as ArrayBuffer],
    offsets,
    record: (i) => ({ key: msgs[i]!.key, value: msgs[i]!.value, offset: msgs[i]!.offset }),
    lastTs: Number(msgs[msgs.length - 1]!.timestamp),
    highWatermark,
  };
}

const bytesAt = (b: Buffer, start: number, length: number): Buffer | null => (length < 0 ? null : Buffer.from(b.subarray(start, start + length)));

/** Own fetch path: a fetched run of values, copied out of the response once (not per record) for the worker. */
export function runInput(run: ValueRun, highWatermark: number): FoldInput {
  const packed = detachValues(run);
  const n = run.offsets.length;
  return {
    packed,
    transfer: [
      packed.data.buffer as ArrayBuffer,
      packed.lengths.buffer as ArrayBuffer,
      packed.offsets.buffer as ArrayBuffer,
      packed.starts.buffer as ArrayBuffer,
    ],
    offsets: run.offsets,
    record: (i) => ({
      key: bytesAt(run.data, run.keyStarts[i]!, run.keyLengths[i]!),
      value: bytesAt(run.data, run.starts[i]!, run.lengths[i]!),
      offset: String(run.offsets[i]),
    }),
    lastTs: run.timestamps[n - 1]!,
    highWatermark,
  };
}

/** A run's values from index `k` on. */
export function runFrom(run: ValueRun, k: number): ValueRun {
  if (k === 0) return run;
  return {
    data: run.data,
    starts: run.starts.subarray(k),
    lengths: run.lengths.subarray(k),
    offsets: run.offsets.subarray(k),
    keyStarts: run.keyStarts.subarray(k),
    keyLengths: run.keyLengths.subarray(k),
    timestamps: run.timestamps.subarray(k),
  };
}
