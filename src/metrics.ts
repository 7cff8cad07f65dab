// Prometheus metrics (prom-client): one registry; every counter the pipeline exposes at /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'tick_engine_' });

export const ticksProduced = new Counter({ name: 'tick_engine_ticks_produced_total', help: 'Ticks produced to the ticks topic', registers: [registry] });
export const ticksIn = new Counter({ name: 'tick_engine_ticks_in_total', help: 'Ticks accepted by the aggregator', registers: [registry] });
export const deadLetters = new Counter({
  name: 'tick_engine_dead_letters_total',
  help: 'Records sent to the dead-letter topic',
  labelNames: ['code'],
  registers: [registry],
});
export const barsOut = new Counter({
  name: 'tick_engine_bars_out_total',
  help: 'Final bar versions written (first versions and revisions)',
  labelNames: ['interval'],
  registers: [registry],
});
export const batchSeconds = new Histogram({
  name: 'tick_engine_batch_seconds',
  help: 'Aggregator batch latency: fetch to commit',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
export const watermarkLag = new Gauge({
  name: 'tick_engine_watermark_lag_seconds',
  help: 'Wall clock minus watermark, per partition',
  labelNames: ['partition'],
  registers: [registry],
});
export const lateTicksRevising = new Counter({
  name: 'tick_engine_late_ticks_revising_total',
  help: 'Late ticks within the allowed lateness, each revising its closed bars (too-late ones count as dead letters TE_LATE_TICK)',
  registers: [registry],
});
export const revisionsOut = new Counter({
  name: 'tick_engine_bar_revisions_out_total',
  help: 'Revised bar versions (revision > 0) written',
  labelNames: ['interval'],
  registers: [registry],
});
export const signalsOut = new Counter({ name: 'tick_engine_signals_out_total', help: 'Signals published to the signals topic', registers: [registry] });
export const consumerLag = new Gauge({
  name: 'tick_engine_consumer_lag_records',
  help: 'Records behind the partition high watermark after the last batch',
  labelNames: ['partition'],
  registers: [registry],
});
export const wsConnections = new Gauge({ name: 'tick_engine_ws_connections', help: 'Open WebSocket connections', registers: [registry] });
export const wsClosed = new Counter({
  name: 'tick_engine_ws_closed_total',
  help: 'WebSocket connections closed, by close code (uWS closes a client past TE_WS_MAX_BUFFER_BYTES of backpressure)',
  labelNames: ['code'],
  registers: [registry],
});
export const wsMessages = new Counter({ name: 'tick_engine_ws_messages_sent_total', help: 'WebSocket messages published', registers: [registry] });
