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
export const snapshotsOut = new Counter({
  name: 'tick_engine_state_snapshots_total',
  help: 'Aggregator state snapshots stored in the state topic',
  registers: [registry],
});
export const snapshotBytes = new Histogram({
  name: 'tick_engine_state_snapshot_bytes',
  help: 'Size of each aggregator state snapshot before compression',
  buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8],
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
export const liveUpdatesOut = new Counter({
  name: 'tick_engine_live_updates_out_total',
  help: 'In-progress bar updates published to the live bars topic',
  registers: [registry],
});
export const signalsOut = new Counter({ name: 'tick_engine_signals_out_total', help: 'Signals published to the signals topic', registers: [registry] });
export const consumerLag = new Gauge({
  name: 'tick_engine_consumer_lag_records',
  help: 'Records behind the partition high watermark after the last batch',
  labelNames: ['partition'],
  registers: [registry],
});
export const outputWriteSeconds = new Histogram({
  name: 'tick_engine_output_write_seconds',
  help: 'Duration of each write of an aggregator step to one output target (a store, the bars/signals/dead-letter topics), failed ones included (those also count in tick_engine_write_retries_total), by target',
  labelNames: ['target'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
/**
 * Where a tick's time goes on the live path, stage by stage (docs/benchmarks.md, "Where the time goes"). The
 * aggregator observes tick_to_fold (the newest tick of a batch produced → its fold starts: produce, broker, fetch
 * wait, the partition's queue), fold (the worker round trip), out_queue (a step with final bars queued → its write to
 * the bars topic starts: the partition's earlier steps and the other partitions' writes before it), bar_published
 * and update_published (the closing or last tick produced → the bar's record acknowledged on the bars or live topic).
 * The gateway observes bar_to_gateway and update_to_gateway (that record produced → the gateway decoded it, from the
 * record's te-pub header) and bar_tick_to_gateway, update_tick_to_gateway (the tick produced → the gateway decoded
 * the record), both for the records carrying that header: every final bar, one in-progress update in 64;
 * tick_engine_tick_to_send_seconds follows to the client socket.
 */
export const stageSeconds = new Histogram({
  name: 'tick_engine_stage_seconds',
  help: 'Live path latency by stage (see the source for each stage), seconds',
  labelNames: ['stage'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2.5, 5, 10],
  registers: [registry],
});
export const outputQueueSteps = new Gauge({
  name: 'tick_engine_output_queue_steps',
  help: 'Steps (closed bars, signals, dead letters of a batch) of a partition not yet durable in every target after its last flush: 0 while every target answers; grows while one is down (consumption of the partition waits)',
  labelNames: ['partition'],
  registers: [registry],
});
export const wsConnections = new Gauge({ name: 'tick_engine_ws_connections', help: 'Open WebSocket connections', registers: [registry] });
export const wsSubscriptions = new Gauge({
  name: 'tick_engine_ws_subscriptions',
  help: 'Active subscriptions (a symbol or a pattern on a channel and interval) over all connections',
  registers: [registry],
});
export const wsClosed = new Counter({
  name: 'tick_engine_ws_closed_total',
  help: 'WebSocket connections closed, by close code',
  labelNames: ['code'],
  registers: [registry],
});
export const wsBackpressureClosed = new Counter({
  name: 'tick_engine_ws_backpressure_closed_total',
  help: 'WebSocket clients closed because a final bar or signal would pass TE_WS_MAX_BUFFER_BYTES',
  registers: [registry],
});
export const wsMessages = new Counter({
  name: 'tick_engine_ws_messages_sent_total',
  help: 'Messages handed to WebSocket clients, by channel (control = acks, snapshots, errors, pongs)',
  labelNames: ['channel'],
  registers: [registry],
});
export const wsBytes = new Counter({
  name: 'tick_engine_ws_bytes_sent_total',
  help: 'Bytes handed to WebSocket clients (before permessage-deflate), by channel',
  labelNames: ['channel'],
  registers: [registry],
});
export const wsConflated = new Counter({
  name: 'tick_engine_ws_conflated_total',
  help: 'In-progress bar updates replaced by a newer one for a client past the soft limit (never sent)',
  registers: [registry],
});
export const wsDropped = new Counter({
  name: 'tick_engine_ws_dropped_total',
  help: 'Messages not sent to a client past the soft limit, by channel (trades only; final bars and signals are never dropped)',
  labelNames: ['channel'],
  registers: [registry],
});
export const sendLatency = new Histogram({
  name: 'tick_engine_tick_to_send_seconds',
  help: 'From the Kafka timestamp of the tick behind a message (the trade, or the tick that closed or last updated a bar) to its hand-over to the client socket: once per message queued to a client, once per delta published to the clients of direct delivery',
  labelNames: ['channel'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
export const authFailures = new Counter({
  name: 'tick_engine_auth_failures_total',
  help: 'Requests and upgrades rejected by auth or limits, by reason',
  labelNames: ['reason'],
  registers: [registry],
});
export const dependencyUp = new Gauge({
  name: 'tick_engine_dependency_up',
  help: 'Whether the last write to a dependency (a store, the broker) succeeded: 1 up, 0 down (writes paused and retried)',
  labelNames: ['dependency'],
  registers: [registry],
});
export const writeRetries = new Counter({
  name: 'tick_engine_write_retries_total',
  help: 'Failed or timed-out writes that will be retried, by target (a store, the bars/signals/dead-letter topics, the offset commit)',
  labelNames: ['target'],
  registers: [registry],
});
export const ready = new Gauge({
  name: 'tick_engine_ready',
  help: 'Whether this process is ready: 1 when every dependency answers, 0 while it waits for one',
  registers: [registry],
});
export const idleAdvances = new Counter({
  name: 'tick_engine_idle_advances_total',
  help: 'Watermarks moved by wall clock for partitions verified quiet (caught up with the broker, nothing new for TE_IDLE_CLOSE_MS)',
  registers: [registry],
});
export const feedConnectionsOpened = new Counter({
  name: 'tick_engine_feed_connections_opened_total',
  help: 'WebSocket connections to a venue opened (upgrade accepted), by venue',
  labelNames: ['venue'],
  registers: [registry],
});
export const feedConnectionsOpen = new Gauge({
  name: 'tick_engine_feed_connections_open',
  help: 'WebSocket connections to a venue open now, by venue (two per group of symbols while one replaces the other)',
  labelNames: ['venue'],
  registers: [registry],
});
export const feedReconnects = new Counter({
  name: 'tick_engine_feed_reconnects_total',
  help: 'Venue connections started after the first, by venue and cause: stale (nothing received for the stale time), closed (by the venue or the network), error (connect or upgrade failed), rate-limited (HTTP 429/418 on the upgrade), rotation (replaced before the venue closes it)',
  labelNames: ['venue', 'reason'],
  registers: [registry],
});
export const feedMessagesIn = new Counter({
  name: 'tick_engine_feed_messages_in_total',
  help: 'Frames received from a venue and handed to its adapter (trades, heartbeats, acks; keepalive replies not), by venue',
  labelNames: ['venue'],
  registers: [registry],
});
export const feedDecodeErrors = new Counter({
  name: 'tick_engine_feed_decode_errors_total',
  help: 'Venue frames the adapter refused (TE_DECODE: not JSON, a trade with a field missing or malformed), by venue; the frame is dropped, the connection kept',
  labelNames: ['venue'],
  registers: [registry],
});
/** When each running venue feed last received a frame, ms since the epoch, by venue: read when the gauge is collected. */
export const feedLastFrameAt = new Map<string, () => number>();
export const feedLastMessageAge = new Gauge({
  name: 'tick_engine_feed_last_message_age_seconds',
  help: 'Seconds since the last frame of any kind from a venue, over all its connections (since the feed started when none yet), by venue',
  labelNames: ['venue'],
  registers: [registry],
  collect() {
    this.reset();
    const now = Date.now();
    for (const [venue, at] of feedLastFrameAt) this.set({ venue }, Math.max(0, now - at()) / 1000);
  },
});
export const feedDuplicates = new Counter({
  name: 'tick_engine_feed_duplicates_dropped_total',
  help: 'Trades a venue delivered again (reconnect overlaps, snapshots re-sent on subscribe) and the feed dropped, by venue and symbol',
  labelNames: ['venue', 'symbol'],
  registers: [registry],
});
export const feedGapsFound = new Counter({
  name: 'tick_engine_feed_gaps_found_total',
  help: "Holes in a venue's consecutive trade ids that outlived TE_FEED_GAP_WAIT_MS (the venue's history is asked for them, or they are given up at once)",
  labelNames: ['venue', 'symbol'],
  registers: [registry],
});
export const feedGapsFilled = new Counter({
  name: 'tick_engine_feed_gaps_filled_total',
  help: "Found holes whose every trade was released (from the venue's history, or late from the feed itself)",
  labelNames: ['venue', 'symbol'],
  registers: [registry],
});
export const feedPossibleGaps = new Counter({
  name: 'tick_engine_feed_possible_gaps_total',
  help: 'Connection outages of a venue whose trade ids cannot show a gap (Bybit): trades may be missing between the last trade before and the first after (each a GAP_POSSIBLE record on feed.events)',
  labelNames: ['venue', 'symbol'],
  registers: [registry],
});
export const feedGapsUnfilled = new Counter({
  name: 'tick_engine_feed_gaps_unfilled_total',
  help: 'Ranges of trade ids given up, never on the ticks topic (each also a GAP_UNFILLED record on feed.events), by reason',
  labelNames: ['venue', 'symbol', 'reason'],
  registers: [registry],
});
export const feedTradesLost = new Counter({
  name: 'tick_engine_feed_trades_lost_total',
  help: 'Venue trade ids in the ranges given up (for OKX, fills: one aggregated trade stands for several)',
  labelNames: ['venue', 'symbol'],
  registers: [registry],
});
export const feedTradesHeld = new Gauge({
  name: 'tick_engine_feed_trades_held',
  help: 'Trades waiting behind a hole in their trade ids until it is filled or given up',
  labelNames: ['venue', 'symbol'],
  registers: [registry],
});
export const feedTradesIn = new Counter({
  name: 'tick_engine_feed_trades_in_total',
  help: 'Trades received from a venue, by venue and symbol: every copy, before duplicates are dropped (snapshots and history fills not counted)',
  labelNames: ['venue', 'symbol'],
  registers: [registry],
});
export const feedTradeLag = new Histogram({
  name: 'tick_engine_feed_trade_lag_seconds',
  help: "From a trade's time at the venue (exchange time) to its receipt here (ingest time), live trades only, by venue and symbol; a clock behind the venue's counts as 0",
  labelNames: ['venue', 'symbol'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});
/** When each venue connection group last received anything and each symbol its last trade, ms since the epoch: read when collected. */
export const feedConnectionHeardAt = new Map<string, { venue: string; connection: string; at: () => number }>();
export const feedSymbolTradeAt = new Map<string, { venue: string; symbol: string; at: number }>();
export const feedConnectionMessageAge = new Gauge({
  name: 'tick_engine_feed_connection_last_message_age_seconds',
  help: 'Seconds since anything was received on a venue connection (a frame, a keepalive reply, a WebSocket ping or pong; a group of symbols, whichever socket carries it now): past the stale time, /health answers 503 naming it. By venue and connection',
  labelNames: ['venue', 'connection'],
  registers: [registry],
  collect() {
    this.reset();
    const now = Date.now();
    for (const { venue, connection, at } of feedConnectionHeardAt.values()) this.set({ venue, connection }, Math.max(0, now - at()) / 1000);
  },
});
export const feedLastTradeAge = new Gauge({
  name: 'tick_engine_feed_last_trade_age_seconds',
  help: 'Seconds since the last live trade of a symbol arrived from its venue, by venue and symbol (a quiet symbol is not a fault: see the connection age)',
  labelNames: ['venue', 'symbol'],
  registers: [registry],
  collect() {
    this.reset();
    const now = Date.now();
    for (const { venue, symbol, at } of feedSymbolTradeAt.values()) this.set({ venue, symbol }, Math.max(0, now - at) / 1000);
  },
});
export const feedHistoryRequests = new Counter({
  name: 'tick_engine_feed_history_requests_total',
  help: "Requests to a venue's REST history of trades (filling gaps), by venue and outcome: ok, rate-limited (429/418 or the venue's own refusal; waited out), failed",
  labelNames: ['venue', 'outcome'],
  registers: [registry],
});
export const pushBatches = new Counter({
  name: 'tick_engine_push_batches_total',
  help: 'Batches answered by the push endpoint, by transport (http, ws) and status (200, 207, 401, 503, ...)',
  labelNames: ['transport', 'status'],
  registers: [registry],
});
export const pushRecords = new Counter({
  name: 'tick_engine_push_records_total',
  help: 'Pushed trades, quotes and ticks made from quotes, by kind (trade, quote, quote_tick; record: a rejected record that was not even readable) and outcome: written (acknowledged by the broker), duplicate (written before, not again), rejected (invalid: answered with the reason, dead-lettered)',
  labelNames: ['kind', 'outcome'],
  registers: [registry],
});
export const pushBatchSeconds = new Histogram({
  name: 'tick_engine_push_batch_seconds',
  help: 'From a batch fully received to its answer (parse, validate, broker acknowledgement)',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
export const pushIdentities = new Gauge({
  name: 'tick_engine_push_identities',
  help: 'Identities of written trades and quotes the push endpoint remembers to recognise duplicates (TE_PUSH_DEDUPE_WINDOW_MS, TE_PUSH_DEDUPE_MAX_IDS)',
  registers: [registry],
});
export const pushReplayed = new Counter({
  name: 'tick_engine_push_replayed_total',
  help: 'Batches answered from the kept answer of an earlier batch with the same Idempotency-Key (nothing written)',
  registers: [registry],
});

export const ticksArchived = new Counter({
  name: 'tick_engine_ticks_archived_total',
  help: 'Ticks written to the tick archive (a batch written again after a restart counts again; the table keeps each once)',
  registers: [registry],
});
export const archiveSkipped = new Counter({
  name: 'tick_engine_archive_skipped_total',
  help: 'Records of the ticks topic the tick archive left out, by reason (undecodable, invalid: the aggregator dead-letters them)',
  labelNames: ['reason'],
  registers: [registry],
});
export const httpRequests = new Counter({
  name: 'tick_engine_http_requests_total',
  help: 'REST API requests answered by the gateway, by route (the pattern, e.g. /api/v1/bars/:symbol) and HTTP status',
  labelNames: ['route', 'status'],
  registers: [registry],
});
export const httpRequestSeconds = new Histogram({
  name: 'tick_engine_http_request_seconds',
  help: 'REST API request latency in the gateway, from the request read to the answer written (auth and store queries included), by route',
  labelNames: ['route'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
