// `tick-engine replay`: past ticks (Kafka from an offset or a time, a CSV or Avro file, or the tick archive) → bars as
// JSON lines.
import { createWriteStream, type WriteStream } from 'node:fs';
import fastJson from 'fast-json-stringify';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { csvTickCursors } from '../ingest/files/csv-tick-reader.js';
import { avroTickCursors } from '../ingest/files/avro-file-reader.js';
import type { Bar } from '../contracts/bar.js';
import { ArrayTickCursor, type TickCursor } from '../contracts/tick-cursor.js';
import { replay, type ReplayPartition } from '../runtime/replay.js';
import { BAR_JSON_SCHEMA } from '../gateway/ws/protocol.js';
import { Progress } from './progress.js';

const serializeBar = fastJson(BAR_JSON_SCHEMA) as (b: Bar) => string;

async function* kafkaPartitions(config: Config, from: { offset?: number; time?: number }, setTotal: (n: number) => void): AsyncGenerator<ReplayPartition> {
  // kafkajs is loaded only for a Kafka replay (offsets, leaders); the records come over replay's own fetches.
  const [{ createKafka }, { fetchPartition, partitionLeaders }, { packedCursors }] = await Promise.all([
    import('../stream/kafka.js'),
    import('../stream/fetch/index.js'),
    import('../stream/packed-batch.js'),
  ]);
  const kafka = createKafka(config, 'replay');
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(config.topicTicks);
  const starts = from.time !== undefined ? await admin.fetchTopicOffsetsByTimestamp(config.topicTicks, from.time) : undefined;
  const leaders = await partitionLeaders(admin, config.topicTicks);
  await admin.disconnect();
  const ranges = ends
    .map((e) => {
      const low = Number(e.low);
      const start = starts ? Number(starts.find((s) => s.partition === e.partition)!.offset) : Math.max(low, from.offset ?? low);
      return { partition: e.partition, from: start, to: Number(e.high) };
    })
    .sort((a, b) => a.partition - b.partition);
  setTotal(ranges.reduce((n, r) => n + Math.max(0, r.to - r.from), 0));
  for (const r of ranges)
    yield {
      partition: r.partition,
      batches: packedCursors(fetchPartition(leaders(r.partition), `${config.kafkaClientId}-replay`, config.topicTicks, r.partition, r.from, r.to)),
    };
}

async function* filePartitions(path: string): AsyncGenerator<ReplayPartition> {
  async function* batches(): AsyncGenerator<TickCursor> {
    yield* path.endsWith('.avro') ? avroTickCursors(path) : csvTickCursors(path);
  }
  yield { partition: 0, batches: batches() };
}

/** The tick archive (QuestDB) from `from` on, in event-time order, as one partition. */
async function* archivePartitions(config: Config, from: number): AsyncGenerator<ReplayPartition> {
  const { TradeHistory } = await import('../stores/trade-history.js');
  const trades = new TradeHistory(config);
  async function* batches(): AsyncGenerator<TickCursor> {
    let offset = 0;
    try {
      for await (const page of trades.inTimeOrder({ from, to: ARCHIVE_END, pageRows: 10_000 })) {
        yield new ArrayTickCursor(page, offset);
        offset += page.length;
      }
    } finally {
      await trades.close();
    }
  }
  yield { partition: 0, batches: batches() };
}

/** Later than any tick (2200-01-01, as the REST bounds). */
const ARCHIVE_END = 7_258_118_400_000_000;

export async function runReplay(config: Config, options: Map<string, string | boolean>): Promise<number> {
  const file = options.get('file') as string | undefined;
  const fromOffset = options.get('from-offset') as string | undefined;
  const fromTime = options.get('from-time') as string | undefined;
  if (fromOffset !== undefined && !/^\d+$/.test(fromOffset)) throw new ConfigError('--from-offset', `must be a non-negative integer (got '${fromOffset}')`);
  if (fromTime !== undefined && Number.isNaN(Date.parse(fromTime))) throw new ConfigError('--from-time', `must be an ISO-8601 instant (got '${fromTime}')`);
  if (file && (fromOffset !== undefined || fromTime !== undefined))
    throw new ConfigError('--file', 'reads a whole file: --from-offset/--from-time apply to Kafka only');
  const archive = options.get('archive') === true;
  if (archive && (file !== undefined || fromOffset !== undefined))
    throw new ConfigError('--archive', 'reads the tick archive: not with --file or --from-offset (--from-time chooses where it starts)');
  const includeOpen = options.get('include-open') === true;
  const outPath = (options.get('out') as string | undefined) ?? '-';
  const out: NodeJS.WritableStream = outPath === '-' ? process.stdout : createWriteStream(outPath);
  let total: number | undefined;
  const progress = new Progress(`replay ${file ?? (archive ? `archive ${config.ticksTable}` : config.topicTicks)}`, undefined);
  const source = file
    ? filePartitions(file)
    : archive
      ? archivePartitions(config, fromTime !== undefined ? Date.parse(fromTime) * 1000 : 0)
      : kafkaPartitions(
          config,
          { offset: fromOffset !== undefined ? Number(fromOffset) : undefined, time: fromTime !== undefined ? Date.parse(fromTime) : undefined },
          (n) => {
            total = n;
            progress.total = n;
          },
        );
  const write = (text: string) => (out.write(text) ? undefined : new Promise<void>((r) => out.once('drain', () => r())));
  const stats = await replay(config, source, (bars) => write(bars.map((b) => serializeBar(b) + '\n').join('')), {
    onProgress: (n) => progress.update(n),
    includeOpen,
  });
  progress.finish(stats.records);
  if (out !== process.stdout) await new Promise<void>((r) => (out as WriteStream).end(() => r()));
  // Wall time from process start and CPU time of the whole process (every thread): what per-core rates use.
  const wall = performance.now() / 1000;
  const cpu = process.cpuUsage();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stderr.write(
    `replayed ${stats.records}${total !== undefined ? ` of ${total}` : ''} records: ${stats.accepted} ticks accepted, ${stats.bars} bar versions${includeOpen ? ` and ${stats.openBars} open bars (final: false)` : ''} written to ${outPath}${Object.keys(stats.rejected).length ? `, rejected ${JSON.stringify(stats.rejected)}` : ''}\n` +
      `in ${wall.toFixed(2)} s since process start, ${cpuSeconds.toFixed(2)} s CPU: ${Math.round(stats.records / cpuSeconds)} records per CPU second\n`,
  );
  return 0;
}
