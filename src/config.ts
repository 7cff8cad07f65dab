// The one configuration object: every key declared once with its env name, flag, default and doc; validated at start.
import { writeFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { parseIsoMicros } from './time.js';
import { parseInterval, type IntervalSpec } from './contracts/interval.js';
import { SignalRules } from './contracts/signal-rules.js';
import { QuoteTickRules } from './contracts/quote-ticks.js';
import { parseDuration, RetentionPolicy } from './contracts/retention.js';

type Kind = 'string' | 'optional' | 'int' | 'number' | 'list' | 'bool' | 'url' | 'intervals' | 'time' | 'origin' | 'zone';

/** Which part of the engine reads a key: commands declare the groups they read, and their --help lists those. */
export const CONFIG_GROUPS = {
  log: 'logging',
  kafka: 'Kafka connection',
  topics: 'Kafka topics',
  feed: 'simulated feed',
  venueFeed: 'venue feeds: connections and trade sequencing',
  standin: 'local venue stand-ins (venue-standin, and the demo)',
  backfill: 'file backfill (ingest --file): transactions and progress',
  validation: 'tick validation',
  bars: 'bars and signals',
  aggregator: 'aggregator runtime',
  stores: 'stores',
  gateway: 'gateway',
  auth: 'gateway auth',
  push: 'push ingestion endpoint',
  archive: 'tick archive (archive command): every valid tick in QuestDB',
  export: 'export (tick-engine export)',
} as const;
export type ConfigGroup = keyof typeof CONFIG_GROUPS;

interface KeySpec {
  /** Environment variable; the flag is the same name without TE_, lower-case, dashes. */
  env: string;
  group: ConfigGroup;
  kind: Kind;
  default: string;
  doc: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export const CONFIG_SPEC = {
  logLevel: {
    env: 'TE_LOG_LEVEL',
    group: 'log',
    kind: 'string',
    default: 'info',
    doc: 'pino log level',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  },
  kafkaBrokers: {
    env: 'TE_KAFKA_BROKERS',
    group: 'kafka',
    kind: 'list',
    default: '127.0.0.1:19092',
    doc: 'Kafka bootstrap brokers, comma-separated host:port',
  },
  kafkaClientId: { env: 'TE_KAFKA_CLIENT_ID', group: 'kafka', kind: 'string', default: 'tick-engine', doc: 'Kafka client id prefix' },
  topicTicks: { env: 'TE_TOPIC_TICKS', group: 'topics', kind: 'string', default: 'ticks', doc: 'topic of Avro ticks, keyed by symbol' },
  topicDlq: { env: 'TE_TOPIC_DLQ', group: 'topics', kind: 'string', default: 'ticks.dlq', doc: 'dead-letter topic: rejected records with a reason header' },
  topicSignals: {
    env: 'TE_TOPIC_SIGNALS',
    group: 'topics',
    kind: 'string',
    default: 'signals',
    doc: 'topic of Avro signals (crossovers, RSI zones, Bollinger breakouts), keyed by symbol',
  },
  topicFeedEvents: {
    env: 'TE_TOPIC_FEED_EVENTS',
    group: 'topics',
    kind: 'string',
    default: 'feed.events',
    doc: 'topic of Avro feed events of venue feeds (gaps in trade ids filled or given up), keyed by symbol',
  },
  topicQuotes: {
    env: 'TE_TOPIC_QUOTES',
    group: 'topics',
    kind: 'string',
    default: 'quotes',
    doc: 'topic of Avro quotes (best bid and ask, from brokers and FX venues through the push endpoint), keyed by symbol',
  },
  schemaRegistryUrl: {
    env: 'TE_SCHEMA_REGISTRY_URL',
    group: 'topics',
    kind: 'optional',
    default: '',
    doc: "a Confluent-compatible schema registry (http://host:8081): writers register each topic's schema under <topic>-value at start-up and put the ids it returns on the wire; readers map its ids back to our schemas. Empty: our fixed ids (schemas/index.json), served by the gateway's registry API",
  },
  topicBars: { env: 'TE_TOPIC_BARS', group: 'topics', kind: 'string', default: 'bars', doc: 'topic of final Avro bars, keyed by symbol' },
  topicBarsLive: {
    env: 'TE_TOPIC_BARS_LIVE',
    group: 'topics',
    kind: 'string',
    default: 'bars.live',
    doc: 'topic of in-progress Avro bars (final=false), keyed by symbol; retention one hour',
  },
  liveUpdateMs: {
    env: 'TE_LIVE_UPDATE_MS',
    group: 'aggregator',
    kind: 'int',
    default: '100',
    min: 0,
    max: 60_000,
    doc: 'period of in-progress bar updates of the first interval (the larger ones: TE_LIVE_UPDATE_ROLLED_MS): at most one per (symbol, interval) per period, only for bars that took ticks; 0 = none at all',
  },
  liveUpdateRolledMs: {
    env: 'TE_LIVE_UPDATE_ROLLED_MS',
    group: 'aggregator',
    kind: 'int',
    default: '500',
    min: 0,
    max: 3_600_000,
    doc: "period of the larger intervals' in-progress updates (every interval after the first), rounded to whole TE_LIVE_UPDATE_MS periods, at least one; 0 = none for them",
  },
  ticksPartitions: {
    env: 'TE_TICKS_PARTITIONS',
    group: 'topics',
    kind: 'int',
    default: '3',
    min: 1,
    max: 1024,
    doc: 'partitions when the engine creates the ticks/bars topics',
  },
  aggGroupId: { env: 'TE_AGG_GROUP', group: 'aggregator', kind: 'string', default: 'tick-engine-aggregator', doc: 'consumer group of the aggregators' },
  aggReadPath: {
    env: 'TE_AGG_READ_PATH',
    group: 'aggregator',
    kind: 'string',
    default: 'fetch',
    choices: ['kafkajs', 'fetch'],
    doc: "how the aggregator reads its assigned ticks partitions: 'fetch' (the engine's own long-polling fetches, values handed to the fold where they lie) or 'kafkajs' (its consumer fetches; an object per record); kafkajs keeps the group and the commits either way",
  },
  aggPipeline: {
    env: 'TE_AGG_PIPELINE',
    group: 'aggregator',
    kind: 'bool',
    default: 'true',
    doc: "fold a partition's next batch while the previous one's bars are being made durable and committed (one step in flight); false: each batch waits for its writes and commit before the next is folded (docs/benchmarks.md: at 20,000 ticks/s the pipelined order cuts the final bar's p99, at 2,000 neither wins)",
  },
  aggBarRows: {
    env: 'TE_AGG_BAR_ROWS',
    group: 'aggregator',
    kind: 'bool',
    default: 'true',
    doc: 'hold the open bars of the rolled-up intervals (every interval but the first) as rows of doubles outside the JS heap, not as objects: at 10,000 symbols the heap after GC fell from 57–70 to 31–50 MB (docs/benchmarks.md); false: objects, as before',
  },
  kernel: {
    env: 'TE_KERNEL',
    group: 'aggregator',
    kind: 'string',
    default: 'auto',
    choices: ['auto', 'native', 'ts'],
    doc: "the hot kernel that decodes and folds batches: 'native' (the C++ addon in native/, built by npm install; start-up fails when it is not built), 'ts' (the TypeScript twin) or 'auto' (native when built, else ts); one log line at start says which runs",
  },
  aggSessionTimeoutMs: {
    env: 'TE_AGG_SESSION_TIMEOUT_MS',
    group: 'aggregator',
    kind: 'int',
    default: '30000',
    min: 6000,
    max: 300_000,
    doc: 'consumer group session timeout: how soon the partitions of a dead aggregator move to the others',
  },
  intervals: {
    env: 'TE_INTERVALS',
    group: 'bars',
    kind: 'intervals',
    default: '1s,5s,15s,1m,5m,15m,1h,4h,1d',
    doc: 'bar intervals (s, m, h, d units), each a multiple of the first; the first is built from ticks, the others roll up from it',
  },
  emptyBars: {
    env: 'TE_EMPTY_BARS',
    group: 'bars',
    kind: 'string',
    default: 'skip',
    doc: "an interval in which a symbol had no trade: 'skip' (no bar) or 'flat' (a bar at the previous close, zero volume, once the symbol has traded)",
    choices: ['skip', 'flat'],
  },
  topicState: {
    env: 'TE_TOPIC_STATE',
    group: 'topics',
    kind: 'string',
    default: 'ticks.agg-state',
    doc: 'compacted topic of aggregator state snapshots (roll-ups, indicators, last closes), so a restart replays minutes of ticks, not a day',
  },
  stateSnapshotMs: {
    env: 'TE_STATE_SNAPSHOT_MS',
    group: 'aggregator',
    kind: 'int',
    default: '30000',
    min: 0,
    max: 3_600_000,
    doc: "how often each partition's aggregation state is snapshotted to TE_TOPIC_STATE (a restart replays about this much plus the base interval); 0 = never (a restart replays back to the oldest open bar of the largest interval)",
  },
  signals: {
    env: 'TE_SIGNALS',
    group: 'bars',
    kind: 'string',
    default: '*@*=sma_cross,macd_cross,rsi_zone,bollinger_breakout',
    doc: "which signals run where: rules 'pattern@interval=name,name;...' (first match wins; 'off' = none). Names: sma_cross, macd_cross, rsi_zone, bollinger_breakout",
  },
  maxOutOfOrderMs: {
    env: 'TE_MAX_OUT_OF_ORDER_MS',
    group: 'bars',
    kind: 'int',
    default: '1000',
    min: 0,
    max: 3_600_000,
    doc: 'watermark = max event time seen in a partition minus this',
  },
  bucketOrigin: {
    env: 'TE_BUCKET_ORIGIN',
    group: 'bars',
    kind: 'origin',
    default: 'epoch',
    doc: "origin of fixed-width buckets: 'epoch' (time_bucket's alignment for widths dividing a day) or an ISO-8601 instant",
  },
  dailyTimezone: {
    env: 'TE_DAILY_TIMEZONE',
    group: 'bars',
    kind: 'zone',
    default: 'UTC',
    doc: '1d bars run from local midnight to local midnight in this IANA zone (23 or 25 h across DST); needs a base interval below 1d',
  },
  allowedLatenessMs: {
    env: 'TE_ALLOWED_LATENESS_MS',
    group: 'bars',
    kind: 'int',
    default: '5000',
    min: 0,
    max: 86_400_000,
    doc: 'after a bar closes, a late tick this recent still revises it (revision+1, re-published); later ones go to the dead-letter topic',
  },
  idleCloseMs: {
    env: 'TE_IDLE_CLOSE_MS',
    group: 'aggregator',
    kind: 'int',
    default: '0',
    min: 0,
    max: 3_600_000,
    doc: 'live mode: a partition quiet this long gets its watermark moved to wall clock minus out-of-orderness minus this, so its bars close; 0 = pure event time (replay)',
  },
  maxFutureMs: {
    env: 'TE_MAX_FUTURE_MS',
    group: 'validation',
    kind: 'int',
    default: '60000',
    min: 0,
    max: 31_536_000_000,
    doc: 'a tick whose event time is more than this ahead of its ingest time is invalid: dead-lettered, it never moves a watermark (ticks without an ingest time, as in CSV files, are not checked)',
  },
  idleRecoveryMs: {
    env: 'TE_IDLE_RECOVERY_MS',
    group: 'aggregator',
    kind: 'int',
    default: '10000',
    min: 0,
    max: 3_600_000,
    doc: 'live mode: after the broker or a store failed to answer, or the process itself stalled, no partition counts as quiet for this long (feeds that were waiting deliver their backlog before any watermark moves by wall clock)',
  },
  storeTimeoutMs: {
    env: 'TE_STORE_TIMEOUT_MS',
    group: 'stores',
    kind: 'int',
    default: '10000',
    min: 100,
    max: 600_000,
    doc: 'a store write taking longer reports the store down (/ready 503, consumption paused); a PostgreSQL request is abandoned and retried on a new connection after 3 times this (a hung server is retried, a slow one still answers)',
  },
  retryMaxMs: {
    env: 'TE_RETRY_MAX_MS',
    group: 'aggregator',
    kind: 'int',
    default: '5000',
    min: 10,
    max: 300_000,
    doc: 'longest wait between two retries of a failed write (exponential backoff with jitter from 100 ms)',
  },
  aggWorkers: {
    env: 'TE_AGG_WORKERS',
    group: 'aggregator',
    kind: 'int',
    default: '0',
    min: 0,
    max: 64,
    doc: "piscina worker threads that decode and pre-aggregate batches; 0 (the default) folds each batch on the aggregator's own thread: with the native kernel a fold is a few ms, and on 2 cores no worker hop and no worker heaps measured about 55 MB less RSS and less CPU at the same latency (docs/benchmarks.md); workers pay off with the TypeScript kernel at high rates",
  },
  heapGrowthPercent: {
    env: 'TE_HEAP_GROWTH_PERCENT',
    group: 'aggregator',
    kind: 'int',
    default: '0',
    min: 0,
    max: 300,
    doc: "how far V8 lets the aggregator's heap grow past what the last full GC kept, in percent (V8's --heap-growing-percent); 0 leaves V8's own choice, which under the churn of many symbols reserves several times the live heap; lower holds RSS down at the cost of more GC time (at 10,000 symbols, 30 ended a live run at 224–230 MB against 340–420 MB, at 0.55 cores against 0.43: docs/benchmarks.md)",
  },
  sinks: {
    env: 'TE_SINKS',
    group: 'stores',
    kind: 'list',
    default: 'postgres,timescaledb,questdb',
    doc: 'stores that receive final bars',
    choices: ['postgres', 'timescaledb', 'questdb'],
  },
  barsTable: { env: 'TE_BARS_TABLE', group: 'stores', kind: 'string', default: 'bars', doc: 'table name for bars in every store' },
  ticksTable: {
    env: 'TE_TICKS_TABLE',
    group: 'archive',
    kind: 'string',
    default: 'ticks',
    doc: 'QuestDB table of the tick archive (written by the archive command, read by REST /api/v1/trades)',
  },
  archiveGroupId: { env: 'TE_ARCHIVE_GROUP', group: 'archive', kind: 'string', default: 'tick-engine-archive', doc: 'consumer group of the archive command' },
  archiveTtlDays: {
    env: 'TE_ARCHIVE_TTL_DAYS',
    group: 'archive',
    kind: 'int',
    default: '0',
    min: 0,
    max: 100_000,
    doc: "how many days of ticks the tick archive keeps (QuestDB drops a daily partition once it ended that long before the newest tick), set by 'tick-engine maintain'; 0 = every tick kept",
  },
  archiveMetricsPort: {
    env: 'TE_ARCHIVE_METRICS_PORT',
    group: 'archive',
    kind: 'int',
    default: '9466',
    min: 0,
    max: 65535,
    doc: 'archive command: Prometheus /metrics, /health and /ready port on TE_GATEWAY_HOST (0 = off)',
  },
  pgUrl: { env: 'TE_PG_URL', group: 'stores', kind: 'url', default: 'postgres://postgres@127.0.0.1:15432/postgres', doc: 'PostgreSQL connection URL' },
  tsdbUrl: { env: 'TE_TSDB_URL', group: 'stores', kind: 'url', default: 'postgres://postgres@127.0.0.1:15433/postgres', doc: 'TimescaleDB connection URL' },
  pgIdleCloseMs: {
    env: 'TE_PG_IDLE_CLOSE_MS',
    group: 'stores',
    kind: 'int',
    default: '10000',
    min: 0,
    max: 3_600_000,
    doc: 'close a PostgreSQL/TimescaleDB sink connection idle this long; 0 = after every write',
  },
  questdbHttp: { env: 'TE_QUESTDB_HTTP', group: 'stores', kind: 'url', default: 'http://127.0.0.1:19000', doc: 'QuestDB HTTP endpoint (ILP writes, DDL)' },
  questdbPgUrl: {
    env: 'TE_QUESTDB_PG_URL',
    group: 'stores',
    kind: 'url',
    default: 'postgres://admin:quest@127.0.0.1:18812/qdb',
    doc: 'QuestDB PostgreSQL-wire URL (queries)',
  },
  retention: {
    env: 'TE_RETENTION',
    group: 'stores',
    kind: 'optional',
    default: '',
    doc: "how long bars (and signals) of each interval are kept, e.g. '1s=7d,1m=180d,1d=forever' (durations in s, m, h, d, w; '*' for the intervals not named, which are otherwise kept for ever); applied by 'tick-engine maintain' (and TE_MAINTAIN_EVERY_S): TimescaleDB and PostgreSQL drop whole chunks or partitions once every interval in them has expired and delete the expired rows of the others, QuestDB sets a table TTL when every interval has a finite retention (the longest); empty = keep everything",
  },
  compressAfter: {
    env: 'TE_COMPRESS_AFTER',
    group: 'stores',
    kind: 'string',
    default: '2d',
    doc: "TimescaleDB: compress a chunk once its whole range is older than this (duration: s, m, h, d, w), or 'off'; late revisions still land in compressed chunks",
  },
  chunkInterval: {
    env: 'TE_TSDB_CHUNK_INTERVAL',
    group: 'stores',
    kind: 'string',
    default: '1d',
    doc: 'TimescaleDB: the time range of each new chunk of the bars hypertable (duration: h, d, w); size it so one chunk of every interval together stays within a quarter of the server memory (docs/operations.md, Storage policies); existing chunks keep theirs',
  },
  partitionsAhead: {
    env: 'TE_PARTITIONS_AHEAD',
    group: 'stores',
    kind: 'int',
    default: '7',
    min: 0,
    max: 366,
    doc: 'PostgreSQL without TimescaleDB: daily partitions created ahead of today by maintain and at start-up (a write into a day without one creates it too)',
  },
  maintainEveryS: {
    env: 'TE_MAINTAIN_EVERY_S',
    group: 'stores',
    kind: 'int',
    default: '0',
    min: 0,
    max: 604_800,
    doc: "aggregator: run the storage policies ('tick-engine maintain') every this many seconds, the first time a minute after start (or after the period, if shorter); 0 = never (run maintain from cron or a Kubernetes CronJob instead)",
  },
  simSymbols: { env: 'TE_SIM_SYMBOLS', group: 'feed', kind: 'int', default: '50', min: 1, max: 100_000, doc: 'simulated symbols' },
  simRate: {
    env: 'TE_SIM_RATE',
    group: 'feed',
    kind: 'number',
    default: '200',
    min: 0.001,
    max: 10_000_000,
    doc: 'mean simulated ticks per second of event time',
  },
  simSeed: { env: 'TE_SIM_SEED', group: 'feed', kind: 'int', default: '42', min: 0, max: 4_294_967_295, doc: 'PRNG seed: same seed, same ticks' },
  simStart: { env: 'TE_SIM_START', group: 'feed', kind: 'time', default: 'now', doc: "event time of the first tick: 'now' or an ISO-8601 instant" },
  simSpeed: {
    env: 'TE_SIM_SPEED',
    group: 'feed',
    kind: 'number',
    default: '1',
    min: 0,
    max: 1_000_000,
    doc: 'event seconds per wall second; 0 = as fast as the broker takes them',
  },
  simDurationS: {
    env: 'TE_SIM_DURATION_S',
    group: 'feed',
    kind: 'number',
    default: '0',
    min: 0,
    max: 1e9,
    doc: 'event seconds to simulate; 0 = until stopped',
  },
  simJitterMs: {
    env: 'TE_SIM_JITTER_MS',
    group: 'feed',
    kind: 'int',
    default: '200',
    min: 0,
    max: 3_600_000,
    doc: 'max delay of a tick behind the feed clock (out-of-order delivery)',
  },
  simVenue: { env: 'TE_SIM_VENUE', group: 'feed', kind: 'string', default: 'SIM', doc: 'venue name on simulated ticks' },
  feed: {
    env: 'TE_FEED',
    group: 'venueFeed',
    kind: 'string',
    default: 'sim',
    doc: "ingest: the source of ticks: 'sim' (the simulated feed) or a venue's live public trades",
    choices: ['sim', 'binance', 'coinbase', 'kraken', 'bybit', 'okx'],
  },
  feedSymbols: {
    env: 'TE_FEED_SYMBOLS',
    group: 'venueFeed',
    kind: 'list',
    default: '',
    doc: "a venue feed's symbols in the engine's BASE-QUOTE form, comma-separated (BTC-USDT,ETH-USDT); required unless TE_FEED is sim",
  },
  feedUrl: {
    env: 'TE_FEED_URL',
    group: 'venueFeed',
    kind: 'optional',
    default: '',
    doc: "a venue feed's WebSocket URL; empty = the venue's real public endpoint",
  },
  feedRestUrl: {
    env: 'TE_FEED_REST_URL',
    group: 'venueFeed',
    kind: 'optional',
    default: '',
    doc: "base URL of the venue's REST API, asked for the trades of a gap in trade ids (Binance, Kraken, OKX, Coinbase; Bybit has none); empty = the venue's real one (api.binance.com, api.kraken.com, www.okx.com, api.exchange.coinbase.com)",
  },
  feedStaleMs: {
    env: 'TE_FEED_STALE_MS',
    group: 'venueFeed',
    kind: 'int',
    default: '0',
    min: 0,
    max: 600_000,
    doc: "a venue connection that receives nothing at all for this long (no trade, heartbeat, ack, pong or ping: a quiet symbol alone never counts) is closed and replaced; 0 = the venue's own (docs/venues.md, Connections: 10-60 s)",
  },
  feedRotateAfterMs: {
    env: 'TE_FEED_ROTATE_AFTER_MS',
    group: 'venueFeed',
    kind: 'int',
    default: '82800000',
    min: 1000,
    max: 86_400_000,
    doc: 'a connection to a venue that closes connections at a fixed age (Binance: 24 h) is replaced after this long, the new one subscribed before the old one closes',
  },
  feedBackoffMaxMs: {
    env: 'TE_FEED_BACKOFF_MAX_MS',
    group: 'venueFeed',
    kind: 'int',
    default: '30000',
    min: 10,
    max: 600_000,
    doc: "longest wait between attempts to reconnect to a venue (exponential backoff with jitter from 100 ms); a venue's Retry-After (HTTP 429/418) is waited in full even when longer",
  },
  feedGapWaitMs: {
    env: 'TE_FEED_GAP_WAIT_MS',
    group: 'venueFeed',
    kind: 'int',
    default: '250',
    min: 0,
    max: 60_000,
    doc: "venue feeds: a hole in a symbol's consecutive trade ids waits this long for its trades to arrive late before the venue's history is asked for them",
  },
  feedMaxHoldMs: {
    env: 'TE_FEED_MAX_HOLD_MS',
    group: 'venueFeed',
    kind: 'int',
    default: '10000',
    min: 1,
    max: 600_000,
    doc: 'venue feeds: the longest a trade waits behind a hole in its trade ids; then the hole is given up (reported on feed.events, counted) and the trades after it are released',
  },
  feedMaxHeldTrades: {
    env: 'TE_FEED_MAX_HELD_TRADES',
    group: 'venueFeed',
    kind: 'int',
    default: '10000',
    min: 1,
    max: 10_000_000,
    doc: 'venue feeds: the most trades of one symbol waiting behind holes; past it the lowest holes are given up',
  },
  feedFillAttempts: {
    env: 'TE_FEED_FILL_ATTEMPTS',
    group: 'venueFeed',
    kind: 'int',
    default: '3',
    min: 1,
    max: 100,
    doc: "venue feeds: requests to the venue's history in a row that add none of a hole's trades (failed or incomplete) before the hole is given up; backoff with jitter from 100 ms to 2 s between them",
  },
  feedDedupeWindowMs: {
    env: 'TE_FEED_DEDUPE_WINDOW_MS',
    group: 'venueFeed',
    kind: 'int',
    default: '60000',
    min: 0,
    max: 86_400_000,
    doc: 'venue feeds whose trade ids give no order (Bybit, Kraken v1): a trade id seen again within this long of its last sighting is a duplicate',
  },
  feedDedupeMaxIds: {
    env: 'TE_FEED_DEDUPE_MAX_IDS',
    group: 'venueFeed',
    kind: 'int',
    default: '20000',
    min: 1,
    max: 10_000_000,
    doc: 'venue feeds whose trade ids give no order: the most ids remembered per symbol (the oldest are forgotten first)',
  },
  feedResumeScan: {
    env: 'TE_FEED_RESUME_SCAN',
    group: 'venueFeed',
    kind: 'int',
    default: '20000',
    min: 0,
    max: 10_000_000,
    doc: "ingest --feed <venue>: at start, read at most this many records from the end of each ticks partition to find the last trade id per (venue, symbol); the feed continues after it, filling the hole from the venue's history, so a restart neither loses nor repeats a trade (a symbol not found in that tail starts afresh; 0 = no resume)",
  },
  standinRate: {
    env: 'TE_STANDIN_RATE',
    group: 'standin',
    kind: 'number',
    default: '20',
    min: 0.01,
    max: 100_000,
    doc: 'a venue stand-in: mean simulated trades per second (over its symbols, outside bursts)',
  },
  standinPort: {
    env: 'TE_STANDIN_PORT',
    group: 'standin',
    kind: 'int',
    default: '0',
    min: 0,
    max: 65535,
    doc: 'venue-standin: the port on 127.0.0.1 (WebSocket and REST history on the same one); 0 = a free port, logged',
  },
  standinSymbols: {
    env: 'TE_STANDIN_SYMBOLS',
    group: 'standin',
    kind: 'list',
    default: '',
    doc: "venue-standin: the symbols it trades, BASE-QUOTE (BTC-USDT,ETH-USDT); empty = the venue's demo symbols",
  },
  demoVenues: {
    env: 'TE_DEMO_VENUES',
    group: 'standin',
    kind: 'list',
    default: 'binance,coinbase,kraken,bybit,okx',
    choices: ['binance', 'coinbase', 'kraken', 'bybit', 'okx'],
    doc: "demo: the venues served by local stand-ins (fed by the simulator) and read by 'ingest --feed' processes; empty = the plain simulated feed",
  },
  feedMetricsPort: {
    env: 'TE_FEED_METRICS_PORT',
    group: 'venueFeed',
    kind: 'int',
    default: '9465',
    min: 0,
    max: 65535,
    doc: 'ingest --feed <venue>: port of Prometheus /metrics, /health (503 naming a connection that has received nothing for its stale time) and /ready (every connection subscribed), on TE_GATEWAY_HOST (0 = off)',
  },
  topicIngestProgress: {
    env: 'TE_TOPIC_INGEST_PROGRESS',
    group: 'backfill',
    kind: 'string',
    default: 'ingest.progress',
    doc: 'compacted topic of file backfill progress: per file, the position after its last committed transaction (written in that transaction), so a rerun resumes there and a finished file is not published twice',
  },
  backfillBatch: {
    env: 'TE_BACKFILL_BATCH',
    group: 'backfill',
    kind: 'int',
    default: '5000',
    min: 1,
    max: 100_000,
    doc: "ingest --file: records (trades and bad rows) per Kafka transaction; a crash re-sends at most one transaction's worth, never publishes it twice",
  },
  backfillTxnTimeoutMs: {
    env: 'TE_BACKFILL_TXN_TIMEOUT_MS',
    group: 'backfill',
    kind: 'int',
    default: '60000',
    min: 1000,
    max: 900_000,
    doc: 'ingest --file: Kafka transaction timeout; a transaction left open by a killed run that is never rerun holds back read_committed consumers of the ticks topic until the broker aborts it after this long (a rerun aborts it at once)',
  },
  metricsPort: {
    env: 'TE_METRICS_PORT',
    group: 'aggregator',
    kind: 'int',
    default: '9464',
    min: 0,
    max: 65535,
    doc: 'aggregate command: Prometheus /metrics port, on TE_GATEWAY_HOST (0 = off; the demo serves metrics on the gateway)',
  },
  historyStore: {
    env: 'TE_HISTORY_STORE',
    group: 'gateway',
    kind: 'string',
    default: 'postgres',
    choices: ['postgres', 'timescaledb', 'questdb'],
    doc: 'store the gateway reads bar history from (REST /api/v1/bars)',
  },
  snapshotBars: {
    env: 'TE_SNAPSHOT_BARS',
    group: 'gateway',
    kind: 'int',
    default: '100',
    min: 0,
    max: 100_000,
    doc: 'final bars per stream sent in the snapshot that follows a subscribe',
  },
  wsSoftLimitBytes: {
    env: 'TE_WS_SOFT_LIMIT_BYTES',
    group: 'gateway',
    kind: 'int',
    default: '262144',
    min: 0,
    max: 1_073_741_824,
    doc: 'soft limit of bytes buffered for one WebSocket client; past it open-bar updates are conflated to the latest per stream and trades are dropped (counted)',
  },
  wsMaxBufferBytes: {
    env: 'TE_WS_MAX_BUFFER_BYTES',
    group: 'gateway',
    kind: 'int',
    default: '16777216',
    min: 65_536,
    max: 1_073_741_824,
    doc: 'hard limit of bytes buffered for one WebSocket client; a final bar or signal that would pass it closes the client with code 1008 and a reason (never silently skipped)',
  },
  wsDirect: {
    env: 'TE_WS_DIRECT',
    group: 'gateway',
    kind: 'bool',
    default: 'true',
    doc: 'clients that keep up get deltas through uWebSockets.js pub/sub (one native publish per delta and encoding); a client past the soft limit falls back to its own queue until drained. false: every message through the per-client queue',
  },
  wsCompression: {
    env: 'TE_WS_COMPRESSION',
    group: 'gateway',
    kind: 'string',
    default: 'off',
    choices: ['off', 'shared', 'dedicated'],
    doc: 'permessage-deflate for clients that offer it: shared (one compressor, low memory) or dedicated (32 KB window per connection, better ratio)',
  },
  gatewayTrades: {
    env: 'TE_GATEWAY_TRADES',
    group: 'gateway',
    kind: 'bool',
    default: 'true',
    doc: 'gateway consumes the ticks topic for the trades channel and last-trade quotes',
  },
  authEnabled: {
    env: 'TE_AUTH',
    group: 'auth',
    kind: 'bool',
    default: 'false',
    doc: 'require a JWT or API key on the WebSocket upgrade and on REST (/health, /ready, /metrics, / stay open)',
  },
  jwtHs256Secret: {
    env: 'TE_JWT_HS256_SECRET',
    group: 'auth',
    kind: 'optional',
    default: '',
    doc: 'accept HS256 JWTs signed with this secret (at least 32 bytes)',
  },
  jwtRs256PublicKeyFile: {
    env: 'TE_JWT_RS256_PUBLIC_KEY_FILE',
    group: 'auth',
    kind: 'optional',
    default: '',
    doc: 'accept RS256 JWTs verified with this SPKI PEM public key file',
  },
  jwtAudience: { env: 'TE_JWT_AUDIENCE', group: 'auth', kind: 'optional', default: '', doc: 'required JWT aud claim (empty = not checked)' },
  jwtIssuer: { env: 'TE_JWT_ISSUER', group: 'auth', kind: 'optional', default: '', doc: 'required JWT iss claim (empty = not checked)' },
  apiKeysFile: {
    env: 'TE_API_KEYS_FILE',
    group: 'auth',
    kind: 'optional',
    default: '',
    doc: 'JSON file of API keys: [{"id","key" or "sha256","symbols":["BTC-*"],"limits":{...}}]',
  },
  limitConnections: {
    env: 'TE_LIMIT_CONNECTIONS',
    group: 'gateway',
    kind: 'int',
    default: '20',
    min: 1,
    max: 1_000_000,
    doc: 'auth on: WebSocket connections per key or JWT subject',
  },
  limitSubscriptions: {
    env: 'TE_LIMIT_SUBSCRIPTIONS',
    group: 'gateway',
    kind: 'int',
    default: '1000',
    min: 1,
    max: 10_000_000,
    doc: 'subscriptions (streams and patterns) per WebSocket connection, with auth on or off (an API key may set its own)',
  },
  limitPatterns: {
    env: 'TE_LIMIT_PATTERNS',
    group: 'gateway',
    kind: 'int',
    default: '100',
    min: 1,
    max: 1_000_000,
    doc: "pattern subscriptions ('*', 'BTC-*') per WebSocket connection, with auth on or off: each is matched against every new stream",
  },
  limitSubscriptionsTotal: {
    env: 'TE_LIMIT_SUBSCRIPTIONS_TOTAL',
    group: 'gateway',
    kind: 'int',
    default: '2000000',
    min: 1,
    max: 100_000_000,
    doc: 'subscriptions over all connections of one gateway instance: past it a subscribe is refused (bounds the memory no set of clients can exceed)',
  },
  limitRps: {
    env: 'TE_LIMIT_RPS',
    group: 'gateway',
    kind: 'number',
    default: '50',
    min: 0.1,
    max: 1_000_000,
    doc: 'auth on: REST requests and WebSocket messages per second per key or JWT subject (burst of the same size)',
  },
  corsOrigins: {
    env: 'TE_CORS_ORIGINS',
    group: 'gateway',
    kind: 'list',
    default: '',
    doc: 'origins allowed to call REST and open WebSockets from a browser (* = any); empty = same-origin only',
  },
  allowedHosts: {
    env: 'TE_ALLOWED_HOSTS',
    group: 'gateway',
    kind: 'list',
    default: '',
    doc: 'host names the Host header of a request or WebSocket upgrade may carry (DNS-rebinding guard; /health, /ready, /metrics exempt); empty = loopback names when TE_GATEWAY_HOST is a loopback address, else any',
  },
  jwtMaxLifetimeS: {
    env: 'TE_JWT_MAX_LIFETIME_S',
    group: 'auth',
    kind: 'int',
    default: '86400',
    min: 60,
    max: 31_536_000,
    doc: 'longest JWT lifetime accepted: a token whose exp is further ahead is refused; an open WebSocket is closed when its token expires',
  },
  gatewayHost: { env: 'TE_GATEWAY_HOST', group: 'gateway', kind: 'string', default: '127.0.0.1', doc: 'gateway bind address' },
  gatewayPort: {
    env: 'TE_GATEWAY_PORT',
    group: 'gateway',
    kind: 'int',
    default: '8088',
    min: 0,
    max: 65535,
    doc: 'gateway HTTP/WebSocket port (0 = any free port)',
  },
  pushHost: { env: 'TE_PUSH_HOST', group: 'push', kind: 'string', default: '127.0.0.1', doc: 'push-gateway bind address' },
  pushPort: {
    env: 'TE_PUSH_PORT',
    group: 'push',
    kind: 'int',
    default: '8089',
    min: 0,
    max: 65535,
    doc: 'push-gateway HTTP/WebSocket port (0 = any free port)',
  },
  pushKeysFile: {
    env: 'TE_PUSH_KEYS_FILE',
    group: 'push',
    kind: 'optional',
    default: '',
    doc: 'JSON file of the API keys that may push: [{"id","key" or "sha256","venues":["MT5-*"],"symbols":["EUR*"],"limits":{...}}]; required by push-gateway',
  },
  pushMaxBodyBytes: {
    env: 'TE_PUSH_MAX_BODY_BYTES',
    group: 'push',
    kind: 'int',
    default: '1048576',
    min: 1024,
    max: 67_108_864,
    doc: 'largest batch: an HTTP request body (413 past it) or a WebSocket message (past it the connection is dropped)',
  },
  pushMaxRecords: {
    env: 'TE_PUSH_MAX_RECORDS',
    group: 'push',
    kind: 'int',
    default: '10000',
    min: 1,
    max: 1_000_000,
    doc: 'most records in one batch (400 past it)',
  },
  pushAckTimeoutMs: {
    env: 'TE_PUSH_ACK_TIMEOUT_MS',
    group: 'push',
    kind: 'int',
    default: '10000',
    min: 100,
    max: 600_000,
    doc: 'a batch the broker has not acknowledged within this long is answered 503 (the write goes on; the same batch sent again is recognised)',
  },
  pushDedupeWindowMs: {
    env: 'TE_PUSH_DEDUPE_WINDOW_MS',
    group: 'push',
    kind: 'int',
    default: '3600000',
    min: 0,
    max: 604_800_000,
    doc: 'a pushed trade or quote whose identity (venue, symbol, id) was written this recently is a duplicate and not written again; read back from the topics at start-up',
  },
  pushDedupeMaxIds: {
    env: 'TE_PUSH_DEDUPE_MAX_IDS',
    group: 'push',
    kind: 'int',
    default: '250000',
    min: 1,
    max: 50_000_000,
    doc: 'most identities remembered for TE_PUSH_DEDUPE_WINDOW_MS (the oldest are forgotten first; about 100 bytes each)',
  },
  pushIdempotencyWindowMs: {
    env: 'TE_PUSH_IDEMPOTENCY_WINDOW_MS',
    group: 'push',
    kind: 'int',
    default: '86400000',
    min: 0,
    max: 604_800_000,
    doc: 'the answer to a batch sent with an Idempotency-Key is kept this long: the same key and body get it again, nothing is written',
  },
  pushIdempotencyMaxBytes: {
    env: 'TE_PUSH_IDEMPOTENCY_MAX_BYTES',
    group: 'push',
    kind: 'int',
    default: '67108864',
    min: 0,
    max: 4_294_967_296,
    doc: 'most bytes of kept answers (the oldest are forgotten first)',
  },
  pushLimitRps: {
    env: 'TE_PUSH_LIMIT_RPS',
    group: 'push',
    kind: 'number',
    default: '100',
    min: 0.1,
    max: 1_000_000,
    doc: "batches (HTTP requests and WebSocket messages) per second per key, burst of the same size; a key's limits.requestsPerSecond wins",
  },
  pushLimitConnections: {
    env: 'TE_PUSH_LIMIT_CONNECTIONS',
    group: 'push',
    kind: 'int',
    default: '10',
    min: 1,
    max: 100_000,
    doc: "WebSocket connections per key; a key's limits.maxConnections wins",
  },
  pushQuoteTicks: {
    env: 'TE_PUSH_QUOTE_TICKS',
    group: 'push',
    kind: 'optional',
    default: '',
    doc: "symbols whose pushed quotes also become ticks (for bars where there are no trades): rules 'pattern,pattern=side;...' with side bid, ask or mid, first match wins; each quote is a tick of size 1 at that price, trade id QB:, QA: or QM: and the quote id; empty = none",
  },
  exportStore: {
    env: 'TE_EXPORT_STORE',
    group: 'export',
    kind: 'string',
    default: 'postgres',
    choices: ['postgres', 'timescaledb', 'questdb'],
    doc: 'export: the store bars are read from (its URL is TE_PG_URL, TE_TSDB_URL or TE_QUESTDB_PG_URL, its table TE_BARS_TABLE)',
  },
  exportPageRows: {
    env: 'TE_EXPORT_PAGE_ROWS',
    group: 'export',
    kind: 'int',
    default: '10000',
    min: 1,
    max: 1_000_000,
    doc: 'export: bars per query to the store (the next page is read while one is written: an export of any size holds at most two pages)',
  },
  exportRowGroupRows: {
    env: 'TE_EXPORT_ROW_GROUP_ROWS',
    group: 'export',
    kind: 'int',
    default: '100000',
    min: 1,
    max: 10_000_000,
    doc: 'export --format parquet: bars per Parquet row group (held in memory until written: a few hundred bytes each)',
  },
} as const satisfies Record<string, KeySpec>;

type Spec = typeof CONFIG_SPEC;
type ValueOf<K extends Kind> = K extends 'int' | 'number' | 'origin'
  ? number
  : K extends 'time'
    ? number | 'now'
    : K extends 'list'
      ? string[]
      : K extends 'bool'
        ? boolean
        : K extends 'intervals'
          ? IntervalSpec[]
          : string;

export type Config = { readonly [K in keyof Spec]: ValueOf<Spec[K]['kind']> };

export function flagName(env: string): string {
  return '--' + env.replace(/^TE_/, '').toLowerCase().replace(/_/g, '-');
}

function parseValue(spec: KeySpec, raw: string, key: string): unknown {
  const trimmed = raw.trim();
  switch (spec.kind) {
    case 'optional':
      return trimmed;
    case 'string':
      if (trimmed === '') throw new ConfigError(key, 'must not be empty');
      if (spec.choices && !spec.choices.includes(trimmed)) throw new ConfigError(key, `must be one of ${spec.choices.join(', ')} (got '${trimmed}')`);
      return trimmed;
    case 'int':
    case 'number': {
      const n = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(n)) throw new ConfigError(key, `must be a number (got '${raw}')`);
      if (spec.kind === 'int' && !Number.isInteger(n)) throw new ConfigError(key, `must be an integer (got '${raw}')`);
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(key, `must be >= ${spec.min} (got ${n})`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(key, `must be <= ${spec.max} (got ${n})`);
      return n;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(trimmed)) return true;
      if (/^(0|false|no|off)$/i.test(trimmed)) return false;
      throw new ConfigError(key, `must be true or false (got '${raw}')`);
    case 'list': {
      const items = trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
      if (items.some((s) => s === '')) throw new ConfigError(key, `has an empty item (got '${raw}')`);
      if (spec.choices) {
        const bad = items.filter((s) => !spec.choices!.includes(s));
        if (bad.length) throw new ConfigError(key, `unknown item(s) ${bad.join(', ')}; allowed: ${spec.choices.join(', ')}`);
      }
      return items;
    }
    case 'url':
      try {
        new URL(trimmed);
      } catch {
        throw new ConfigError(key, `must be a URL (got '${raw}')`);
      }
      return trimmed;
    case 'time': {
      // 'now' is resolved by whoever starts the clock, at that moment, not at configuration time.
      if (trimmed === 'now') return 'now';
      const us = parseIsoMicros(trimmed);
      if (us === undefined) throw new ConfigError(key, `must be 'now' or an ISO-8601 instant (got '${raw}')`);
      return us;
    }
    case 'origin': {
      if (trimmed === 'epoch') return 0;
      const us = parseIsoMicros(trimmed);
      if (us === undefined) throw new ConfigError(key, `must be 'epoch' or an ISO-8601 instant (got '${raw}')`);
      return us;
    }
    case 'zone':
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: trimmed });
      } catch {
        throw new ConfigError(key, `must be an IANA time zone such as UTC or America/New_York (got '${raw}')`);
      }
      return trimmed;
    case 'intervals': {
      const names = trimmed.split(',').map((s) => s.trim());
      const out: IntervalSpec[] = [];
      for (const name of names) {
        try {
          out.push({ name, micros: parseInterval(name) });
        } catch (err) {
          throw new ConfigError(key, (err as Error).message);
        }
      }
      if (out.length === 0) throw new ConfigError(key, 'needs at least one interval');
      out.sort((a, b) => a.micros - b.micros);
      const base = out[0]!.micros;
      for (const iv of out) {
        if (iv.micros % base !== 0) throw new ConfigError(key, `${iv.name} is not a multiple of the smallest interval ${out[0]!.name}`);
      }
      if (new Set(out.map((i) => i.micros)).size !== out.length) throw new ConfigError(key, 'lists the same interval twice');
      return out;
    }
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Flag values by env name, e.g. { TE_SIM_RATE: '1000' }; flags win over env. */
  flags?: Record<string, string | undefined>;
}

/** Checks that involve several keys. */
function crossCheck(c: Config): void {
  try {
    SignalRules.parse(
      c.signals,
      c.intervals.map((i) => i.name),
    );
  } catch (err) {
    throw new ConfigError('TE_SIGNALS', (err as Error).message);
  }
  if (c.authEnabled && !c.jwtHs256Secret && !c.jwtRs256PublicKeyFile && !c.apiKeysFile)
    throw new ConfigError('TE_AUTH', 'is on but no credential source is set: set TE_JWT_HS256_SECRET, TE_JWT_RS256_PUBLIC_KEY_FILE or TE_API_KEYS_FILE');
  if (c.jwtHs256Secret && Buffer.byteLength(c.jwtHs256Secret) < 32)
    throw new ConfigError('TE_JWT_HS256_SECRET', 'must be at least 32 bytes (RFC 7518 asks for a key as long as the hash)');
  if (c.wsSoftLimitBytes >= c.wsMaxBufferBytes) throw new ConfigError('TE_WS_SOFT_LIMIT_BYTES', `must be below TE_WS_MAX_BUFFER_BYTES (${c.wsMaxBufferBytes})`);
  if (c.emptyBars === 'flat' && c.stateSnapshotMs === 0)
    throw new ConfigError(
      'TE_EMPTY_BARS',
      "'flat' needs state snapshots (TE_STATE_SNAPSHOT_MS > 0): the previous close of a quiet symbol must survive restarts",
    );
  if (c.feedGapWaitMs >= c.feedMaxHoldMs)
    throw new ConfigError(
      'TE_FEED_GAP_WAIT_MS',
      `must be below TE_FEED_MAX_HOLD_MS (${c.feedMaxHoldMs}): otherwise a hole is given up before the venue's history is asked`,
    );
  if (c.feed !== 'sim' && c.feedSymbols.length === 0)
    throw new ConfigError('TE_FEED_SYMBOLS', `is empty: the ${c.feed} feed needs the symbols to follow (BTC-USDT,ETH-USDT)`);
  for (const [env, url] of [
    ['TE_FEED_URL', c.feedUrl],
    ['TE_FEED_REST_URL', c.feedRestUrl],
    ['TE_SCHEMA_REGISTRY_URL', c.schemaRegistryUrl],
  ] as const) {
    if (url !== '' && !URL.canParse(url)) throw new ConfigError(env, `must be a URL or empty (got '${url}')`);
  }
  try {
    QuoteTickRules.parse(c.pushQuoteTicks);
  } catch (err) {
    throw new ConfigError('TE_PUSH_QUOTE_TICKS', (err as Error).message);
  }
  try {
    RetentionPolicy.parse(c.retention);
  } catch (err) {
    throw new ConfigError('TE_RETENTION', (err as Error).message);
  }
  try {
    if (parseDuration(c.chunkInterval) < 3_600_000_000) throw new ConfigError('TE_TSDB_CHUNK_INTERVAL', `must be at least 1h (got '${c.chunkInterval}')`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('TE_TSDB_CHUNK_INTERVAL', (err as Error).message);
  }
  if (c.compressAfter !== 'off') {
    try {
      parseDuration(c.compressAfter);
    } catch (err) {
      throw new ConfigError('TE_COMPRESS_AFTER', `${(err as Error).message}, or 'off'`);
    }
  }
  if (c.dailyTimezone !== 'UTC' && c.intervals[0]!.name === '1d')
    throw new ConfigError('TE_DAILY_TIMEZONE', 'needs a base interval below 1d (the first of TE_INTERVALS), so days roll up from it');
}

/** Build the validated, frozen configuration. Throws ConfigError naming the first bad key. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const flags = opts.flags ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(CONFIG_SPEC) as [string, KeySpec][]) {
    const fromFlag = flags[spec.env];
    const fromEnv = env[spec.env];
    const key = fromFlag !== undefined ? flagName(spec.env) : spec.env;
    const raw = fromFlag ?? fromEnv ?? spec.default;
    out[name] = parseValue(spec, raw, fromFlag !== undefined || fromEnv !== undefined ? key : `${spec.env} (default)`);
  }
  const config = Object.freeze(out) as Config;
  crossCheck(config);
  const trace = env.TE_CONFIG_TRACE;
  return trace ? traced(config, trace) : config;
}

/**
 * For tests (TE_CONFIG_TRACE=<file>): the configuration, recording every key the process reads after start-up, and
 * writing them to the file (one JSON array) when it exits. tests/cli/help.int.test.ts checks each command's --help
 * lists every key the command read.
 */
function traced(config: Config, file: string): Config {
  const read = new Set<string>();
  process.once('exit', () => writeFileSync(file, JSON.stringify([...read].sort())));
  return new Proxy(config, {
    get(target, key, receiver) {
      if (typeof key === 'string' && key in CONFIG_SPEC) read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

/** The configuration table as Markdown (README), generated from the spec so the two never drift. */
export function configMarkdown(): string {
  const rows = Object.values(CONFIG_SPEC).map(
    (s: KeySpec) => `| \`${s.env}\` | \`${flagName(s.env)}\` | \`${s.default}\` | ${s.doc}${s.choices ? ` (${s.choices.join(', ')})` : ''} |`,
  );
  return ['| env | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
