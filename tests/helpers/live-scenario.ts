// One live run of the whole engine as separate processes (feed, aggregator, gateway) on the running stack, with a
// live-chart client watching, faults injected meanwhile, and readiness, memory, file descriptors and event-loop
// delay sampled; at the end every place the engine writes to is checked (verify-run.ts). Shared by the fault e2e
// test (tests/e2e/faults.e2e.test.ts) and the fault and soak benchmarks (bench/faults.ts, bench/soak.ts).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka } from '../../src/stream/kafka.js';
import { ensureTopics } from '../../src/stream/topics.js';
import type { Config } from '../../src/config.js';
import { runCli, waitHttpOk, type CliProcess } from './cli.js';
import { freePort, liveEnv, testConfig } from './env.js';
import { countByKind, FAULT_KINDS, injectFault, runFaults, type FaultKind, type FaultPlan, type FaultRecord } from './faults.js';
import { checkRun, expectedLiveBars, locateBars, readTicks, type RunCheck } from './verify-run.js';
import { WsWatcher, type WatchReport } from './ws-watcher.js';
import { Prng } from '../../src/ingest/prng.js';

export interface ScenarioOptions {
  /** Environment overrides (rate, symbols, intervals, …) on top of the live defaults. */
  env?: Record<string, string>;
  /** Faults one after another (the fault test and benchmark) … */
  plan?: FaultPlan;
  /** … or a steady run of this length with one fault of a random kind every `faultEveryMs` (the soak). */
  durationMs?: number;
  faultEveryMs?: number;
  seed?: number;
  /** Progress lines (faults as they end, samples). */
  onProgress?: (line: string) => void;
}

export interface Sample {
  at: number;
  process: string;
  rssMb: number;
  fds: number;
  /** Event-loop delay p99 over prom-client's window, ms. */
  loopP99Ms: number | undefined;
}

export interface ScenarioReport {
  config: Config;
  faults: FaultRecord[];
  byKind: Record<string, number>;
  /** Engine processes that exited before the end (a failure in itself), with their last output. */
  exited: { name: string; code: number | null; tail: string }[];
  feedExit: number | null;
  check: RunCheck;
  ws: WatchReport;
  /** Store outages during which /ready answered 503 at least once. */
  notReadyDuringStoreOutages: number;
  storeOutages: number;
  readyAtEnd: number;
  /** /ready's answer at the end (what it waited for, when not ready). */
  readyBody: string;
  /** The aggregator's last log lines, when something failed. */
  aggregatorLog: string | undefined;
  /** The gateway's warnings and errors (pino level ≥ 40) and rejoins, when the live client missed something. */
  gatewayLog: string[];
  /** Where the bars the live client missed sit in the bars topic (verify-run.ts, locateBars). */
  missedInTopic: string[];
  /** What the aggregator and gateway said they left open when they stopped (the CLI's exit grace), if anything. */
  lingering: string[];
  retries: Record<string, number>;
  samples: Sample[];
  /** Exit codes of a graceful stop (SIGTERM) at the end. */
  stopCodes: { aggregator: number | null; gateway: number | null };
  seconds: number;
}

function procSample(name: string, pid: number | undefined): Omit<Sample, 'loopP99Ms' | 'at'> | undefined {
  if (!pid) return undefined;
  try {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { process: name, rssMb: rss ? Math.round(Number(rss[1]) / 1024) : NaN, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

async function loopP99(url: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text();
    const m = /^tick_engine_nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(text);
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLiveScenario(opts: ScenarioOptions): Promise<ScenarioReport> {
  const started = Date.now();
  const progress = opts.onProgress ?? (() => undefined);
  const port = await freePort();
  const metricsPort = await freePort();
  const env = liveEnv({
    TE_SIM_RATE: '1500',
    TE_SIM_SYMBOLS: '40',
    TE_SIM_SEED: String(opts.seed ?? 11),
    TE_INTERVALS: '1s,5s,1m',
    TE_GATEWAY_PORT: String(port),
    TE_METRICS_PORT: String(metricsPort),
    // Short timeouts and retries, so each fault is noticed and recovered from within seconds.
    TE_STORE_TIMEOUT_MS: '3000',
    TE_RETRY_MAX_MS: '1000',
    TE_STATE_SNAPSHOT_MS: '5000',
    TE_LOG_LEVEL: 'info',
    ...opts.env,
  });
  const config = testConfig(env);
  const kafka = createKafka(config, 'scenario');
  await ensureTopics(kafka, config);

  // TE_SCENARIO_GATEWAY_LOG=debug: the gateway logs each batch of final bars it reads (to chase a missed bar).
  const gatewayLogLevel = process.env.TE_SCENARIO_GATEWAY_LOG;
  const gateway = runCli(['gateway'], gatewayLogLevel ? { ...env, TE_LOG_LEVEL: gatewayLogLevel } : env);
  const aggregator = runCli(['aggregate'], env);
  const engine: Record<string, CliProcess> = { aggregator, gateway };
  let ingest: CliProcess | undefined;
  const readiness: { at: number; status: number }[] = [];
  const samples: Sample[] = [];
  const timers: NodeJS.Timeout[] = [];
  let watcher: WsWatcher | undefined;
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/ready`, gateway);
    await waitHttpOk(`http://127.0.0.1:${metricsPort}/ready`, aggregator);
    watcher = new WsWatcher(`ws://127.0.0.1:${port}/ws`, config.intervals[0]!.name);
    await watcher.opened;
    ingest = runCli(['ingest'], env);
    // Readiness as an operator's probe sees it, and the processes' footprint, through the whole run.
    timers.push(
      setInterval(() => {
        fetch(`http://127.0.0.1:${metricsPort}/ready`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => readiness.push({ at: Date.now(), status: r.status }),
          () => readiness.push({ at: Date.now(), status: 0 }),
        );
      }, 500),
      setInterval(() => {
        const at = Date.now();
        for (const [name, p, url] of [
          ['aggregator', aggregator, `http://127.0.0.1:${metricsPort}/metrics`],
          ['gateway', gateway, `http://127.0.0.1:${port}/metrics`],
        ] as const) {
          const s = procSample(name, p.child.pid);
          if (s) void loopP99(url).then((loopP99Ms) => samples.push({ at, ...s, loopP99Ms }));
        }
      }, 5000),
    );
    await sleep(5000); // bars flowing before the first fault
    const anyExited = () => [aggregator, gateway, ingest!].some((p) => p.child.exitCode !== null);
    const onFault = (f: FaultRecord, i: number, n: number) =>
      progress(`fault ${i + 1}/${n}: ${f.kind}${f.target ? ` (${f.target})` : ''} out ${f.downMs} ms, back after ${f.totalMs} ms`);
    let faults: FaultRecord[];
    if (opts.plan) faults = await runFaults(opts.plan, engine, onFault, anyExited);
    else {
      // The soak: steady load, one fault of a random kind now and then.
      const rng = new Prng(opts.seed ?? 11);
      const end = Date.now() + (opts.durationMs ?? 600_000);
      const every = opts.faultEveryMs ?? 60_000;
      faults = [];
      const n = Math.floor((opts.durationMs ?? 600_000) / every);
      while (Date.now() < end && !anyExited()) {
        await sleep(Math.min(every, Math.max(0, end - Date.now())));
        if (Date.now() >= end) break;
        const kind: FaultKind = FAULT_KINDS[rng.int(FAULT_KINDS.length)]!;
        const f = await injectFault(kind, 1500 + rng.int(2500), engine, () => rng.next());
        faults.push(f);
        onFault(f, faults.length - 1, n);
      }
    }
    await sleep(3000);
    const feedExit = await ingest.stop();
    for (const t of timers) clearInterval(t);
    // Ready again: the aggregator reports its dependencies up (within the idle grace after the recovery period).
    const readyBy = Date.now() + config.idleRecoveryMs + config.idleCloseMs + 20_000;
    let readyAtEnd = 0;
    let readyBody = '';
    while (Date.now() < readyBy) {
      await sleep(1000);
      [readyAtEnd, readyBody] = await fetch(`http://127.0.0.1:${metricsPort}/ready`).then(
        async (r) => [r.status, await r.text()] as [number, string],
        (err: unknown) => [0, String(err)] as [number, string],
      );
      if (readyAtEnd === 200 && Date.now() > readyBy - 15_000) break;
    }
    // The last bars close only once the partitions have been quiet for the idle grace, counted from the end of the
    // recovery period after the last disturbance — which a fault near the end pushes back by tens of seconds (a run
    // on 2026-12-04 had them published 29 s after the feed stopped, after a fixed wait had closed the client). So
    // the client stays until it holds every bar the ticks make (or a minute passes: then the check below says what
    // it missed), and only then is closed, before the gateway stops.
    const exited = Object.entries(engine)
      .filter(([, p]) => p.child.exitCode !== null)
      .map(([name, p]) => ({ name, code: p.child.exitCode, tail: p.output().split('\n').slice(-30).join('\n') }));
    const ticks = await readTicks(kafka, config.topicTicks);
    const expected = expectedLiveBars(ticks, config);
    const wsExpected = expected.filter((b) => b.interval === config.intervals[0]!.name);
    const clientBy = Date.now() + 60_000;
    while (watcher.report(wsExpected).diffs.length > 0 && Date.now() < clientBy) await sleep(1000);
    await sleep(1000); // anything still in flight (a later revision) reaches the client
    watcher.close(); // keeps what it saw
    const check = await checkRun(kafka, config, ticks, expected);
    const ws = watcher.report(wsExpected);
    const storeOutages = faults.filter((f) => /^(postgres|timescaledb|questdb)/.test(f.kind));
    const notReady = storeOutages.filter((f) => readiness.some((r) => r.status === 503 && r.at >= f.at && r.at <= f.at + f.totalMs + 3000)).length;
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    const retries = Object.fromEntries([...metrics.matchAll(/^tick_engine_write_retries_total\{target="([^"]+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
    const stopCodes = { aggregator: await aggregator.stop(), gateway: await gateway.stop() };
    return {
      config,
      faults,
      byKind: countByKind(faults),
      exited,
      feedExit,
      check,
      ws,
      notReadyDuringStoreOutages: notReady,
      storeOutages: storeOutages.length,
      readyAtEnd,
      readyBody,
      aggregatorLog:
        readyAtEnd === 200 && Object.values(check.diffs).every((d) => d.length === 0) ? undefined : aggregator.output().split('\n').slice(-200).join('\n'),
      gatewayLog: ws.diffs.length || ws.gaps ? [...warningsOf(gateway.output()), `whole output: ${keepOutput('gateway', gateway.output())}`] : [],
      missedInTopic: ws.diffs.length
        ? await locateBars(
            kafka,
            config,
            ws.diffs.flatMap((d) => /^missing bar (\S+)/.exec(d)?.[1] ?? []),
          )
        : [],
      retries,
      samples,
      stopCodes,
      lingering: [aggregator, gateway].flatMap((p) =>
        p
          .output()
          .split('\n')
          .filter((l) => l.includes('still running after the command finished')),
      ),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    watcher?.close();
    for (const p of [ingest, aggregator, gateway]) if (p) await p.stop();
  }
}

/** Write a process's whole output to a file in the temporary directory (for a failed run); returns its path. */
function keepOutput(name: string, output: string): string {
  const file = join(tmpdir(), `scenario-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  writeFileSync(file, output);
  return file;
}

/** pino lines at warn or above (the kafkajs client's own errors among them), cut to a readable length. */
function warningsOf(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /"level":(4|5|6)0/.test(l) || l.includes('rejoined'))
    .slice(-60)
    .map((l) => l.slice(0, 600));
}

/** What a run must show; empty when it does. */
export function scenarioFailures(r: ScenarioReport): string[] {
  const out: string[] = [];
  for (const e of r.exited) out.push(`${e.name} exited (code ${e.code})`);
  if (r.feedExit !== 0) out.push(`the feed exited with ${r.feedExit}`);
  for (const [where, d] of Object.entries(r.check.diffs)) if (d.length) out.push(`${where}: ${d.slice(0, 3).join('; ')}`);
  if (r.check.deadLetters) out.push(`${r.check.deadLetters} dead letters`);
  if (r.check.conflictingDuplicates.length) out.push(`bars published twice with different values: ${r.check.conflictingDuplicates.join(', ')}`);
  if (r.ws.closes.length || r.ws.gaps || r.ws.diffs.length)
    out.push(`live client: ${r.ws.closes.length} closes, ${r.ws.gaps} gaps, ${r.ws.diffs.slice(0, 3).join('; ')}`);
  if (r.readyAtEnd !== 200) out.push(`/ready ${r.readyAtEnd} at the end: ${r.readyBody}`);
  return out;
}

export function summarizeScenario(r: ScenarioReport): string {
  const f = scenarioFailures(r);
  return [
    `faults: ${r.faults.length} (${Object.entries(r.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}) in ${r.seconds.toFixed(0)} s`,
    `ticks: ${r.check.ticks.toLocaleString('en')} → ${r.check.expected.toLocaleString('en')} bars; every store and the bars topic ${Object.values(r.check.diffs).every((d) => !d.length) ? 'exact' : 'DIFFER'}`,
    `dead letters: ${r.check.deadLetters}; bars published twice with different values: ${r.check.conflictingDuplicates.length}; repeated byte for byte: ${r.check.identicalDuplicates}`,
    `live client: ${r.ws.series} streams, ${r.ws.bars} bars, ${r.ws.gaps} gaps, ${r.ws.closes.length} disconnects, ${r.ws.diffs.length} differences`,
    `/ready said 503 during ${r.notReadyDuringStoreOutages} of ${r.storeOutages} store outages; ${r.readyAtEnd} at the end; write retries ${JSON.stringify(r.retries)}`,
    f.length ? `FAILED: ${f.join(' | ')}` : 'every guarantee held',
  ].join('\n');
}
