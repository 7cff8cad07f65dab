// Replay: ticks from a past range (Kafka or a file) through the same aggregation in pure event time, one
// partition after another, in fixed-size chunks, so the same ticks always give the same bars, byte for byte.
import type { Config } from '../config.js';
import type { Tick } from '../ingest/tick.js';
import { CsvTickParser, type CsvLineBlock } from '../ingest/csv-tick-reader.js';
import { TickDecoder } from '../stream/tick-decoder.js';
import type { Bar } from './bar.js';
import { toBar } from './ohlcv.js';
import { PartitionAggregator } from './partition-aggregator.js';
import { TickFolder, type PackedBatch } from './pre-aggregate.js';

/** One record of the source: a raw wire-format value (Kafka) or an already parsed tick (file). */
export interface ReplayRecord {
  offset: number;
  value?: Buffer | null;
  tick?: Tick;
  /** A record that could not be parsed at all (file sources). */
  error?: string;
}

export interface ReplayPartition {
  partition: number;
  /**
   * The partition's records in offset order, in batches of any size (a Kafka fetch, a run of file lines):
   * replay re-cuts them into chunks of REPLAY_CHUNK, so the batching never changes the output. Batches,
   * not single records, because an async iteration step per record would cost more than aggregating it.
   */
  batches: AsyncIterable<ReplayBatch>;
}

/** `count` bare Avro tick bodies back to back (an Avro container file's block), offsets from `firstOffset`. */
export interface BodyBlock {
  bodies: Buffer;
  count: number;
  firstOffset: number;
}

/**
 * Parsed records (tests, tools), raw wire-format values (Kafka: where they lie in a fetch response), a
 * container file's block (Avro files) or a CSV file's lines: the last three without an object per record.
 */
export type ReplayBatch = ReplayRecord[] | PackedBatch | BodyBlock | CsvLineBlock;

export interface ReplayStats {
  records: number;
  accepted: number;
  rejected: Record<string, number>;
  bars: number;
}

export const REPLAY_CHUNK = 4096;

/**
 * Aggregate every partition's records in offset order; `onBars` receives each chunk's published bar versions
 * (final bars, then revisions) in a deterministic order. Rejects are counted, not dead-lettered: the live run
 * already did that for these records.
 */
export async function replay(
  config: Config,
  partitions: AsyncIterable<ReplayPartition>,
  onBars: (bars: Bar[]) => void | Promise<void>,
  onProgress?: (records: number) => void,
): Promise<ReplayStats> {
  const decoder = new TickDecoder(undefined, true);
  const parser = new CsvTickParser(true);
  const stats: ReplayStats = { records: 0, accepted: 0, rejected: {}, bars: 0 };
  const offsets = new Float64Array(REPLAY_CHUNK);
  for await (const part of partitions) {
    const agg = PartitionAggregator.fromConfig(config);
    // The chunk being folded: records go straight into the folder (made with the watermark the previous
    // chunk left), so a chunk is never held as records.
    let folder: TickFolder | undefined;
    let n = 0;
    const flush = async () => {
      if (!folder) return;
      const out = folder.result();
      agg.apply(out, offsets.subarray(0, n), offsets[n - 1]!);
      stats.records += n;
      stats.accepted += out.accepted;
      for (const r of out.rejects) stats.rejected[r.code] = (stats.rejected[r.code] ?? 0) + 1;
      const bars = agg.closeFinal().map((a) => toBar(a, true));
      stats.bars += bars.length;
      folder = undefined;
      n = 0;
      if (bars.length) await onBars(bars);
      onProgress?.(stats.records);
    };
    for await (const batch of part.batches) {
      const records = Array.isArray(batch) ? batch : undefined;
      const packed = !records && 'lengths' in batch ? batch : undefined;
      const lines = !records && 'lineNos' in batch ? batch : undefined;
      const block = !records && !packed && !lines ? (batch as BodyBlock) : undefined;
      const buf = packed && Buffer.from(packed.data.buffer, packed.data.byteOffset, packed.data.byteLength);
      const count = packed ? packed.lengths.length : records ? records.length : lines ? lines.count : block!.count;
      let pos = 0;
      /** In a block, the record that did not decode: the ones after it cannot be found. */
      let broken = -1;
      for (let i = 0; i < count; i++) {
        folder ??= new TickFolder({
          interval: agg.baseInterval,
          watermark: agg.watermark,
          maxOutOfOrder: config.maxOutOfOrderMs * 1000,
          allowedLateness: config.allowedLatenessMs * 1000,
          maxAhead: config.maxFutureMs * 1000,
          origin: config.bucketOrigin,
        });
        if (lines) {
          const lineNo = lines.lineNos[i]!;
          offsets[n] = lineNo;
          folder.addLine(parser, lines.text, lines.starts[i]!, lines.ends[i]!, n, lineNo);
        } else if (block) {
          const offset = block.firstOffset + i;
          offsets[n] = offset;
          if (broken >= 0) folder.reject(n, 'TE_DECODE', `follows record ${broken} of its container block, which does not decode`);
          else {
            pos = folder.addBody(decoder, block.bodies, pos, block.bodies.length, n, offset);
            if (pos < 0) broken = offset;
          }
        } else if (packed) {
          const len = packed.lengths[i]!;
          const offset = packed.offsets[i]!;
          offsets[n] = offset;
          if (len < 0) folder.addRecord(decoder, null, 0, 0, n, offset);
          else {
            if (packed.starts) pos = packed.starts[i]!;
            folder.addRecord(decoder, buf!, pos, pos + len, n, offset);
            pos += len;
          }
        } else {
          const r = records![i]!;
          offsets[n] = r.offset;
          if (r.error !== undefined) folder.reject(n, 'TE_DECODE', r.error);
          else if (r.tick) folder.add(r.tick, n, r.offset);
          else folder.addRecord(decoder, r.value ?? null, 0, r.value ? r.value.length : 0, n, r.offset);
        }
        if (++n === REPLAY_CHUNK) await flush();
      }
    }
    await flush();
  }
  return stats;
}
