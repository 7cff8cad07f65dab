// What a store of final bars offers the aggregator: idempotent upserts on the bar identity.
import type { Bar } from '../contracts/bar.js';
import type { Signal } from '../contracts/signal.js';

export interface BarSink {
  readonly name: string;
  /** Create tables if needed; detect capabilities. */
  init(): Promise<void>;
  /**
   * Upsert bars; resolves only once they are durable. Must be idempotent.
   * `sourceTs`: Kafka timestamp (ms) of the tick that closed them, for sinks that carry record timestamps.
   */
  write(bars: Bar[], sourceTs?: number): Promise<void>;
  /** Stores that keep signals too: idempotent on (symbol, interval, bar time, name). */
  writeSignals?(signals: Signal[]): Promise<void>;
  close(): Promise<void>;
}
