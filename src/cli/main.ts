#!/usr/bin/env node
// tick-engine <command>: the one CLI (local stack, feed, aggregator, gateway, demo).
// Each command imports what it runs when it runs (kafkajs, uWebSockets.js, pg, … take a while to load), so
// `--help`, `config` and a file replay start in a fraction of the time.
import { CONFIG_GROUPS, configMarkdown, flagName, loadConfig, type Config, type ConfigGroup } from '../config.js';
import { ConfigError, TickEngineError } from '../errors.js';
import { logger, rootLogger, type Logger } from '../log.js';
import { configHelp, parseCommandArgs, type CommandOptions, type FlagAliases } from './args.js';
import { fatal, onShutdown, type Stoppable } from './lifecycle.js';
import { LOAD_OPTIONS } from './load-options.js';
import { applyHeapGrowth } from '../runtime/heap-growth.js';

const runStack = async (action: 'up' | 'down' | 'status') => (await import('./stack.js')).runStack(action);
const createKafka = async (config: Config, clientId: string) => (await import('../stream/kafka.js')).createKafka(config, clientId);

/**
 * With TE_SCHEMA_REGISTRY_URL: this process's records carry the registry's ids (registered or looked up now, waiting
 * for the registry with backoff while it is down). `subjects`: only these topics' (a command that reads one topic).
 */
async function useSchemaRegistry(config: Config, log: Logger, role: 'writer' | 'reader', opts: { ticksOnly?: boolean } = {}): Promise<void> {
  if (!config.schemaRegistryUrl) return;
  const { prepareSchemaRegistry } = await import('../stream/schema-registry.js');
  const subjects = opts.ticksOnly ? [{ topic: config.topicTicks, subject: `${config.topicTicks}-value`, name: 'tick' as const }] : undefined;
  await prepareSchemaRegistry(config, { log, role, ...(subjects ? { subjects } : {}) });
}

/**
 * What a command reads of the configuration: whole groups, and single keys of others. Its --help lists exactly
 * these, and tests/cli/help.int.test.ts fails when a command reads a key its help does not list.
 */
interface Reads {
  groups: readonly ConfigGroup[];
  keys?: readonly (keyof Config)[];
}

interface Command {
  summary: string;
  usage: string;
  reads: Reads;
  options?: CommandOptions;
  /** Short names of configuration flags (`--symbols` for `--feed-symbols`). */
  aliases?: FlagAliases;
  /**
   * Exit code of a ConfigError (a bad flag, option or key), which is reported before the command does anything:
   * 2 for commands that treat it as a bad command line, as an unknown flag is; 1 otherwise (the default).
   */
  configErrorExit?: number;
  /** 2: the command's standard output is data (an export), so its log lines go to standard error. */
  logFd?: 1 | 2;
  /** `flags`: the configuration flags given, by env name (the demo passes them on to its child processes); `positionals`: the other arguments. */
  run(config: Config, options: Map<string, string | boolean>, args: { flags: Readonly<Record<string, string>>; positionals: string[] }): Promise<number>;
}

/** `ingest` with TE_FEED a venue: its live trades into the ticks topic until SIGINT/SIGTERM. */
async function runVenueFeed(config: Config, log: Logger): Promise<number> {
  const [{ adapterFor }, { VenueFeed }, { KafkaTickSink }, { sequencingLimits }, { configuredRules }, { scanResumePoints }, { TRADE_ID_ORDER }] =
    await Promise.all([
      import('../ingest/venues/index.js'),
      import('../ingest/feeds/venue-feed.js'),
      import('../ingest/feeds/kafka-tick-sink.js'),
      import('../ingest/feeds/trade-sequencer.js'),
      import('../ingest/feeds/venue-rules.js'),
      import('../ingest/feeds/resume-points.js'),
      import('../ingest/feeds/trade-id-order.js'),
    ]);
  const adapter = adapterFor(config.feed);
  // A symbol the venue cannot name (not BASE-QUOTE) fails here, before the broker is contacted.
  for (const symbol of config.feedSymbols) adapter.venueSymbol(symbol);
  const kafka = await createKafka(config, 'ingest');
  const sink = await KafkaTickSink.open(config, kafka, log);
  let feed;
  try {
    // Only ids that give an order have a "last one" to continue after (Bybit's do not: TRADE_ID_ORDER).
    const resume =
      TRADE_ID_ORDER[adapter.venue] === 'contiguous'
        ? await scanResumePoints(kafka, {
            topic: config.topicTicks,
            clientId: config.kafkaClientId,
            perPartition: config.feedResumeScan,
            venue: adapter.venue,
            venueSymbolOf: new Map(config.feedSymbols.map((s) => [s, adapter.venueSymbol(s)])),
            log,
          })
        : undefined;
    feed = new VenueFeed({
      ...(resume ? { resumeAfter: resume.points } : {}),
      adapter,
      symbols: config.feedSymbols,
      sink,
      limits: sequencingLimits(config),
      maxAheadMicros: config.maxFutureMs * 1000,
      rules: configuredRules(adapter.venue, config),
      backoffMaxMs: config.feedBackoffMaxMs,
      ...(config.feedUrl ? { url: config.feedUrl } : {}),
      ...(config.feedRestUrl ? { restUrl: config.feedRestUrl } : {}),
      onFatal: fatal(log, 'venue feed'),
      log,
    });
  } catch (err) {
    await sink.close();
    throw err;
  }
  const running = feed;
  const parts: Stoppable[] = [
    { name: 'kafka producer', stop: () => sink.close() },
    { name: 'venue feed', stop: () => running.stop() },
  ];
  if (config.feedMetricsPort > 0) {
    const { startMetricsServer } = await import('../metrics-server.js');
    const metrics = await startMetricsServer(config.gatewayHost, config.feedMetricsPort, {
      health: () => ({ ...running.health() }),
      readiness: () => (running.connected ? { ready: true } : { ready: false, waitingFor: 'venue connections' }),
    }).catch(async (err: unknown) => {
      await sink.close();
      throw err;
    });
    parts.push({ name: 'metrics', stop: () => metrics.stop() });
    log.info({ url: `http://${config.gatewayHost}:${metrics.port}/metrics` }, 'metrics and /health');
  }
  feed.start();
  await onShutdown(log, parts);
  return 0;
}

/** Every command logs (the level is set before it runs). */
const LOG: Reads = { groups: ['log'] };

const COMMANDS: Record<string, Command> = {
  up: { summary: 'install (cached) and start Kafka, QuestDB, PostgreSQL 15 and TimescaleDB locally', usage: 'up', reads: LOG, run: () => runStack('up') },
  down: { summary: 'stop the local stack', usage: 'down', reads: LOG, run: () => runStack('down') },
  status: { summary: 'show which local servers run', usage: 'status', reads: LOG, run: () => runStack('status') },
  ingest: {
    summary:
      "run a feed into the ticks topic: the simulated exchange, a venue's live trades (--feed binance --symbols BTC-USDT,ETH-USDT), or a file's trades, exactly once and resumable (--file BTCUSDT-trades-2024-01-01.zip)",
    usage:
      'ingest [--feed binance|coinbase|kraken|bybit|okx --symbols A,B] [--sim-rate N] [--sim-seed N] [--sim-duration-s S] ... | ingest --file PATH [--format F] [--venue V] [--symbol S] [--backfill-batch N]',
    // A venue feed's /metrics and /health bind to the gateway's address, as the aggregator's do.
    reads: { groups: ['log', 'kafka', 'topics', 'feed', 'venueFeed', 'validation', 'backfill'], keys: ['gatewayHost'] },
    aliases: { symbols: 'TE_FEED_SYMBOLS' },
    options: {
      file: [
        'string',
        "publish this file's trades to the ticks topic, exactly once: rerun the same command after a crash or a stop to resume after the last committed transaction; rerun after the end, nothing happens. A CSV tick file (header venue,symbol,eventTime,price,size,side,tradeId), an Avro container tick file (.avro), or a Binance trades or aggTrades dump (SYMBOL-trades-DATE.zip or .csv, with or without header; ms or µs times)",
      ],
      format: ['string', 'the file format: auto (the default: .avro, else the first line decides), ticks-csv, ticks-avro, binance-trades, binance-aggtrades'],
      venue: ['string', 'Binance dumps: the venue on every tick (default BINANCE)'],
      symbol: ['string', "Binance dumps: the symbol, BTCUSDT or BTC-USDT (default: the file name's)"],
    },
    run: async (config, options) => {
      const log = logger('ingest');
      await useSchemaRegistry(config, log, 'writer');
      if (options.has('file')) return (await import('./ingest-file.js')).runIngestFile(config, options, log);
      for (const o of ['format', 'venue', 'symbol']) if (options.has(o)) throw new ConfigError(`--${o}`, 'applies to --file only');
      if (config.feed !== 'sim') return runVenueFeed(config, log);
      const { FeedProducer } = await import('../ingest/feed-producer.js');
      const feed = new FeedProducer(config, await createKafka(config, 'ingest'), log);
      await feed.start();
      const abort = new AbortController();
      const done = onShutdown(log, [{ name: 'feed', stop: async () => abort.abort() }]);
      await feed.run({ signal: abort.signal });
      await feed.stop();
      if (abort.signal.aborted) await done;
      return 0;
    },
  },
  aggregate: {
    summary: 'aggregate ticks into final bars, write them to the stores and the bars topic',
    usage: 'aggregate [--intervals 1s,1m] [--sinks postgres,timescaledb,questdb] ...',
    // The metrics endpoint binds to the gateway's address.
    reads: { groups: ['log', 'kafka', 'topics', 'bars', 'validation', 'aggregator', 'stores'], keys: ['gatewayHost'] },
    run: async (config) => {
      const log = logger('aggregate');
      const [{ Aggregator }, { createSinks }] = await Promise.all([import('../runtime/aggregator.js'), import('../stores/create-sinks.js')]);
      applyHeapGrowth(config.heapGrowthPercent, log);
      const agg = new Aggregator(config, {
        kafka: await createKafka(config, 'aggregate'),
        sinks: createSinks(config, log),
        log,
        onFatal: fatal(log, 'aggregator'),
      });
      const parts: Stoppable[] = [];
      if (config.metricsPort > 0) {
        const { startMetricsServer } = await import('../metrics-server.js');
        const metrics = await startMetricsServer(config.gatewayHost, config.metricsPort, { readiness: () => agg.readiness() });
        parts.push({ name: 'metrics', stop: () => metrics.stop() });
        log.info({ url: `http://${config.gatewayHost}:${metrics.port}/metrics` }, 'metrics');
      }
      await agg.start();
      parts.push({ name: 'aggregator', stop: () => agg.stop() });
      await onShutdown(log, parts);
      return 0;
    },
  },
  archive: {
    summary: 'keep every valid tick of the ticks topic in a QuestDB table (TE_TICKS_TABLE), exactly once across restarts, for REST /api/v1/trades and export',
    usage: 'archive [--ticks-table ticks] [--archive-group tick-engine-archive]',
    // The metrics endpoint binds to the gateway's address; the consumer is restarted after a broker outage with
    // backoff up to TE_RETRY_MAX_MS, its session as the aggregators'.
    reads: { groups: ['log', 'kafka', 'topics', 'archive'], keys: ['questdbHttp', 'gatewayHost', 'retryMaxMs', 'aggSessionTimeoutMs'] },
    run: async (config) => {
      const log = logger('archive');
      const { TickArchiver } = await import('../runtime/tick-archiver.js');
      const archiver = new TickArchiver(config, { kafka: await createKafka(config, 'archive'), log, onFatal: fatal(log, 'archive') });
      const parts: Stoppable[] = [];
      if (config.archiveMetricsPort > 0) {
        const { startMetricsServer } = await import('../metrics-server.js');
        const metrics = await startMetricsServer(config.gatewayHost, config.archiveMetricsPort, { readiness: () => archiver.readiness() });
        parts.push({ name: 'metrics', stop: () => metrics.stop() });
        log.info({ url: `http://${config.gatewayHost}:${metrics.port}/metrics` }, 'metrics');
      }
      await archiver.start();
      parts.push({ name: 'archive', stop: () => archiver.stop() });
      await onShutdown(log, parts);
      return 0;
    },
  },
  gateway: {
    summary: 'serve live bars, trades and signals over WebSocket, REST history and quotes, /health, /metrics and the chart page',
    usage: 'gateway [--gateway-port 8088]',
    // History is read from a store; the intervals are what subscriptions and queries may name; the Kafka
    // consumer is restarted after a broker outage with backoff up to TE_RETRY_MAX_MS.
    reads: {
      groups: ['log', 'kafka', 'topics', 'gateway', 'auth'],
      keys: ['intervals', 'barsTable', 'ticksTable', 'pgUrl', 'tsdbUrl', 'questdbPgUrl', 'pgIdleCloseMs', 'retryMaxMs'],
    },
    run: async (config) => {
      const log = logger('gateway');
      const { Gateway } = await import('../gateway/server.js');
      const gw = new Gateway(config, await createKafka(config, 'gateway'), log, { onFatal: fatal(log, 'gateway') });
      await gw.start();
      await onShutdown(log, [{ name: 'gateway', stop: () => gw.stop() }]);
      return 0;
    },
  },
  'push-gateway': {
    summary:
      'take trades and quotes pushed by brokers and MetaTrader 5 (POST /v1/ticks, WebSocket /v1/ticks/ws; API keys from TE_PUSH_KEYS_FILE) into the ticks and quotes topics',
    usage: 'push-gateway --push-keys-file keys.json [--push-port 8089] [--push-quote-ticks "EUR*=mid"] ...',
    // Validation's TE_MAX_FUTURE_MS bounds pushed event times as it bounds the feeds'.
    reads: { groups: ['log', 'kafka', 'topics', 'validation', 'push'] },
    run: async (config) => {
      const log = logger('push');
      await useSchemaRegistry(config, log, 'writer');
      const { PushServer } = await import('../push/server.js');
      const server = await PushServer.start(config, await createKafka(config, 'push'), log);
      await onShutdown(log, [{ name: 'push-gateway', stop: () => server.stop() }]);
      return 0;
    },
  },
  demo: {
    summary: 'start the local stack and the whole engine (feed → Kafka → bars → stores, tick archive → gateway → chart) until Ctrl-C',
    usage: 'demo [--keep-stack] [--demo-venues binance,okx] [--standin-rate N] [--sim-rate N] [--gateway-port N] ...',
    reads: { groups: Object.keys(CONFIG_GROUPS) as ConfigGroup[] },
    options: { 'keep-stack': ['boolean', 'leave the local stack running after Ctrl-C'] },
    run: async (config, options, { flags }) => {
      const log = logger('demo');
      const code = await runStack('up');
      if (code !== 0) return code;
      const parts: Stoppable[] = [];
      const stopStack = async () => {
        if (!options.has('keep-stack')) await runStack('down');
      };
      const [{ Aggregator }, { createSinks }, { Gateway }, { FeedProducer }, { TickArchiver }] = await Promise.all([
        import('../runtime/aggregator.js'),
        import('../stores/create-sinks.js'),
        import('../gateway/server.js'),
        import('../ingest/feed-producer.js'),
        import('../runtime/tick-archiver.js'),
      ]);
      try {
        const agg = new Aggregator(config, {
          kafka: await createKafka(config, 'aggregate'),
          sinks: createSinks(config, log),
          log: logger('aggregate'),
          onFatal: fatal(log, 'aggregator'),
        });
        await agg.start();
        parts.push({ name: 'aggregator', stop: () => agg.stop() });
        // The tick archive, so the chart's REST trades (GET /api/v1/trades/:symbol) have the demo's trades.
        const archiver = new TickArchiver(config, { kafka: await createKafka(config, 'archive'), log: logger('archive'), onFatal: fatal(log, 'archive') });
        await archiver.start();
        parts.push({ name: 'archive', stop: () => archiver.stop() });
        // One process: the gateway's /ready also reports the aggregator's dependencies.
        const gw = new Gateway(config, await createKafka(config, 'gateway'), logger('gateway'), {
          readiness: () => agg.readiness(),
          onFatal: fatal(log, 'gateway'),
        });
        await gw.start();
        parts.push({ name: 'gateway', stop: () => gw.stop() });
        let firstSymbol = config.simSymbols > 0 ? 'BTC-USD' : '';
        if (config.demoVenues.length > 0) {
          // Venue stand-ins fed by the simulator, read by real `ingest --feed` processes.
          const { startDemoVenues } = await import('./demo-venues.js');
          const venues = await startDemoVenues(config, flags, log);
          parts.push(...venues.parts);
          firstSymbol = venues.symbols[0] ?? '';
          process.stdout.write(`\n  Venue stand-ins (${config.demoVenues.join(', ')}) trade ${venues.symbols.join(', ')}.`);
        } else {
          const feed = new FeedProducer(config, await createKafka(config, 'ingest'), logger('ingest'));
          await feed.start();
          const abort = new AbortController();
          parts.push({
            name: 'feed',
            stop: async () => {
              abort.abort();
              await running;
              await feed.stop();
            },
          });
          const running = feed.run({ signal: abort.signal }).catch((err: unknown) => fatal(log, 'feed')(err as Error));
        }
        process.stdout.write(
          `\n  tick-engine demo is running.\n  Live chart: ${gw.url}?symbol=${firstSymbol}&interval=${config.intervals[0]!.name}\n  Metrics:    ${gw.url}metrics\n  Ctrl-C to stop${options.has('keep-stack') ? '' : ' (the local stack stops too; --keep-stack keeps it)'}.\n\n`,
        );
      } catch (err) {
        for (const p of parts.reverse()) await p.stop().catch(() => undefined);
        await stopStack();
        throw err;
      }
      await onShutdown(log, parts, stopStack);
      return 0;
    },
  },
  'venue-standin': {
    summary:
      "serve one venue's protocol (WebSocket trades and REST history) on 127.0.0.1, fed live by the simulator, for ingest --feed to read (TE_FEED_URL, TE_FEED_REST_URL)",
    usage: 'venue-standin --venue binance|coinbase|kraken|bybit|okx [--port N] [--symbols A,B] [--rate N]',
    // The simulator's seed seeds its trades.
    reads: { groups: ['log', 'standin'], keys: ['simSeed'] },
    aliases: { port: 'TE_STANDIN_PORT', symbols: 'TE_STANDIN_SYMBOLS', rate: 'TE_STANDIN_RATE' },
    options: { venue: ['string', 'the venue whose protocol it speaks: binance, coinbase, kraken, bybit or okx (required)'] },
    run: async (config, options) => (await import('./venue-standin.js')).runVenueStandin(config, options, logger('standin')),
  },
  replay: {
    summary: 'replay past ticks (Kafka from an offset or a time, a CSV or Avro file, or the tick archive) in pure event time; bars as JSON lines',
    usage: 'replay [--from-offset N | --from-time ISO | --file ticks.csv|ticks.avro | --archive [--from-time ISO]] [--include-open] [--out bars.jsonl]',
    // --archive reads the tick archive over QuestDB's PostgreSQL wire.
    reads: {
      groups: ['log', 'kafka', 'bars', 'validation'],
      keys: ['topicTicks', 'schemaRegistryUrl', 'ticksTable', 'questdbPgUrl', 'pgIdleCloseMs', 'heapGrowthPercent', 'aggBarRows'],
    },
    options: {
      'from-offset': ['string', 'start every partition at this offset (default: the earliest)'],
      'from-time': ['string', 'start every partition at the first record at or after this instant'],
      file: [
        'string',
        'read ticks from this file instead of Kafka: CSV (header venue,symbol,eventTime,price,size,side,tradeId) or, if it ends in .avro, an Avro object container file with the tick schema (codec null or deflate)',
      ],
      archive: [
        'boolean',
        'read ticks from the tick archive (TE_TICKS_TABLE in QuestDB, written by tick-engine archive) in event-time order, from --from-time if given',
      ],
      'include-open': [
        'boolean',
        'at the end of the input, also write the bars still open then, at every interval, as if their buckets closed now (final: false), after all final bars',
      ],
      out: ['string', "write bars here (default '-': standard output); progress goes to standard error"],
    },
    run: async (config, options) => {
      applyHeapGrowth(config.heapGrowthPercent, logger('replay'));
      if (!options.has('file') && !options.has('archive')) await useSchemaRegistry(config, logger('replay'), 'reader', { ticksOnly: true });
      return (await import('./replay.js')).runReplay(config, options);
    },
  },
  load: {
    summary:
      'load-test a gateway with thousands of WebSocket clients (and REST): a scenario of bench/scenarios (smoke, charts-10k, slow-readers, reconnect-storm, rest-history, soak) with thresholds that set the exit code (99 when one fails)',
    usage: 'load <scenario|file.json> [--url ws://127.0.0.1:8088/ws --token T --feed none] [--param name=value] [--threshold EXPR] [--workers N] [--out DIR]',
    // A gateway the run starts and the synthetic feed use the Kafka settings; the topics are the run's own.
    reads: { groups: ['log', 'kafka', 'topics'], keys: ['intervals', 'ticksPartitions', 'pgUrl', 'barsTable'] },
    options: LOAD_OPTIONS,
    run: async (config, options, { positionals }) => (await import('./load.js')).runLoad(config, options, positionals, logger('load')),
  },
  export: {
    summary:
      'export bars of symbols matching patterns, of some intervals and a time range, from a store (TE_EXPORT_STORE) to CSV, JSON lines or Parquet, with progress on standard error',
    usage:
      "export --symbols 'BTC-*,ETH-USD' [--interval 1m,1h] [--from ISO|µs] [--to ISO|µs] [--store postgres|timescaledb|questdb] [--format csv|jsonl|parquet] [--out FILE|-]",
    // Of the stores' keys, those that find and read the chosen store (not the sinks').
    reads: { groups: ['log', 'export'], keys: ['barsTable', 'ticksTable', 'pgUrl', 'tsdbUrl', 'questdbPgUrl', 'pgIdleCloseMs', 'storeTimeoutMs'] },
    aliases: { store: 'TE_EXPORT_STORE' },
    configErrorExit: 2,
    logFd: 2,
    options: {
      what: ['string', "what to export: 'bars' (the default, from TE_EXPORT_STORE) or 'ticks' (the tick archive in QuestDB, TE_TICKS_TABLE; no --interval)"],
      symbols: ['string', "symbols or patterns, comma-separated: '*' any run of characters, '?' one ('BTC-*,ETH-USD'; '*' for all); required"],
      interval: ['string', 'interval names, comma-separated (1m,1h); default: every interval the store holds'],
      from: ['string', 'first bucket start to export (inclusive): an ISO-8601 instant or µs since the epoch; default: the earliest'],
      to: ['string', 'bucket starts before this (exclusive): an ISO-8601 instant or µs since the epoch; default: the latest'],
      format: ['string', "csv, jsonl or parquet; default: from the --out file's extension (.csv, .jsonl, .ndjson, .parquet), csv on standard output"],
      out: [
        'string',
        "the file to write (written as FILE.partial, renamed once complete; removed on a stop or a failure), or '-' for standard output (csv and jsonl only; the default)",
      ],
    },
    run: async (config, options) => (await import('./export/run-export.js')).runExport(config, options, logger('export')),
  },
  migrate: {
    summary:
      'apply the pending schema steps to the tables of every store in TE_SINKS and to the tick archive when it exists (recorded in te_schema_migrations; the aggregator and the archive command apply them at start-up too)',
    usage: 'migrate [--dry-run] [--sinks postgres,timescaledb,questdb] [--bars-table bars]',
    reads: { groups: ['log', 'stores'], keys: ['ticksTable'] },
    options: { 'dry-run': ['boolean', 'list the pending steps of each store, change nothing'] },
    run: async (config, options) => (await import('./storage.js')).runMigrate(config, options, logger('migrate')),
  },
  maintain: {
    summary:
      'apply the storage policies once: TE_RETENTION per interval, TimescaleDB compression (or its own jobs on a server that runs them), PostgreSQL partitions ahead, QuestDB TTL, the tick archive TTL (TE_ARCHIVE_TTL_DAYS); one JSON report per store',
    usage: 'maintain [--retention 1s=7d,1m=180d,1d=forever] [--compress-after 2d] [--partitions-ahead 7] [--sinks ...]',
    // The intervals the engine writes are the ones whose rows expire (with those TE_RETENTION names).
    reads: { groups: ['log', 'stores'], keys: ['intervals', 'ticksTable', 'archiveTtlDays'] },
    run: async (config) => (await import('./storage.js')).runMaintain(config, logger('maintain')),
  },
  backup: {
    summary:
      'back up every bar and signal of each store in TE_SINKS, and the tick archive, into a new directory (JSON lines and a manifest with counts and SHA-256)',
    usage: 'backup --out DIR [--sinks postgres,timescaledb,questdb]',
    reads: { groups: ['log', 'stores'], keys: ['ticksTable', 'historyStore'] },
    options: { out: ['string', 'the directory to write (new, or empty); required'] },
    run: async (config, options) => {
      const out = options.get('out') as string | undefined;
      if (!out) throw new ConfigError('--out', 'is required: the directory to write the backup into');
      const { backup } = await import('../stores/backup.js');
      const m = await backup(config, out, logger('backup'));
      process.stdout.write(JSON.stringify({ backup: out, files: m.files }, null, 2) + '\n');
      return 0;
    },
  },
  restore: {
    summary:
      'write a backup (tick-engine backup) back into the stores of TE_SINKS it holds and into the tick archive, through the migrations and the idempotent upserts, after checking every file against its manifest',
    usage: 'restore --from DIR [--sinks postgres,timescaledb,questdb]',
    reads: { groups: ['log', 'stores'], keys: ['ticksTable'] },
    options: { from: ['string', 'the backup directory; required'] },
    run: async (config, options) => {
      const from = options.get('from') as string | undefined;
      if (!from) throw new ConfigError('--from', 'is required: the backup directory to restore');
      const { restore } = await import('../stores/backup.js');
      const written = await restore(config, from, logger('restore'));
      process.stdout.write(JSON.stringify({ restored: from, rows: written }, null, 2) + '\n');
      return 0;
    },
  },
  config: {
    summary: 'print the configuration keys, their env names, flags and defaults (Markdown)',
    usage: 'config',
    reads: LOG,
    run: async () => {
      process.stdout.write(configMarkdown() + '\n');
      return 0;
    },
  },
};

function mainHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: tick-engine <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nEvery option is also an environment variable (see 'tick-engine config').\nRun 'tick-engine <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`tick-engine: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseCommandArgs(rest, cmd.options ?? {}, cmd.aliases ?? {});
  } catch (err) {
    process.stderr.write(`tick-engine ${name}: ${(err as Error).message}\nRun 'tick-engine ${name} --help'.\n`);
    return 2;
  }
  if (parsed.help) {
    const sw = [
      ...Object.entries(cmd.options ?? {}).map(([name, [type, help]]) => `  ${`--${name}${type === 'string' ? ' VALUE' : ''}`.padEnd(26)} ${help}`),
      ...Object.entries(cmd.aliases ?? {}).map(([name, env]) => `  ${`--${name} VALUE`.padEnd(26)} the same as ${flagName(env)}`),
    ].join('\n');
    process.stdout.write(
      `usage: tick-engine ${cmd.usage}\n\n${cmd.summary}\n\n${configHelp(cmd.reads.groups, cmd.reads.keys ?? [])}\n${sw ? `\n${cmd.usage.split(' ')[0]} options:\n${sw}\n` : ''}  --help                     this text\n`,
    );
    return 0;
  }
  try {
    const config = loadConfig({ flags: parsed.flags, env: name === 'demo' ? { TE_IDLE_CLOSE_MS: '1000', ...process.env } : process.env });
    rootLogger(config.logLevel, { fd: cmd.logFd ?? 1 });
    return await cmd.run(config, parsed.options, { flags: parsed.flags, positionals: parsed.positionals });
  } catch (err) {
    if (!(err instanceof ConfigError) || cmd.configErrorExit === undefined) throw err;
    process.stderr.write(`tick-engine ${name}: ${err.code}: ${err.message}\nRun 'tick-engine ${name} --help'.\n`);
    return cmd.configErrorExit;
  }
}

/**
 * How long a command that has finished (every part stopped) may stay alive before it exits anyway. A handle left open
 * — a client library's socket reopened during the shutdown, as a kafkajs connection after a broker restart was seen to
 * be in the faults e2e — would otherwise keep the process running for ever after a clean stop, and SIGTERM would no
 * longer end it (its handler has run).
 */
const EXIT_GRACE_MS = 2000;

main(process.argv.slice(2)).then(
  (code) => {
    // A component that failed for good set a non-zero code before the shutdown it triggered: keep it.
    process.exitCode = Math.max(code, Number(process.exitCode ?? 0));
    setTimeout(() => {
      const left = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
      logger('cli').warn({ left, graceMs: EXIT_GRACE_MS }, 'still running after the command finished: exiting');
      process.exit();
    }, EXIT_GRACE_MS).unref();
  },
  (err: unknown) => {
    const e = err as TickEngineError;
    if (e instanceof TickEngineError) process.stderr.write(`tick-engine: ${e.code}: ${e.message}\n`);
    else process.stderr.write(`tick-engine: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
