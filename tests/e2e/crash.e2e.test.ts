// Exactly-once effect across crashes: while a seeded feed runs, aggregators in one consumer group are
// SIGKILLed at random moments (one or two instances at a time, so partitions move between them), and the
// broker is restarted once; the instances alternate between the two read paths, the two kernels and folding in workers or not. At the end every store holds every
// final bar once, equal to the offline bars.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import avro from 'avsc';
import { projectRoot } from '../../src/paths.js';
import { createKafka } from '../../src/stream/kafka.js';
import { parseCheckpoint } from '../../src/aggregate/partition-aggregator.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { Prng } from '../../src/ingest/prng.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { diffBars, offlineBars, type OracleTick } from '../helpers/oracle.js';
import { questDbCount, readPgBars, readQuestDbBars, readTopic, waitFor, withPg } from '../helpers/stores.js';

const sh = promisify(execFile);
const KILLS = Number(process.env.TE_CRASH_KILLS ?? 24);

t.test(`SIGKILL the aggregators ${KILLS} times and restart the broker: stores still exact`, async (t) => {
  const env = testEnv({
    TE_SIM_START: '2024-03-01T00:00:00Z',
    TE_SIM_SPEED: '5', // 240 s of event time in ~48 s of wall time
    TE_SIM_DURATION_S: '240',
    TE_SIM_RATE: '1500',
    TE_SIM_SEED: '99',
    // Zipf-like activity over 300 symbols: the busiest trade hundreds of times a second, the quietest about
    // once, so many of their 1s buckets are empty (flat bars).
    TE_SIM_SYMBOLS: '300',
    TE_INTERVALS: '1s,5s,1m,5m',
    // Snapshots every 2 s, so most restarts restore one (larger intervals, indicators, flat-bar state) and
    // replay only the base interval's span; flat bars for the buckets a symbol did not trade in.
    TE_STATE_SNAPSHOT_MS: '2000',
    TE_EMPTY_BARS: 'flat',
    TE_AGG_SESSION_TIMEOUT_MS: '6000',
    TE_PG_IDLE_CLOSE_MS: '0', // two instances share the single-session TimescaleDB endpoint
    TE_LOG_LEVEL: 'warn',
  });
  const config = testConfig(env);
  const kafka = createKafka(config, 'crash-test');
  await ensureTopics(kafka, config);

  const rng = new Prng(2024);
  const running: CliProcess[] = [];
  // The instances alternate between the two read paths (TE_AGG_READ_PATH): kafkajs's fetches and the engine's own
  // (src/runtime/fetch-read-path.ts). They share the group, so partitions move between paths at every kill. Every
  // other pair pipelines its steps (TE_AGG_PIPELINE): a kill then also lands while a step is being written.
  // Every other four instances fold with the TypeScript kernel (TE_KERNEL=ts), the others with the native one
  // (native/): partitions move between kernels too, and a replay on one continues the other's bars. Every other eight
  // fold in piscina workers (TE_AGG_WORKERS=2), the others on the main thread (0, the default).
  const readPaths = { kafkajs: 0, fetch: 0 };
  const pipelined = { true: 0, false: 0 };
  const kernels = { native: 0, ts: 0 };
  const workers = { '0': 0, '2': 0 };
  const start = () => {
    const n = readPaths.kafkajs + readPaths.fetch;
    const path = n % 2 === 0 ? 'kafkajs' : 'fetch';
    const pipeline = Math.floor(n / 2) % 2 === 0 ? 'true' : 'false';
    const kernel = Math.floor(n / 4) % 2 === 0 ? 'native' : 'ts';
    const threads = Math.floor(n / 8) % 2 === 0 ? '0' : '2';
    readPaths[path]++;
    pipelined[pipeline]++;
    kernels[kernel]++;
    workers[threads]++;
    const p = runCli(['aggregate'], { ...env, TE_AGG_READ_PATH: path, TE_AGG_PIPELINE: pipeline, TE_KERNEL: kernel, TE_AGG_WORKERS: threads });
    running.push(p);
    return p;
  };
  t.teardown(async () => {
    for (const p of running) await p.stop();
  });
  const kill = async (p: CliProcess) => {
    p.child.kill('SIGKILL');
    await p.exited;
    running.splice(running.indexOf(p), 1);
  };

  const ingest = runCli(['ingest'], env);
  let ingestDone = false;
  void ingest.exited.then(() => (ingestDone = true));
  start();
  let kills = 0;
  let brokerRestarted = false;
  while (kills < KILLS) {
    await new Promise((r) => setTimeout(r, 1000 + rng.int(2500)));
    // Keep one or two members in the group; kill a random one, sometimes add a second first.
    if (running.length < 2 && rng.next() < 0.5) start();
    await kill(running[rng.int(running.length)]!);
    kills++;
    if (running.length === 0) start();
    if (!brokerRestarted && ingestDone) {
      // Once the feed is in, restart the broker under the running aggregators.
      await sh('bash', [join(projectRoot(), 'deploy/local/kafka.sh'), 'stop']);
      await sh('bash', [join(projectRoot(), 'deploy/local/kafka.sh'), 'start']);
      brokerRestarted = true;
    }
  }
  t.equal(await ingest.exited, 0, 'the feed finished');
  if (!brokerRestarted) {
    await sh('bash', [join(projectRoot(), 'deploy/local/kafka.sh'), 'stop']);
    await sh('bash', [join(projectRoot(), 'deploy/local/kafka.sh'), 'start']);
    brokerRestarted = true;
  }
  t.equal(kills, KILLS, `${kills} aggregators killed with SIGKILL`);
  t.ok(brokerRestarted, 'broker restarted once');
  t.ok(readPaths.kafkajs >= 3 && readPaths.fetch >= 3, `aggregators started on each read path: ${JSON.stringify(readPaths)}`);
  t.ok(pipelined.true >= 2 && pipelined.false >= 2, `aggregators started with and without pipelined steps: ${JSON.stringify(pipelined)}`);
  t.ok(kernels.native >= 2 && kernels.ts >= 2, `aggregators started on each kernel: ${JSON.stringify(kernels)}`);
  t.ok(workers['0'] >= 2 && workers['2'] >= 2, `aggregators started folding on the main thread and in workers: ${JSON.stringify(workers)}`);

  const tickType = avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/tick-v2.avsc`, 'utf8')));
  const ticks: OracleTick[] = (await readTopic(kafka, config.topicTicks)).map((r) => ({
    ...(tickType.fromBuffer(r.message.value!.subarray(5)) as OracleTick),
    partition: r.partition,
    offset: r.offset,
  }));
  const expected = offlineBars(ticks, { intervals: config.intervals, maxOutOfOrder: config.maxOutOfOrderMs * 1000, emptyBars: 'flat' }).finalBars;
  const flats = expected.filter((b) => b.tradeCount === 0).length;
  t.ok(flats > 0, `${ticks.length} ticks → ${expected.length} final bars, ${flats} of them flat`);

  const pgCount = () => withPg(config.pgUrl, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${config.barsTable}`)).rows[0].n));
  const got = await waitFor(pgCount, (n) => n >= expected.length || running.some((p) => p.child.exitCode !== null), 240_000, 1000);
  for (const p of running) {
    // A surviving aggregator that exited on its own is a failure in itself: show why.
    if (p.child.exitCode !== null) t.fail(`an aggregator exited with code ${p.child.exitCode}:\n${p.output().split('\n').slice(-40).join('\n')}`);
  }
  if (got !== expected.length) for (const p of running) t.comment(`aggregator output (last lines):\n${p.output().split('\n').slice(-25).join('\n')}`);
  t.equal(got, expected.length, 'PostgreSQL has them all');
  t.equal(
    await waitFor(
      () => questDbCount(config.questdbHttp, config.barsTable),
      (n) => n >= expected.length,
      60_000,
    ),
    expected.length,
    'QuestDB has them all',
  );
  for (const p of [...running]) t.equal(await p.stop(), 0, 'surviving aggregator stops cleanly');
  running.length = 0;

  t.same(diffBars(await readPgBars(config.pgUrl, config.barsTable), expected), [], 'PostgreSQL: every bar once, every field exact');
  t.same(diffBars(await readPgBars(config.tsdbUrl, config.barsTable), expected), [], 'TimescaleDB: every bar once, every field exact');
  t.same(diffBars(await readQuestDbBars(config.questdbPgUrl, config.barsTable), expected), [], 'QuestDB: every bar once, every field exact');
  // The restarts went through snapshots: each partition's committed checkpoint refers to one in the state topic.
  const admin = kafka.admin();
  await admin.connect();
  const [committed] = await admin.fetchOffsets({ groupId: config.aggGroupId, topics: [config.topicTicks] });
  await admin.disconnect();
  const snaps = committed!.partitions.map((p) => parseCheckpoint(p.metadata)?.snap);
  t.ok(
    snaps.every((s) => s && s.chunks > 0),
    `every partition's checkpoint refers to a state snapshot (${snaps.map((s) => s?.id).join(', ')})`,
  );
  const stateRecords = await readTopic(kafka, config.topicState);
  t.ok(stateRecords.length >= snaps.length, `${stateRecords.length} state snapshot records (chunks and tombstones) in ${config.topicState}`);
  const dlq = await readTopic(kafka, config.topicDlq);
  t.equal(dlq.length, 0, 'no tick was dead-lettered (the jitter is within the out-of-orderness, even across restarts)');
});
