// What a store of final bars offers the aggregator: idempotent upserts on the bar identity.
import type { Bar } from '../bar.js';

export interface BarSink {
  readonly name: string;
  /** Create tables if needed; detect capabilities. */
  init(): Promise<void>;
  /** Upsert bars; resolves only once they are durable. Must be idempotent. */
  write(bars: Bar[]): Promise<void>;
  close(): Promise<void>;
}
