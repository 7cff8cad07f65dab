// What a store of final bars offers the aggregator: idempotent upserts on the bar identity.
import type { Bar } from '../contracts/bar.js';
import type { Signal } from '../contracts/signal.js';
import type { MaintainPolicy, MaintainReport } from './maintenance.js';
import type { MigrationResult } from './migrations.js';

export interface BarSink {
  readonly name: string;
  /** Create or migrate the tables; detect capabilities. */
  init(): Promise<void>;
  /** Stores with tables: apply the pending schema steps (init does too), or with dryRun only list them. */
  migrate?(opts?: { dryRun?: boolean }): Promise<MigrationResult>;
  /** Stores with tables: apply the storage policies (retention, compression, partitions ahead). */
  maintain?(policy: MaintainPolicy): Promise<MaintainReport>;
  /**
   * Upsert bars; resolves only once they are durable. Must be idempotent.
   * `sourceTs`: Kafka timestamp (ms) of the tick that closed them, for sinks that carry record timestamps.
   */
  write(bars: Bar[], sourceTs?: number): Promise<void>;
  /** Sinks that carry record timestamps: several groups of bars, each with its own `sourceTs`, in one write. */
  writeGroups?(groups: { bars: Bar[]; sourceTs: number }[]): Promise<void>;
  /** Stores that keep signals too: idempotent on (symbol, interval, bar time, name). */
  writeSignals?(signals: Signal[]): Promise<void>;
  close(): Promise<void>;
}
