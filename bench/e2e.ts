// End-to-end benchmark: sustained ticks/s through the whole engine, and produce → bar-received latency over
// WebSocket (final bars, and in-progress updates), each beside Kafka's own perf tools on the same broker with the same
// record size. Writes JSON.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../src/config.js';
import { FeedProducer } from '../src/ingest/feed-producer.js';
import { FeedSimulator } from '../src/ingest/simulator.js';
import { logger } from '../src/log.js';
import { projectRoot } from '../src/paths.js';
import { createKafka } from '../src/stream/kafka.js';
import { schema } from '../src/stream/schemas.js';
import { encode } from '../src/stream/serde.js';
import { runCli, waitHttpOk, type CliProcess } from '../tests/helpers/cli.js';
import { freePort, testEnv } from '../tests/helpers/env.js';
import { consumerPerf, producerPerf } from './kafka-perf.js';
import { summarize } from './profile-summary.js';
import { coresLine, coresUsed, cpuSeconds, exitedChildrenCpuSeconds, sampleCpu, totalCores } from './cpu-share.js';
import { scrapeStages, stageFigures, stageTable, type Buckets } from './stages.js';
import { sampleLoopLag, type LoopLag } from './loop-lag.js';
import { heapLine, parseHeap } from './heap.js';
import { heapSummaryLines, summarizeHeap } from './heap-summary.js';

const N = Number(process.env.BENCH_TICKS ?? 300_000);
const LIVE_RATE = Number(process.env.BENCH_LIVE_RATE ?? 2000);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 30);
/** Symbols of the live run's simulated feed (the issue's latency goal is at 500). */
const LIVE_SYMBOLS = Number(process.env.BENCH_LIVE_SYMBOLS ?? 50);
/** BENCH_PROFILE=1: every engine process of each run writes a V8 CPU profile, summarized at the end (where the time goes). */
const PROFILE_DIR =
  process.env.BENCH_PROFILE === '1'
    ? join(projectRoot(), 'bench', 'results', `profiles-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`)
    : undefined;

/**
 * BENCH_HEAP_SNAPSHOT=1: at the live run's end, after its figures are taken, the aggregator writes a V8 heap snapshot
 * here (after a full GC), summarized by constructor (bench/heap-summary.ts): what its live state is made of.
 */
const HEAP_DIR =
  process.env.BENCH_HEAP_SNAPSHOT === '1'
    ? join(projectRoot(), 'bench', 'results', `heap-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`)
    : undefined;

/** The engine processes started from now on are profiled into PROFILE_DIR/<run> (when profiling). */
function profileRun(run: string): void {
  const args: string[] = [];
  if (PROFILE_DIR) {
    mkdirSync(join(PROFILE_DIR, run), { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, run)}`);
  }
  if (HEAP_DIR && run === 'latency') {
    mkdirSync(HEAP_DIR, { recursive: true });
    args.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`);
  }
  if (args.length) process.env.TE_CHILD_NODE_ARGS = args.join(' ');
}

/**
 * Have `pid` write a heap snapshot into HEAP_DIR and wait until it is complete; its summary lines. The process writes
 * it on its main thread, blocked until done: complete once the file is there and the process answers `metricsUrl`.
 */
async function heapSnapshot(pid: number, metricsUrl: string): Promise<string[]> {
  const dir = HEAP_DIR!;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && f.includes(`.${pid}.`));
    if (!file) continue;
    await (await fetch(metricsUrl)).text();
    return heapSummaryLines(summarizeHeap(JSON.parse(readFileSync(join(dir, file), 'utf8')) as never), 25);
  }
  return ['heap snapshot: none written in 300 s'];
}
const log = logger('bench');

function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function peakRssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const m = new RegExp(`^${name} ([\\d.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** A drain that takes no tick for this long has stalled: the bench fails rather than wait for ever. */
const STALL_MS = 60_000;

/** Every child started, so a failing run still stops them. */
const children: CliProcess[] = [];
/** The children this bench is stopping: their exit is expected. */
const stopping = new Set<CliProcess>();

/**
 * An engine process that exits while the bench still measures it ends the bench with its output: otherwise a run
 * whose aggregator died at start would wait, then report 0 bars or a stalled count as if it were a figure.
 */
function failOnExit(proc: CliProcess, name: string): void {
  void proc.exited.then((code) => {
    if (stopping.has(proc)) return;
    process.stderr.write(`bench failed: the ${name} exited (code ${code}, signal ${proc.child.signalCode}) during the run:\n${proc.output().slice(-4000)}\n`);
    void Promise.all(children.map((c) => stop(c))).then(() => process.exit(1));
  });
}

function stop(proc: CliProcess): Promise<number | null> {
  stopping.add(proc);
  return proc.stop();
}

async function startEngine(env: Record<string, string>): Promise<{ agg: CliProcess; gw: CliProcess; metricsUrl: string; port: number }> {
  const port = Number(env.TE_GATEWAY_PORT);
  const gw = runCli(['gateway'], env);
  const agg = runCli(['aggregate'], env);
  children.push(gw, agg);
  failOnExit(gw, 'gateway');
  failOnExit(agg, 'aggregator');
  progress(`engine starting: gateway :${port}, aggregator metrics :${env.TE_METRICS_PORT}`);
  await waitHttpOk(`http://127.0.0.1:${port}/ready`, gw);
  // Ready, not merely listening: the aggregator has subscribed and its consumer runs (its /metrics answers before).
  await waitHttpOk(`http://127.0.0.1:${env.TE_METRICS_PORT}/ready`, agg);
  const metricsUrl = `http://127.0.0.1:${env.TE_METRICS_PORT}/metrics`;
  return { agg, gw, metricsUrl, port };
}

/**
 * Throughput in two runs on fresh topics: 'concurrent' (engine running while the feed produces flat out: the
 * sustained end-to-end rate) and 'backlog' (ticks produced first, then the engine drains them: its own capacity).
 */
async function throughput(recordSize: number, mode: 'concurrent' | 'backlog') {
  const env = testEnv({
    TE_LOG_LEVEL: 'warn',
    TE_GATEWAY_PORT: String(await freePort()),
    TE_METRICS_PORT: String(await freePort()),
    TE_SIM_START: '2024-01-01T00:00:00Z',
    TE_SIM_SPEED: '0',
    TE_SIM_RATE: '5000',
    TE_SIM_DURATION_S: String(N / 5000),
  });
  const config = loadConfig({ env });
  profileRun(mode);
  let engine = mode === 'concurrent' ? await startEngine(env) : undefined;
  const feed = new FeedProducer(config, createKafka(config, 'bench'), log);
  await feed.start();
  // The machine's CPU over the window measured (concurrent: from the feed's start, the engine already running;
  // backlog: from the engine's start), by process: whether the rate is the engine's bound or the machine's.
  const named = (e: { agg: CliProcess; gw: CliProcess }) =>
    new Map([
      [e.agg.child.pid!, 'aggregator'],
      [e.gw.child.pid!, 'gateway'],
      [process.pid, mode === 'concurrent' ? 'bench (feed)' : 'bench'],
    ]);
  const cpuAtFeedStart = engine ? sampleCpu(named(engine)) : undefined;
  progress(`${mode}: producing ~${N} ticks as fast as the producer goes`);
  const t0 = performance.now();
  const summary = await feed.run();
  const tProduced = performance.now();
  await feed.stop();
  engine ??= await startEngine(env);
  const tEngine = mode === 'concurrent' ? t0 : performance.now();
  const engineNames = named(engine);
  const cpuBefore = cpuAtFeedStart ?? sampleCpu(engineNames);
  let last = -1;
  let movedAt = performance.now();
  for (;;) {
    const n = await metric(engine.metricsUrl, 'tick_engine_ticks_in_total');
    if (n >= summary.produced) break;
    if (n !== last) {
      progress(`${mode}: aggregated ${n}/${summary.produced}`);
      movedAt = performance.now();
    } else if (performance.now() - movedAt > STALL_MS)
      throw new Error(`${mode}: the aggregator took no tick for ${STALL_MS / 1000} s (${n}/${summary.produced}): stalled`);
    last = n;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tDone = performance.now();
  const cpuAfter = sampleCpu(engineNames);
  const cores = coresUsed(cpuBefore, cpuAfter);
  const result = {
    ticks: summary.produced,
    recordSizeBytes: recordSize,
    produceTicksPerSec: Math.round(summary.produced / ((tProduced - t0) / 1000)),
    engineTicksPerSec: Math.round(summary.produced / ((tDone - tEngine) / 1000)),
    seconds: Number(((tDone - tEngine) / 1000).toFixed(2)),
    bars: await metric(engine.metricsUrl, `tick_engine_bars_out_total{interval="${config.intervals[0]!.name}"}`),
    aggregatorPeakRssMb: peakRssMb(engine.agg.child.pid),
    gatewayPeakRssMb: peakRssMb(engine.gw.child.pid),
    coresUsed: cores,
    coresTotal: totalCores(cores),
    cpuSeconds: cpuSeconds(cpuBefore, cpuAfter),
  };
  await stop(engine.agg);
  await stop(engine.gw);
  return { result, config };
}

async function latency() {
  const env = testEnv({
    TE_LOG_LEVEL: 'warn',
    TE_GATEWAY_PORT: String(await freePort()),
    TE_METRICS_PORT: String(await freePort()),
    TE_SIM_START: 'now',
    TE_SIM_SPEED: '1',
    TE_SIM_RATE: String(LIVE_RATE),
    TE_SIM_SYMBOLS: String(LIVE_SYMBOLS),
    TE_SIM_DURATION_S: String(LIVE_SECONDS),
    TE_IDLE_CLOSE_MS: '1000',
  });
  const config: Config = loadConfig({ env });
  profileRun('latency');
  const { agg, gw, port, metricsUrl } = await startEngine(env);
  const stageUrls = [metricsUrl, `http://127.0.0.1:${port}/metrics`];
  const received: { recvMs: number; bucketStart: number; interval: string }[] = [];
  // In-progress updates (type 'update', throttled by TE_LIVE_THROTTLE_MS): each names the last tick it includes.
  const updates: { recvMs: number; key: string }[] = [];
  // The same for a larger interval (1m when configured), whose updates come every TE_LIVE_UPDATE_ROLLED_MS.
  const rolledInterval = config.intervals.find((i) => i.name === '1m') ?? config.intervals[1];
  const rolledUpdates: { recvMs: number; key: string }[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((res, rej) => ws.once('open', res).once('error', rej));
  ws.on('message', (data) => {
    const recvMs = performance.timeOrigin + performance.now();
    const m = JSON.parse(String(data)) as { type: string; bar?: { symbol: string; bucketStart: number; interval: string; lastEventTime: number } };
    if (m.type === 'bar' && m.bar!.interval === config.intervals[0]!.name)
      received.push({ recvMs, bucketStart: m.bar!.bucketStart, interval: m.bar!.interval });
    else if (m.type === 'update')
      (m.bar!.interval === rolledInterval?.name ? rolledUpdates : updates).push({ recvMs, key: `${m.bar!.symbol}|${m.bar!.lastEventTime}` });
  });
  ws.send(JSON.stringify({ op: 'subscribe', channel: 'bars', interval: config.intervals[0]!.name, symbols: '*' }));
  if (rolledInterval) ws.send(JSON.stringify({ op: 'subscribe', channel: 'bars', interval: rolledInterval.name, symbols: '*' }));
  // Wall time at which each batch was produced, with the running max event time it carried.
  const batches: { wallMs: number; maxEvent: number }[] = [];
  let maxEvent = -Infinity;
  /** Wall time each tick's batch was produced, by symbol and event time (what an update's lastEventTime names). */
  const producedAt = new Map<string, number>();
  const feed = new FeedProducer(config, createKafka(config, 'bench'), log);
  await feed.start();
  progress(`latency: live feed at ${LIVE_RATE} ticks/s for ${LIVE_SECONDS} s`);
  // The stage histograms from the end of the warm-up (3 s) to the end of the run.
  let stagesBefore: Buckets = new Map();
  const named = new Map([
    [agg.child.pid!, 'aggregator'],
    [gw.child.pid!, 'gateway'],
    [process.pid, 'bench (feed + client)'],
  ]);
  let cpuBefore = sampleCpu(named);
  let lagSampler: ReturnType<typeof sampleLoopLag> | undefined;
  const warm = setTimeout(() => {
    cpuBefore = sampleCpu(named);
    void scrapeStages(stageUrls).then((b) => (stagesBefore = b));
    lagSampler = sampleLoopLag({ aggregator: stageUrls[0]!, gateway: stageUrls[1]! });
  }, 3000);
  const summary = await feed.run({
    onBatch: (ticks) => {
      const wallMs = performance.timeOrigin + performance.now();
      for (const t of ticks) {
        if (t.eventTime > maxEvent) maxEvent = t.eventTime;
        const key = `${t.symbol}|${t.eventTime}`;
        if (!producedAt.has(key)) producedAt.set(key, wallMs);
      }
      batches.push({ wallMs, maxEvent });
    },
  });
  const cpuAfter = sampleCpu(named);
  const loopLag: Record<string, LoopLag> = lagSampler?.stop() ?? {};
  // The aggregator's memory with the feed's whole state still open (its main thread's heap; workers' only in RSS).
  const aggregatorHeap = parseHeap(await (await fetch(metricsUrl)).text());
  await new Promise((r) => setTimeout(r, 3000 + config.maxOutOfOrderMs + config.idleCloseMs));
  clearTimeout(warm);
  const cores = coresUsed(cpuBefore, cpuAfter);
  const stages = stageFigures(stagesBefore, await scrapeStages(stageUrls));
  const aggRss = peakRssMb(agg.child.pid);
  const gwRss = peakRssMb(gw.child.pid);
  ws.close();
  // After every figure above (a snapshot blocks the aggregator for seconds and takes memory of its own), with the
  // larger intervals' bars still open.
  const heapSummary = HEAP_DIR ? await heapSnapshot(agg.child.pid!, metricsUrl) : undefined;
  await feed.stop();
  await stop(agg);
  await stop(gw);
  // Latency of a bar: from producing the first tick that let the watermark pass the bar's end to receiving it.
  const width = config.intervals[0]!.micros;
  const lat: number[] = [];
  const warmup = summary.firstEventTime + 3e6;
  for (const r of received) {
    if (r.bucketStart < warmup) continue;
    const threshold = r.bucketStart + width + config.maxOutOfOrderMs * 1000;
    let lo = 0;
    let hi = batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (batches[mid]!.maxEvent >= threshold) hi = mid;
      else lo = mid + 1;
    }
    if (lo < batches.length) lat.push(r.recvMs - batches[lo]!.wallMs);
  }
  lat.sort((a, b) => a - b);
  // No bar measured is no figure: say so rather than print an empty percentile as a latency.
  if (lat.length === 0)
    throw new Error(`latency: no final ${config.intervals[0]!.name} bar measured (${received.length} received, ${summary.produced} ticks produced)`);
  // Latency of an update: from producing the last tick it includes to receiving it (after the warm-up).
  const warmupWallMs = batches.find((b) => b.maxEvent >= warmup)?.wallMs ?? Infinity;
  const updateLat = updates
    .map((u) => ({ u, at: producedAt.get(u.key) }))
    .filter((x): x is { u: (typeof updates)[number]; at: number } => x.at !== undefined && x.at >= warmupWallMs)
    .map((x) => x.u.recvMs - x.at)
    .sort((a, b) => a - b);
  const rolledLat = rolledUpdates
    .map((u) => ({ u, at: producedAt.get(u.key) }))
    .filter((x): x is { u: (typeof updates)[number]; at: number } => x.at !== undefined && x.at >= warmupWallMs)
    .map((x) => x.u.recvMs - x.at)
    .sort((a, b) => a - b);
  const span = LIVE_SECONDS;
  return {
    ticks: summary.produced,
    rate: LIVE_RATE,
    symbols: LIVE_SYMBOLS,
    seconds: span,
    barsReceived: received.length,
    barsMeasured: lat.length,
    wsMessagesPerSec: Math.round(received.length / span),
    p50Ms: Number(percentile(lat, 50).toFixed(1)),
    p99Ms: Number(percentile(lat, 99).toFixed(1)),
    maxMs: Number((lat[lat.length - 1] ?? NaN).toFixed(1)),
    updatesReceived: updates.length,
    updatesMeasured: updateLat.length,
    updateP50Ms: Number(percentile(updateLat, 50).toFixed(1)),
    updateP99Ms: Number(percentile(updateLat, 99).toFixed(1)),
    updateMaxMs: Number((updateLat[updateLat.length - 1] ?? NaN).toFixed(1)),
    throttleMs: config.liveUpdateMs,
    rolledUpdates: {
      interval: rolledInterval?.name,
      periodMs: config.liveUpdateRolledMs,
      received: rolledUpdates.length,
      measured: rolledLat.length,
      p50Ms: Number(percentile(rolledLat, 50).toFixed(1)),
      p99Ms: Number(percentile(rolledLat, 99).toFixed(1)),
    },
    stages,
    coresUsed: cores,
    loopLag,
    aggregatorPeakRssMb: aggRss,
    gatewayPeakRssMb: gwRss,
    aggregatorHeap,
    ...(heapSummary ? { heapSummary } : {}),
  };
}

/** The live run's printed lines: final bars, updates, the stages, cores used and event-loop delay. */
function latencyLines(lat: Awaited<ReturnType<typeof latency>>): string[] {
  const cores = cpus().length;
  return [
    `live latency @ ${LIVE_RATE}/s, ${LIVE_SYMBOLS} symbols  p50 ${lat.p50Ms} ms  p99 ${lat.p99Ms} ms  max ${lat.maxMs} ms  (${lat.barsMeasured} bars; tick produce → final 1s bar received over WebSocket)`,
    `  in-progress updates     p50 ${lat.updateP50Ms} ms  p99 ${lat.updateP99Ms} ms  max ${lat.updateMaxMs} ms  (${lat.updatesMeasured} updates; the last tick an update includes produced → the update received; throttle ${lat.throttleMs} ms)`,
    `  ${lat.rolledUpdates.interval ?? '-'} updates            p50 ${lat.rolledUpdates.p50Ms} ms  p99 ${lat.rolledUpdates.p99Ms} ms  (${lat.rolledUpdates.measured} updates; the larger intervals' updates every ${lat.rolledUpdates.periodMs} ms, TE_LIVE_UPDATE_ROLLED_MS)`,
    `  where the time goes (tick_engine_stage_seconds, bucket bounds):`,
    ...stageTable(lat.stages),
    `  cores used, feed running (${totalCores(lat.coresUsed)} of ${cores}): ${coresLine(lat.coresUsed)}`,
    `  event-loop delay, feed running (p99 per second: median / worst): ${Object.entries(lat.loopLag)
      .map(([k, v]) => `${k} ${v.medianP99Ms} / ${v.maxP99Ms} ms`)
      .join(', ')}`,
    `  peak RSS (VmHWM): aggregator ${lat.aggregatorPeakRssMb} MB, gateway ${lat.gatewayPeakRssMb} MB`,
    `  aggregator at the feed's end: ${heapLine(lat.aggregatorHeap)}`,
    ...(lat.heapSummary ?? []).map((l) => `    ${l}`),
  ];
}

/** BENCH_LIVE_ONLY=1: the live latency run alone (final bars and updates), without the throughput runs and references. */
async function liveOnly() {
  const lat = await latency();
  const date = new Date().toISOString();
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `e2e-live-${date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
  // The engine settings a reader needs to tell runs apart ('default' when unset).
  const settings = Object.fromEntries(
    ['TE_AGG_PIPELINE', 'TE_AGG_READ_PATH', 'TE_AGG_WORKERS', 'TE_KERNEL', 'TE_LIVE_UPDATE_MS', 'TE_LIVE_UPDATE_ROLLED_MS'].map((k) => [
      k,
      process.env[k] ?? 'default',
    ]),
  );
  writeFileSync(file, JSON.stringify({ date, machine: { cores: cpus().length, node: process.version }, settings, latency: lat }, null, 2) + '\n');
  process.stdout.write(['', ...latencyLines(lat), `saved                     ${file}`, ''].join('\n'));
}

async function main() {
  if (process.env.BENCH_LIVE_ONLY === '1') return liveOnly();
  const brokers = process.env.TE_KAFKA_BROKERS!;
  // Record size the engine really produces: the mean encoded size of simulated ticks.
  const sim = new FeedSimulator({ symbols: 50, rate: 5000, seed: 42, start: Date.now() * 1000, jitter: 200_000, venue: 'SIM' });
  let bytes = 0;
  for (let i = 0; i < 10_000; i++) bytes += encode(schema('tick'), { ...sim.next(), ingestTime: Date.now() * 1000 }).length;
  const recordSize = Math.round(bytes / 10_000);

  const { result: tp, config } = await throughput(recordSize, 'concurrent');
  progress(`concurrent: ${tp.engineTicksPerSec} ticks/s end to end`);
  const { result: backlog } = await throughput(recordSize, 'backlog');
  progress(`backlog: ${backlog.engineTicksPerSec} ticks/s drained`);

  // Same partition count as the ticks topic.
  const perfTopic = `bench-perf-${Date.now()}`;
  const admin = createKafka(config, 'bench').admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: perfTopic, numPartitions: config.ticksPartitions, replicationFactor: 1 }] });
  await admin.disconnect();
  progress(`reference: ProducerPerformance ${N} records of ${recordSize} B`);
  // What each reference costs the machine, over the tool's whole run (its JVM's start included): the broker's CPU
  // seconds from /proc, the tool's own once it has exited (this process's children's time).
  const reference = async <T>(tool: () => Promise<T>) => {
    const before = sampleCpu(new Map());
    const child0 = exitedChildrenCpuSeconds();
    const t = performance.now();
    const figures = await tool();
    const seconds = cpuSeconds(before, sampleCpu(new Map()));
    return {
      figures,
      cost: {
        wallSeconds: Number(((performance.now() - t) / 1000).toFixed(2)),
        brokerCpuSeconds: seconds.kafka ?? 0,
        toolCpuSeconds: Number((exitedChildrenCpuSeconds() - child0).toFixed(2)),
      },
    };
  };
  const prodRun = await reference(() => producerPerf(brokers, perfTopic, N, recordSize));
  const prod = prodRun.figures;
  progress(`reference: ConsumerPerformance ${N} records`);
  const consRun = await reference(() => consumerPerf(brokers, perfTopic, N));
  const cons = consRun.figures;

  const lat = await latency();
  const result = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, node: process.version },
    throughput: {
      concurrent: tp,
      backlog,
      reference: { producerPerformance: { ...prod, ...prodRun.cost }, consumerPerformance: { ...cons, ...consRun.cost } },
      ratioEndToEndToProducerPerf: Number((tp.engineTicksPerSec / prod.recordsPerSec).toFixed(3)),
      ratioBacklogToConsumerPerf: Number((backlog.engineTicksPerSec / cons.recordsPerSec).toFixed(3)),
    },
    latency: { ...lat, reference: { producerPerfP50Ms: prod.p50Ms, producerPerfP99Ms: prod.p99Ms } },
    profiles: PROFILE_DIR ? profiles(PROFILE_DIR) : undefined,
  };
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `e2e-${result.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  const lines = [
    '',
    `end-to-end throughput     ${tp.engineTicksPerSec} ticks/s  (${tp.ticks} ticks of ${recordSize} B, feed → Kafka → aggregator → 3 stores + bars topic, concurrently)`,
    `  of which feed producer  ${tp.produceTicksPerSec} ticks/s  (kafkajs, acks=all, alone on the broker would be ${backlog.produceTicksPerSec})`,
    `  Kafka ProducerPerf      ${Math.round(prod.recordsPerSec)} records/s  → ratio ${result.throughput.ratioEndToEndToProducerPerf}`,
    `  machine while it ran    ${tp.coresTotal} of ${cpus().length} cores: ${coresLine(tp.coresUsed)}`,
    `  broker CPU per 1k ticks ${perThousand(tp.cpuSeconds.kafka, tp.ticks)} ms (ProducerPerf: ${perThousand(prodRun.cost.brokerCpuSeconds, N)} ms per 1k records, its tool ${perThousand(prodRun.cost.toolCpuSeconds, N)} ms)`,
    `aggregator from backlog   ${backlog.engineTicksPerSec} ticks/s  (${backlog.ticks} ticks already in Kafka, drained and written)`,
    `  Kafka ConsumerPerf      ${Math.round(cons.recordsPerSec)} records/s  → ratio ${result.throughput.ratioBacklogToConsumerPerf}`,
    `  machine while it ran    ${backlog.coresTotal} of ${cpus().length} cores: ${coresLine(backlog.coresUsed)}`,
    `  CPU per 1k ticks        aggregator ${perThousand(backlog.cpuSeconds.aggregator, backlog.ticks)} ms, broker ${perThousand(backlog.cpuSeconds.kafka, backlog.ticks)} ms (ConsumerPerf: broker ${perThousand(consRun.cost.brokerCpuSeconds, N)} ms, its tool ${perThousand(consRun.cost.toolCpuSeconds, N)} ms per 1k records)`,
    ...latencyLines(lat),
    `  Kafka ProducerPerf ack  p50 ${prod.p50Ms} ms  p99 ${prod.p99Ms} ms  (the broker's own produce→ack latency under full load)`,
    `  delivered               ${lat.wsMessagesPerSec} WebSocket messages/s to one subscriber`,
    `peak RSS                  aggregator ${tp.aggregatorPeakRssMb} / ${backlog.aggregatorPeakRssMb} / ${lat.aggregatorPeakRssMb} MB, gateway ${tp.gatewayPeakRssMb} / ${backlog.gatewayPeakRssMb} / ${lat.gatewayPeakRssMb} MB (concurrent / backlog / live runs)`,
    `saved                     ${file}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

/** CPU milliseconds per thousand items. */
function perThousand(cpuSeconds: number | undefined, items: number): string {
  return ((1e6 * (cpuSeconds ?? 0)) / items).toFixed(1);
}

/** Per run, per profiled process or thread: its sampled time by area of the code (bench/profile-summary.ts). */
function profiles(dir: string) {
  const out: Record<string, { file: string; totalMs: number; areas: { area: string; share: number }[] }[]> = {};
  for (const run of readdirSync(dir))
    out[run] = readdirSync(join(dir, run))
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => summarize(join(dir, run, f), 0))
      .map((s) => ({ file: s.file, totalMs: s.totalMs, areas: s.areas.slice(0, 12).map(({ area, share }) => ({ area, share })) }));
  progress(`CPU profiles in ${dir} (node dist/bench/profile-summary.js ${dir}/<run> for the functions)`);
  return { dir, runs: out };
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    for (const c of children) await stop(c);
    process.exit(1);
  },
);
