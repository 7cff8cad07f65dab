// Replay benchmark: ticks/s and peak RSS of `tick-engine replay` over a topic of NE ticks, beside Kafka's
// ConsumerPerformance reading the same topic; of `tick-engine replay --file` over a CSV of NE ticks, beside
// parsing that file alone, and over an Avro container file, beside avsc's own file decoder; and the aggregation core alone in process beside a bare Avro decode loop over
// the same records. Writes JSON to bench/results/.
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import avro from 'avsc';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { FeedProducer } from '../src/ingest/feed-producer.js';
import { FeedSimulator } from '../src/ingest/simulator.js';
import { CSV_HEADER, tickToCsv } from '../src/ingest/files/csv-ticks.js';
import { readCsvTickBatches } from '../tests/helpers/tick-records.js';
import { logger } from '../src/log.js';
import { projectRoot } from '../src/paths.js';
import { packedCursors, type PackedBatch } from '../src/stream/packed-batch.js';
import { replay, type ReplayPartition } from '../src/runtime/replay.js';
import { createKafka } from '../src/stream/kafka.js';
import { schema } from '../src/stream/schemas.js';
import { encode } from '../src/stream/serde.js';
import { emptyTick } from '../src/contracts/tick-cursor.js';
import { TickDecoder } from '../src/stream/tick-decoder.js';
import { runCli } from '../tests/helpers/cli.js';
import { testEnv } from '../tests/helpers/env.js';
import { consumerPerf } from './kafka-perf.js';

/** Ticks in the in-process core measurement. */
const N = Number(process.env.BENCH_REPLAY_TICKS ?? 1_000_000);
/** Ticks each `tick-engine replay` run reads (files, topic): enough that process start-up (~0.2 s) is not most of it. */
const NE = Number(process.env.BENCH_REPLAY_E2E_TICKS ?? 5_000_000);
/** Records per batch handed to replay in the core measurement: about what one 256 KiB Kafka fetch holds. */
const REPLAY_SOURCE_BATCH = 2500;
const progress = (m: string) => process.stderr.write(`[bench:replay] ${m}\n`);

/** The process's peak RSS so far; 0 once it has exited (a zombie's status has no memory lines). */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function core() {
  // Pre-encoded wire-format records, back to back in one buffer (so the records themselves cost little RSS).
  const sim = simulated();
  const s = schema('tick');
  const parts: Buffer[] = [];
  for (let i = 0; i < N; i++) parts.push(encode(s, sim.next()));
  const lengths = parts.map((p) => p.length);
  const all = Buffer.concat(parts);
  parts.length = 0;
  const records = function* () {
    let pos = 0;
    for (let i = 0; i < N; i++) {
      const len = lengths[i]!;
      yield { offset: i, value: all.subarray(pos, pos + len) };
      pos += len;
    }
  };
  // Reference: decoding alone, with avsc (what the engine used before) and with the tick decoder.
  let t0 = performance.now();
  let sink = 0;
  for (const r of records()) sink += (s.type.decode(r.value, 5).value as { price: number }).price;
  const decodeRate = N / ((performance.now() - t0) / 1000);
  const decoder = new TickDecoder();
  const tick = emptyTick();
  t0 = performance.now();
  for (let i = 0, pos = 0; i < N; i++) {
    const end = pos + lengths[i]!;
    if (decoder.decodeInto(all, pos, end, tick) !== null) throw new Error(`record ${i} does not decode`);
    sink += tick.price;
    pos = end;
  }
  const tickDecoderRate = N / ((performance.now() - t0) / 1000);
  // The replay source hands over packed batches the size of a Kafka fetch (views into `all`, no copies).
  const batches: PackedBatch[] = [];
  for (let i = 0, pos = 0; i < N; i += REPLAY_SOURCE_BATCH) {
    const count = Math.min(REPLAY_SOURCE_BATCH, N - i);
    const batchLengths = Int32Array.from(lengths.slice(i, i + count));
    const size = batchLengths.reduce((a, b) => a + b, 0);
    batches.push({ data: all.subarray(pos, pos + size), lengths: batchLengths, offsets: Float64Array.from(batchLengths, (_, k) => i + k) });
    pos += size;
  }
  const config = loadConfig({ env: { TE_INTERVALS: '1s,5s,15s,1m,5m,15m,1h,4h,1d' } });
  async function* source(): AsyncGenerator<ReplayPartition> {
    async function* it() {
      yield* batches;
    }
    yield { partition: 0, batches: packedCursors(it()) };
  }
  // The first run (as measured before the tick decoder, JIT warm-up included), then two more: best of those.
  const rates: number[] = [];
  let bars = 0;
  for (let run = 0; run < 3; run++) {
    t0 = performance.now();
    bars = 0;
    await replay(config, source(), (b) => void (bars += b.length));
    rates.push(N / ((performance.now() - t0) / 1000));
  }
  const replayRate = rates[0]!;
  const warmRate = Math.max(rates[1]!, rates[2]!);
  return {
    ticks: N,
    intervals: config.intervals.map((i) => i.name),
    decodeOnlyTicksPerSec: Math.round(decodeRate),
    tickDecoderTicksPerSec: Math.round(tickDecoderRate),
    replayCoreTicksPerSec: Math.round(replayRate),
    replayCoreWarmTicksPerSec: Math.round(warmRate),
    ratio: Number((replayRate / decodeRate).toFixed(3)),
    bars,
    checksum: sink > 0,
  };
}

/**
 * Run `tick-engine <args>` to completion: wall seconds (process start included), peak RSS, and the CPU seconds
 * the command reports for its whole process (all threads): records per CPU second is the per-core rate.
 */
async function timedReplay(args: string[], env: NodeJS.ProcessEnv): Promise<{ secs: number; rss: number; cpuSecs: number }> {
  const t0 = performance.now();
  const proc = runCli(args, env);
  let rss = 0;
  const timer = setInterval(() => {
    try {
      rss = Math.max(rss, peakRssMb(proc.child.pid!));
    } catch {
      // exited
    }
  }, 200);
  const code = await proc.exited;
  clearInterval(timer);
  if (code !== 0) throw new Error(`replay failed:\n${proc.output()}`);
  const cpu = /([\d.]+) s CPU/.exec(proc.output());
  if (!cpu) throw new Error(`replay did not report its CPU time:\n${proc.output()}`);
  return { secs: (performance.now() - t0) / 1000, rss, cpuSecs: Number(cpu[1]) };
}

/** The bench's simulated ticks (the core takes N of them, the replays NE). */
function simulated(): FeedSimulator {
  return new FeedSimulator({ symbols: 50, rate: 5000, seed: 7, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 200_000, venue: 'SIM' });
}

/**
 * `tick-engine replay --file` over a file of NE ticks that `write` makes, beside `reference`, which reads the
 * same file alone in process and returns ticks/s.
 */
async function fileReplay(ext: string, write: (path: string) => Promise<void>, reference: (path: string) => Promise<number>) {
  const path = join(tmpdir(), `tick-engine-bench-${process.pid}.${ext}`);
  await write(path);
  try {
    const referenceRate = await reference(path);
    progress(`replaying ${NE} ticks from ${path} with tick-engine replay --file`);
    const { secs, rss, cpuSecs } = await timedReplay(['replay', '--file', path, '--out', '/dev/null'], { ...process.env, TE_LOG_LEVEL: 'warn' });
    return {
      ticks: NE,
      seconds: Number(secs.toFixed(2)),
      replayTicksPerSec: Math.round(NE / secs),
      cpuSeconds: cpuSecs,
      ticksPerCpuSecond: Math.round(NE / cpuSecs),
      peakRssMb: rss,
      referenceTicksPerSec: Math.round(referenceRate),
      ratio: Number((NE / secs / referenceRate).toFixed(3)),
    };
  } finally {
    rmSync(path, { force: true });
  }
}

/** Ticks/s of reading `records` to the end. */
async function rate(records: AsyncIterable<{ length?: number }>, count: (x: { length?: number }) => number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for await (const x of records) n += count(x);
  return n / ((performance.now() - t0) / 1000);
}

/** CSV, beside parsing the same file alone in process. */
const fromCsvFile = () =>
  fileReplay(
    'csv',
    async (path) => {
      const sim = simulated();
      const lines = [CSV_HEADER];
      for (let i = 0; i < NE; i++) lines.push(tickToCsv(sim.next()));
      writeFileSync(path, lines.join('\n') + '\n');
    },
    (path) => rate(readCsvTickBatches(path), (batch) => batch.length!),
  );

/** An Avro container file (written by avsc), beside avsc's own file decoder reading it. */
const fromAvroFile = () =>
  fileReplay(
    'avro',
    async (path) => {
      const sim = simulated();
      const enc = new avro.streams.BlockEncoder(schema('tick').type, { codec: 'null' });
      const out = createWriteStream(path);
      enc.pipe(out);
      for (let i = 0; i < NE; i++) if (!enc.write(sim.next())) await once(enc, 'drain');
      enc.end();
      await once(out, 'close');
    },
    (path) => rate(avro.createFileDecoder(path) as AsyncIterable<object>, () => 1),
  );

async function fromKafka() {
  // Topics, table and group of its own, as the tests get.
  const env = testEnv({
    TE_SIM_START: '2024-01-01T00:00:00Z',
    TE_SIM_SPEED: '0',
    TE_SIM_RATE: '5000',
    TE_SIM_DURATION_S: String(NE / 5000 / 1.4),
    TE_LOG_LEVEL: 'warn',
  });
  const config = loadConfig({ env });
  const feed = new FeedProducer(config, createKafka(config, 'bench'), logger('bench'));
  await feed.start();
  progress(`producing ~${NE} ticks to ${config.topicTicks}`);
  const { produced } = await feed.run();
  await feed.stop();
  progress(`replaying ${produced} ticks with tick-engine replay (intervals ${config.intervals.map((i) => i.name).join(',')})`);
  const { secs, rss, cpuSecs } = await timedReplay(['replay', '--out', '/dev/null'], env);
  progress(`reference: ConsumerPerformance on the same topic`);
  const cons = await consumerPerf(config.kafkaBrokers.join(','), config.topicTicks, produced);
  return {
    ticks: produced,
    seconds: Number(secs.toFixed(2)),
    replayTicksPerSec: Math.round(produced / secs),
    cpuSeconds: cpuSecs,
    ticksPerCpuSecond: Math.round(produced / cpuSecs),
    peakRssMb: rss,
    consumerPerfRecordsPerSec: Math.round(cons.recordsPerSec),
    ratio: Number((produced / secs / cons.recordsPerSec).toFixed(3)),
  };
}

async function main() {
  progress(`core: ${N} pre-encoded ticks in process`);
  const c = await core();
  const f = await fromCsvFile();
  const a = await fromAvroFile();
  const k = await fromKafka();
  const result = { date: new Date().toISOString(), core: c, file: f, avroFile: a, kafka: k };
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `replay-${result.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    [
      '',
      `replay core (in process, 9 intervals)  ${c.replayCoreTicksPerSec} ticks/s first run, ${c.replayCoreWarmTicksPerSec} ticks/s best of 2 more   Avro decode alone (avsc) ${c.decodeOnlyTicksPerSec} ticks/s  → ratio ${c.ratio}`,
      `tick decoder alone                      ${c.tickDecoderTicksPerSec} ticks/s`,
      `tick-engine replay --file (CSV)        ${f.replayTicksPerSec} ticks/s (${f.ticks} ticks, ${f.seconds} s with process start; ${f.ticksPerCpuSecond} per CPU second, peak RSS ${f.peakRssMb} MB)   parsing the file alone ${f.referenceTicksPerSec} ticks/s → ratio ${f.ratio}`,
      `tick-engine replay --file (Avro)       ${a.replayTicksPerSec} ticks/s (${a.ticks} ticks, ${a.seconds} s with process start; ${a.ticksPerCpuSecond} per CPU second, peak RSS ${a.peakRssMb} MB)   avsc's file decoder alone ${a.referenceTicksPerSec} ticks/s → ratio ${a.ratio}`,
      `tick-engine replay from Kafka          ${k.replayTicksPerSec} ticks/s (${k.ticks} ticks, ${k.seconds} s with process start; ${k.ticksPerCpuSecond} per CPU second, peak RSS ${k.peakRssMb} MB)   ConsumerPerformance ${k.consumerPerfRecordsPerSec} records/s → ratio ${k.ratio}`,
      `saved ${file}`,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
