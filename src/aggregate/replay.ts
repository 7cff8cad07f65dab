// Replay: ticks from a past range (Kafka or a file) through the same aggregation in pure event time, one
// partition after another, in fixed-size chunks, so the same ticks always give the same bars, byte for byte.
import type { Config } from '../config.js';
import type { Tick } from '../ingest/tick.js';
import { schema } from '../stream/schemas.js';
import { decode } from '../stream/serde.js';
import type { Bar } from './bar.js';
import { toBar } from './ohlcv.js';
import { PartitionAggregator } from './partition-aggregator.js';
import { TickFolder } from './pre-aggregate.js';

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
  records: AsyncIterable<ReplayRecord>;
}

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
  const tickSchema = schema('tick');
  const stats: ReplayStats = { records: 0, accepted: 0, rejected: {}, bars: 0 };
  for await (const part of partitions) {
    const agg = PartitionAggregator.fromConfig(config);
    let chunk: ReplayRecord[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const folder = new TickFolder({
        interval: agg.baseInterval,
        watermark: agg.watermark,
        maxOutOfOrder: config.maxOutOfOrderMs * 1000,
        allowedLateness: config.allowedLatenessMs * 1000,
        origin: config.bucketOrigin,
      });
      const offsets = new Float64Array(chunk.length);
      chunk.forEach((r, i) => {
        offsets[i] = r.offset;
        if (r.error !== undefined) return folder.reject(i, 'TE_DECODE', r.error);
        let tick = r.tick;
        if (!tick) {
          try {
            tick = decode<Tick>(tickSchema, r.value ?? null);
          } catch (err) {
            return folder.reject(i, 'TE_DECODE', (err as Error).message);
          }
        }
        folder.add(tick, i, r.offset);
      });
      const out = folder.result();
      agg.apply(out, offsets, offsets[offsets.length - 1]!);
      stats.records += chunk.length;
      stats.accepted += out.accepted;
      for (const r of out.rejects) stats.rejected[r.code] = (stats.rejected[r.code] ?? 0) + 1;
      const bars = agg.closeFinal().map((a) => toBar(a, true));
      stats.bars += bars.length;
      if (bars.length) await onBars(bars);
      onProgress?.(stats.records);
      chunk = [];
    };
    for await (const r of part.records) {
      chunk.push(r);
      if (chunk.length === REPLAY_CHUNK) await flush();
    }
    await flush();
  }
  return stats;
}
