// Every command's --help lists every configuration key the command reads: each command runs for real (on the test
// stack) with TE_CONFIG_TRACE, which records the keys the process read, and the record is checked against the keys
// its --help names. A key read but missing from the help fails here (as TE_EMPTY_BARS, TE_BUCKET_ORIGIN and
// TE_DAILY_TIMEZONE once were for replay).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { CONFIG_SPEC } from '../../src/config.js';
import { CSV_HEADER, tickToCsv } from '../../src/ingest/files/csv-ticks.js';
import { FeedSimulator } from '../../src/ingest/simulator.js';
import { runCli, waitHttpOk, type CliProcess } from '../helpers/cli.js';
import { freePort, testEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'help-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const envOf = (key: string) => (CONFIG_SPEC as Record<string, { env: string }>)[key]!.env;

/** The env names a command's --help lists. */
async function helpKeys(command: string): Promise<Set<string>> {
  const p = runCli([command, '--help'], process.env);
  if ((await p.exited) !== 0) throw new Error(`${command} --help failed:\n${p.output()}`);
  return new Set([...p.output().matchAll(/\[env (TE_[A-Z0-9_]+),/g)].map((m) => m[1]!));
}

/** Run `args` with the trace on until `whileRunning` is done, stop it, and return the env names it read. */
async function traced(
  args: string[],
  env: NodeJS.ProcessEnv,
  whileRunning: (p: CliProcess) => Promise<void> = async (p) => void (await p.exited),
): Promise<string[]> {
  const file = join(dir, `${args[0]}.json`);
  const p = runCli(args, { ...env, TE_CONFIG_TRACE: file });
  try {
    await whileRunning(p);
  } finally {
    await p.stop();
  }
  return (JSON.parse(readFileSync(file, 'utf8')) as string[]).map(envOf);
}

async function check(t: Test, command: string, read: string[]): Promise<void> {
  const listed = await helpKeys(command);
  t.ok(read.length > 0, `${command} read ${read.length} keys: ${read.join(', ')}`);
  t.same(
    read.filter((k) => !listed.has(k)),
    [],
    `${command} --help lists every key it read`,
  );
}

t.test('each command, run for real, reads only keys its --help lists', async (t) => {
  const gwPort = await freePort();
  const metricsPort = await freePort();
  const env = testEnv({
    TE_SIM_START: '2024-07-01T00:00:00Z',
    TE_SIM_SPEED: '0',
    TE_SIM_DURATION_S: '30',
    TE_SIM_RATE: '200',
    TE_INTERVALS: '1s,1m',
    TE_GATEWAY_PORT: String(gwPort),
    TE_METRICS_PORT: String(metricsPort),
    TE_IDLE_CLOSE_MS: '1000',
  });

  await check(t, 'config', await traced(['config'], env));
  await check(t, 'status', await traced(['status'], env));
  await check(t, 'ingest', await traced(['ingest'], env));

  const csv = join(dir, 'ticks.csv');
  const sim = new FeedSimulator({ symbols: 5, rate: 100, seed: 1, start: Date.UTC(2024, 6, 1) * 1000, jitter: 0, venue: 'SIM' });
  writeFileSync(csv, [CSV_HEADER, ...Array.from({ length: 2000 }, () => tickToCsv(sim.next()))].join('\n') + '\n');
  await check(t, 'replay', await traced(['replay', '--file', csv, '--out', join(dir, 'bars.jsonl')], env));
  await check(t, 'replay', await traced(['replay', '--out', join(dir, 'bars-kafka.jsonl')], env));
  await check(t, 'ingest', await traced(['ingest', '--file', csv], env));
  await check(t, 'migrate', await traced(['migrate', '--dry-run'], env));
  await check(t, 'migrate', await traced(['migrate'], env));
  await check(t, 'maintain', await traced(['maintain'], { ...env, TE_RETENTION: '1s=7d,*=30d' }));

  await check(
    t,
    'aggregate',
    await traced(['aggregate'], env, async (p) => {
      await waitHttpOk(`http://127.0.0.1:${metricsPort}/ready`, p);
      // Long enough for batches, closes, a snapshot, live updates and idle-timer rounds.
      await new Promise((r) => setTimeout(r, 6000));
    }),
  );

  await check(
    t,
    'gateway',
    await traced(['gateway'], env, async (p) => {
      await waitHttpOk(`http://127.0.0.1:${gwPort}/ready`, p);
      await fetch(`http://127.0.0.1:${gwPort}/api/v1/bars/SYM0001?interval=1s`);
      await fetch(`http://127.0.0.1:${gwPort}/api/v1/instruments`);
      const ws = new WebSocket(`ws://127.0.0.1:${gwPort}/ws`);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ op: 'subscribe', channel: 'bars', interval: '1s', symbols: ['*'] }));
      await new Promise((r) => setTimeout(r, 1000));
      ws.close();
    }),
  );

  await check(
    t,
    'venue-standin',
    await traced(['venue-standin', '--venue', 'okx', '--rate', '50'], env, async (p) => {
      await waitFor(
        async () => p.output(),
        (out) => out.includes('venue stand-in listening') || p.child.exitCode !== null,
        30_000,
        100,
      );
      await new Promise((r) => setTimeout(r, 500));
    }),
  );

  // The archive writes the ticks above into QuestDB; backup then reads every store of TE_SINKS and the archive, and
  // restore writes them back.
  const archivePort = await freePort();
  await check(
    t,
    'archive',
    await traced(['archive'], { ...env, TE_ARCHIVE_METRICS_PORT: String(archivePort) }, async (p) => {
      await waitHttpOk(`http://127.0.0.1:${archivePort}/ready`, p);
      await new Promise((r) => setTimeout(r, 2000));
    }),
  );
  await check(t, 'backup', await traced(['backup', '--out', join(dir, 'backup')], env));
  await check(t, 'restore', await traced(['restore', '--from', join(dir, 'backup')], env));

  // An export reads the bars the aggregator above wrote to PostgreSQL (TE_EXPORT_STORE's default).
  await check(t, 'export', await traced(['export', '--symbols', '*', '--out', join(dir, 'bars.parquet')], env));

  // A load run starts a gateway of its own (its keys are that process's) and feeds it: its own reads are the feed's.
  await check(t, 'load', await traced(['load', 'smoke', '--param', 'hold=1s', '--quiet', '--out', join(dir, 'load')], env));

  const demoPort = await freePort();
  await check(
    t,
    'demo',
    await traced(
      ['demo', '--keep-stack'],
      { ...env, TE_GATEWAY_PORT: String(demoPort), TE_SIM_START: 'now', TE_SIM_SPEED: '1', TE_SIM_DURATION_S: '0' },
      async (p) => {
        await waitFor(
          async () => p.output(),
          (out) => out.includes('tick-engine demo is running') || p.child.exitCode !== null,
          120_000,
          250,
        );
        await new Promise((r) => setTimeout(r, 4000));
      },
    ),
  );
});

t.test('every key is listed by some command, and every command lists --log-level', async (t) => {
  const demo = await helpKeys('demo');
  t.same(
    Object.values(CONFIG_SPEC)
      .map((s) => s.env)
      .filter((e) => !demo.has(e)),
    [],
    'demo (the whole engine) lists every key',
  );
  for (const c of [
    'up',
    'down',
    'status',
    'ingest',
    'aggregate',
    'gateway',
    'replay',
    'config',
    'venue-standin',
    'load',
    'export',
    'migrate',
    'maintain',
    'archive',
    'backup',
    'restore',
  ])
    t.ok((await helpKeys(c)).has('TE_LOG_LEVEL'), c);
});
