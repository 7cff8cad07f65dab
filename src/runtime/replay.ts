// Replay: ticks from a past range (Kafka or a file) through the same aggregation in pure event time, one
// partition after another, in fixed-size chunks, so the same ticks always give the same bars, byte for byte.
// Sources hand over TickCursors (stream/packed-batch.ts for Kafka, ingest/files/ for Avro and CSV files): replay
// knows no wire or file format.
import type { Config } from '../config.js';
import type { Bar } from '../contracts/bar.js';
import type { TickCursor } from '../contracts/tick-cursor.js';
import { toBar } from '../aggregate/ohlcv.js';
import { PartitionAggregator } from '../aggregate/partition-aggregator.js';
import { TickFolder } from '../aggregate/tick-folder.js';

export interface ReplayPartition {
  partition: number;
  /**
   * The partition's records in offset order, in batches of any size (a Kafka fetch, a container block, a run of
   * file lines): replay re-cuts them into chunks of REPLAY_CHUNK, so the batching never changes the output.
   * Batches, not single records, because an async iteration step per record would cost more than aggregating it.
   * A cursor may be handed over again for the next batch once its records have been read.
   */
  batches: AsyncIterable<TickCursor>;
}

export interface ReplayStats {
  records: number;
  accepted: number;
  rejected: Record<string, number>;
  bars: number;
  /** Open bars emitted at the end (`includeOpen`), not counted in `bars`. */
  openBars: number;
}

export interface ReplayOptions {
  /** Called after each chunk with the number of records read so far. */
  onProgress?: (records: number) => void;
  /**
   * At the end of the input, also emit the bars still open then, at every interval (`final: false`), after every
   * final bar of every partition: see PartitionAggregator.openBarsAtEnd. Without it the output is only final bars.
   */
  includeOpen?: boolean;
}

export const REPLAY_CHUNK = 4096;

/**
 * Aggregate every partition's records in offset order; `onBars` receives each chunk's published bar versions
 * (final bars, then revisions) in a deterministic order. Rejects are counted, not dead-lettered: the live run
 * already did that for these records. With `includeOpen`, each partition's open bars at the end of its records
 * follow, partition by partition, once every partition is done.
 */
export async function replay(
  config: Config,
  partitions: AsyncIterable<ReplayPartition>,
  onBars: (bars: Bar[]) => void | Promise<void>,
  opts: ReplayOptions = {},
): Promise<ReplayStats> {
  const stats: ReplayStats = { records: 0, accepted: 0, rejected: {}, bars: 0, openBars: 0 };
  // Held until every partition's final bars are out: consumers read the open bars as the output's tail.
  const open: Bar[][] = [];
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
      const bars = agg.closeFinal().map((a) => toBar(a, { final: true }));
      stats.bars += bars.length;
      folder = undefined;
      n = 0;
      if (bars.length) await onBars(bars);
      opts.onProgress?.(stats.records);
    };
    for await (const cursor of part.batches) {
      for (let i = 0; i < cursor.count; i++) {
        folder ??= new TickFolder(agg.foldParams(config));
        offsets[n] = cursor.offset(i);
        folder.addFrom(cursor, i, n);
        if (++n === REPLAY_CHUNK) await flush();
      }
    }
    await flush();
    if (opts.includeOpen) {
      const bars = agg.openBarsAtEnd().map((a) => toBar(a, { final: false }));
      stats.openBars += bars.length;
      if (bars.length) open.push(bars);
    }
  }
  for (const bars of open) await onBars(bars);
  return stats;
}
