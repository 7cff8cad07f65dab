// tick-engine load <scenario>: a load run against a gateway — one it starts itself on private topics, fed by the
// synthetic feed (the default), or a running one (--url, --token or --apikey) — with the scenario's thresholds setting the
// exit code (99 when one fails, as k6 does).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { projectRoot } from '../paths.js';
import { planClients } from '../load/client-plan.js';
import { GatewayProcess } from '../load/gateway-process.js';
import { htmlReport, summaryTable } from '../load/report.js';
import { runScenario, type RunResult, type RunTarget } from '../load/run.js';
import { parseScenario, type Scenario } from '../load/scenario.js';
import { SyntheticFeed } from '../load/synthetic-feed.js';
import { parseThreshold, THRESHOLDS_FAILED_EXIT } from '../load/thresholds.js';
import { LOAD_OPTIONS } from './load-options.js';

export function scenarioPath(name: string): string {
  if (name.endsWith('.json') || name.includes('/')) return isAbsolute(name) ? name : resolve(name);
  return join(projectRoot(), 'bench/scenarios', `${name}.json`);
}

function parseParams(s: string | undefined): Record<string, string> {
  if (!s) return {};
  return Object.fromEntries(
    s.split(',').map((kv) => {
      const i = kv.indexOf('=');
      if (i <= 0) throw new ConfigError('--param', `expected name=value (got ${JSON.stringify(kv)})`);
      return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()];
    }),
  );
}

/** Load and validate a scenario file (by name from bench/scenarios, or a path). */
export function loadScenario(name: string, params: Record<string, string>, config: Config): Scenario {
  const path = scenarioPath(name);
  if (!existsSync(path)) throw new ConfigError('scenario', `no scenario ${name} (${path}); the shipped ones are in bench/scenarios/`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('scenario', `${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseScenario(json, name.replace(/^.*\/|\.json$/g, ''), params, new Set(config.intervals.map((i) => i.name)));
}

/** Private topics (and history table) for a gateway the run owns: a run disturbs nothing else on the broker. */
export function privateEnv(id: string): Record<string, string> {
  return {
    TE_TOPIC_TICKS: `${id}.ticks`,
    TE_TOPIC_BARS: `${id}.bars`,
    TE_TOPIC_BARS_LIVE: `${id}.bars.live`,
    TE_TOPIC_SIGNALS: `${id}.signals`,
    TE_TOPIC_DLQ: `${id}.dlq`,
    TE_TOPIC_STATE: `${id}.state`,
    TE_TOPIC_FEED_EVENTS: `${id}.feed.events`,
    TE_TOPIC_QUOTES: `${id}.quotes`,
    TE_BARS_TABLE: `bars_${id}`,
  };
}

export function writeResults(dir: string, name: string, runs: RunResult[], title: string, extraHtml = ''): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 19);
  const json = join(dir, `load-${name}-${stamp}.json`);
  const html = join(dir, `load-${name}-${stamp}.html`);
  writeFileSync(json, JSON.stringify(runs.length === 1 ? runs[0] : runs, null, 1) + '\n');
  writeFileSync(html, htmlReport(runs, title, extraHtml));
  return { json, html };
}

export async function runLoad(config: Config, options: Map<string, string | boolean>, positionals: string[], log: Logger): Promise<number> {
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new ConfigError('scenario', 'give one scenario: tick-engine load smoke (see bench/scenarios/)');
  const opt = (k: keyof typeof LOAD_OPTIONS) => options.get(k) as string | undefined;
  const scenario = loadScenario(name, parseParams(opt('param')), config);
  const extra = opt('threshold');
  if (extra)
    scenario.thresholds.push(
      ...extra
        .split(';')
        .filter((s) => s.trim())
        .map((s) => parseThreshold(s, '--threshold')),
    );
  const workersOpt = opt('workers');
  const workers = workersOpt !== undefined ? Number(workersOpt) : scenario.workers || availableParallelism();
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new ConfigError('--workers', `expected 1 to 64 (got ${workersOpt})`);
  const url = opt('url');
  const feedMode = opt('feed') ?? (url ? 'none' : 'synthetic');
  if (feedMode !== 'synthetic' && feedMode !== 'none') throw new ConfigError('--feed', `expected synthetic or none (got ${feedMode})`);
  if (!url && feedMode === 'none') throw new ConfigError('--feed', 'a gateway the run starts itself has no upstream but the synthetic feed');
  if (url && !/^wss?:\/\//.test(url)) throw new ConfigError('--url', `expected ws://host:port/ws (got ${url})`);
  if (feedMode === 'synthetic' && !scenario.feed) throw new ConfigError('--feed', `scenario ${scenario.name} describes no feed`);
  if (url && scenario.restarts.length) throw new ConfigError('--url', `scenario ${scenario.name} restarts the gateway: it needs one the run starts itself`);

  const id = `load_${randomBytes(4).toString('hex')}`;
  // The run's own configuration: private topics unless the gateway is someone else's.
  const runConfig = url ? config : loadConfig({ env: { ...process.env, ...privateEnv(id) } });
  const { createKafka } = await import('../stream/kafka.js');
  const kafka = feedMode === 'synthetic' ? createKafka(runConfig, 'load') : undefined;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const headers: Record<string, string> = {};
    if (opt('token')) headers.authorization = `Bearer ${opt('token')}`;
    if (opt('apikey')) headers['x-api-key'] = opt('apikey')!;
    let gateway: GatewayProcess | undefined;
    let target: RunTarget;
    if (url) {
      const u = new URL(url);
      target = { wsUrl: url, httpBase: `${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}`, headers, metrics: true, pid: undefined };
    } else {
      const { freePort } = await import('../load/housekeeping.js');
      const port = await freePort();
      gateway = new GatewayProcess({
        args: ['--enable-source-maps', join(projectRoot(), 'dist/src/cli/main.js'), 'gateway'],
        env: { ...process.env, ...privateEnv(id), TE_GATEWAY_PORT: String(port), TE_GATEWAY_HOST: '127.0.0.1' },
        port,
      });
      const g = gateway;
      cleanups.push(() => g.stop());
      const pid = await gateway.start();
      target = { wsUrl: `ws://127.0.0.1:${port}/ws`, httpBase: g.httpBase, headers, metrics: true, pid, restart: (downS) => g.restart(downS) };
    }
    let symbols: string[];
    if (kafka && scenario.feed) {
      const feed = new SyntheticFeed(scenario.feed, runConfig, kafka, log);
      await feed.start();
      cleanups.unshift(() => feed.stop());
      symbols = feed.symbols;
      if (scenario.rest?.seedBars) {
        const { seedHistory, dropHistory } = await import('../load/seed-history.js');
        cleanups.push(() => dropHistory(runConfig));
        await seedHistory(runConfig, symbols, scenario.rest.seedBars, log);
      }
    } else {
      const res = await fetch(`${target.httpBase}/api/v1/instruments`, { headers });
      symbols = res.ok ? ((await res.json()) as { symbols: string[] }).symbols : [];
      if (symbols.length === 0) throw new ConfigError('--url', `the gateway at ${target.httpBase} lists no symbols yet (GET /api/v1/instruments)`);
    }
    const maxClients = Math.max(...scenario.stages.map((s) => s.clients));
    const result = await runScenario({
      scenario,
      target,
      specs: planClients(scenario, symbols, maxClients),
      symbols,
      workers,
      log,
      progress: options.get('quiet') !== true,
      restInterval: scenario.feed?.intervals[0] ?? config.intervals[0]!.name,
    });
    process.stdout.write(summaryTable(result));
    const files = writeResults(opt('out') ?? join(projectRoot(), 'bench/results'), scenario.name, [result], `tick-engine load ${scenario.name}`);
    process.stdout.write(`\n  result: ${files.json}\n  report: ${files.html}\n`);
    return result.passed ? 0 : THRESHOLDS_FAILED_EXIT;
  } finally {
    for (const c of cleanups) await c().catch((err: unknown) => log.warn({ err }, 'load: cleanup failed'));
    if (kafka && !url) {
      const { deleteTopics } = await import('../load/housekeeping.js');
      await deleteTopics(
        kafka,
        Object.values(privateEnv(id)).filter((t) => t.includes('.')),
      ).catch((err: unknown) => log.warn({ err }, 'load: topics not deleted'));
    }
  }
}
