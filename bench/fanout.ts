// Fan-out against a reference: the same synthetic bar stream (one feed, private topics) delivered by the
// uWebSockets.js gateway (tick-engine gateway: `uws` with direct delivery through uWS pub/sub, `uws-queue` with every
// message through the per-client outbox, TE_WS_DIRECT=false) and by the `ws` reference (bench/ws-gateway.ts: the same
// fan-out and outbox code on the `ws` library), to 1,000, 5,000 and 10,000 chart clients, one gateway at a time on the
// same machine: messages/s delivered, p99 latency, gateway CPU (and per message) and RSS, with the generator's own CPU
// beside them. Writes bench/results/fanout-<date>.json and .html.
// Knobs: BENCH_FANOUT_CLIENTS (1000,5000,10000), BENCH_FANOUT_HOLD_S (15), BENCH_FANOUT_SYMBOLS (50),
//        BENCH_FANOUT_UPDATES (2 per series and second), BENCH_FANOUT_PER_CLIENT (symbols per client, 1),
//        BENCH_FANOUT_WORKERS (2), BENCH_FANOUT_GATEWAYS (uws,uws-queue,ws), BENCH_FANOUT_PROFILE (a directory: each
//        gateway writes a V8 CPU profile there; summarize with node dist/bench/profile-summary.js <dir>).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { privateEnv, writeResults } from '../src/cli/load.js';
import { loadConfig } from '../src/config.js';
import { logger, rootLogger } from '../src/log.js';
import { planClients } from '../src/load/client-plan.js';
import { GatewayProcess } from '../src/load/gateway-process.js';
import { deleteTopics, freePort } from '../src/load/housekeeping.js';
import { runScenario, type RunResult } from '../src/load/run.js';
import { parseScenario } from '../src/load/scenario.js';
import { SyntheticFeed } from '../src/load/synthetic-feed.js';
import { projectRoot } from '../src/paths.js';
import { createKafka } from '../src/stream/kafka.js';

const num = (k: string, d: number) => Number(process.env[k] ?? d);
const counts = (process.env.BENCH_FANOUT_CLIENTS ?? '1000,5000,10000').split(',').map(Number);
const holdS = num('BENCH_FANOUT_HOLD_S', 15);
const symbols = num('BENCH_FANOUT_SYMBOLS', 50);
const updates = num('BENCH_FANOUT_UPDATES', 2);
const perClient = num('BENCH_FANOUT_PER_CLIENT', 1);
const workers = num('BENCH_FANOUT_WORKERS', 2);
const gateways = (process.env.BENCH_FANOUT_GATEWAYS ?? 'uws,uws-queue,ws').split(',') as ('uws' | 'uws-queue' | 'ws')[];
const profileDir = process.env.BENCH_FANOUT_PROFILE;
const labels = { uws: 'uWebSockets.js', 'uws-queue': 'uWebSockets.js, outbox only', ws: 'ws' };

rootLogger(process.env.TE_LOG_LEVEL ?? 'warn');
const log = logger('bench-fanout');
const id = `load_${randomBytes(4).toString('hex')}`;
const env = { ...process.env, ...privateEnv(id) };
const config = loadConfig({ env });
const kafka = createKafka(config, 'bench-fanout');
const feed = new SyntheticFeed({ symbols, intervals: ['1s'], updatesPerSecond: updates, tradesPerSecond: 0, signalShare: 0 }, config, kafka, log);
await feed.start();

const runs: RunResult[] = [];
const rows: string[] = [];
let running: GatewayProcess | undefined;
// Interrupted: stop the gateway of the moment too, and the topics go with the feed.
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    void Promise.allSettled([running?.stop(), feed.stop()]).then(() => process.exit(130));
  });
try {
  for (const n of counts) {
    const scenario = parseScenario(
      {
        description: `fan-out, ${n} clients, each on ${perClient} of ${symbols} symbols' 1s bars (JSON)`,
        stages: [
          { duration: `${Math.max(5, Math.ceil(n / 1000))}s`, clients: n },
          { duration: `${holdS}s`, clients: n },
        ],
        mix: [{ channel: 'bars', intervals: ['1s'], symbols: 'many', count: perClient, encoding: 'json' }],
        thresholds: ['latency.send.p99 <= 100', 'gaps == 0'],
      },
      `fanout-${n}`,
    );
    for (const kind of gateways) {
      const port = await freePort();
      const gw = new GatewayProcess({
        args: [
          '--enable-source-maps',
          ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, `${kind}-${n}`)}`] : []),
          join(projectRoot(), kind === 'ws' ? 'dist/bench/ws-gateway.js' : 'dist/src/cli/main.js'),
          ...(kind === 'ws' ? [] : ['gateway']),
        ],
        env: {
          ...env,
          TE_GATEWAY_PORT: String(port),
          TE_GATEWAY_TRADES: 'false',
          TE_LOG_LEVEL: 'warn',
          TE_WS_DIRECT: String(kind === 'uws'),
        },
        port,
      });
      running = gw;
      const pid = await gw.start();
      try {
        const r = await runScenario({
          scenario,
          label: `${labels[kind]} ${n.toLocaleString('en-US')} clients`,
          target: { wsUrl: `ws://127.0.0.1:${port}/ws`, httpBase: gw.httpBase, headers: {}, metrics: kind !== 'ws', pid },
          specs: planClients(scenario, feed.symbols, n),
          symbols: feed.symbols,
          workers,
          log,
          progress: true,
        });
        runs.push(r);
        // The hold stage only: the ramp's seconds would understate the steady rate.
        const hold = r.timeline.filter((p) => p.t > r.timeline.length - holdS + 1);
        const avg = (f: (p: (typeof hold)[number]) => number | undefined) => Math.round(hold.reduce((a, p) => a + (f(p) ?? 0), 0) / Math.max(1, hold.length));
        const f = r.figures;
        const rate = avg((p) => p.messagesPerS);
        // % of a core per message/s: ×10,000 gives µs of CPU per message delivered.
        const perMessage = rate > 0 ? ((avg((p) => p.gatewayCpu) * 10_000) / rate).toFixed(1) : '–';
        rows.push(
          `| ${n.toLocaleString('en-US')} | ${kind} | ${rate.toLocaleString('en-US')} | ${f['latency.send.p99']} | ${f['latency.source.p99'] ?? '–'} | ` +
            `${avg((p) => p.gatewayCpu)} / ${f['gateway.cpu.max']} | ${perMessage} | ${f['gateway.rss.max']} | ${f['connections.max']} | ${f.gaps} | ` +
            `${avg((p) => p.generatorCpu)} / ${f['generator.cpu.max']} (${r.generatorSaturatedS} s) |`,
        );
        process.stdout.write(`${rows[rows.length - 1]}\n`);
      } finally {
        await gw.stop();
      }
    }
  }
} finally {
  await feed.stop();
  await deleteTopics(
    kafka,
    Object.values(privateEnv(id)).filter((t) => t.includes('.')),
  ).catch(() => undefined);
}

const header =
  '| clients | gateway | messages/s delivered (hold) | p99 send→receipt, ms | p99 source→receipt, ms | gateway CPU avg / max, % core | gateway CPU µs per message | gateway RSS max, MiB | connected | gaps | generator CPU avg / max, % core (saturated) |\n|---|---|---|---|---|---|---|---|---|---|---|';
const table = `${header}\n${rows.join('\n')}`;
process.stdout.write(
  `\n${table}\n\nfeed: ${symbols} symbols × 1s, ${updates} updates/s per series, ${perClient} per client; load average now ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);
const files = writeResults(join(projectRoot(), 'bench/results'), 'fanout', runs, 'Fan-out: uWebSockets.js gateway vs ws reference', `<pre>${table}</pre>`);
process.stdout.write(`result: ${files.json}\nreport: ${files.html}\n`);
process.exit(0);
