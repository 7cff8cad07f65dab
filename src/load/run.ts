// One load run: the stages drive the client count, the gateway is sampled, REST traffic and gateway restarts
// happen on cue, a progress line is redrawn each second; at the end every figure, the timeline and the
// thresholds' verdicts.
import { availableParallelism, loadavg } from 'node:os';
import type { Logger } from '../log.js';
import { InternalError } from '../errors.js';
import { GatewayProbe, type GatewaySample } from './gateway-probe.js';
import { emptyWindow, LoadGenerator, mergeWindow } from './generator.js';
import { summarize, type LatencySummary } from './latency-histogram.js';
import type { ClientSpec } from './load-client.js';
import { runRestLoad, type RestSummary } from './rest-load.js';
import { clientsAt, totalDurationS, type Scenario } from './scenario.js';
import { evaluateThresholds, type ThresholdResult } from './thresholds.js';

export interface RunTarget {
  /** ws://…/ws */
  wsUrl: string;
  /** http://host:port (REST and /metrics). */
  httpBase: string;
  /** Credentials for the upgrade and REST requests. */
  headers: Record<string, string>;
  /** Whether the gateway serves tick-engine /metrics. */
  metrics: boolean;
  pid: number | undefined;
  /** Stop the gateway, wait `downS`, start it again; resolves with the new pid. Only for a gateway the run owns. */
  restart?: (downS: number) => Promise<number | undefined>;
}

export interface TimelinePoint {
  t: number;
  target: number;
  open: number;
  messagesPerS: number;
  bytesPerS: number;
  sendP50: number;
  sendP99: number;
  sourceP99: number;
  gaps: number;
  errors: number;
  disconnects: number;
  generatorCpu: number;
  generatorBusy: number;
  gatewayCpu?: number;
  gatewayRssMiB?: number;
}

export interface RunResult {
  scenario: string;
  label: string;
  startedAt: string;
  durationS: number;
  machine: { cores: number; loadavgStart: number[]; loadavgEnd: number[] };
  passed: boolean;
  thresholds: ThresholdResult[];
  figures: Record<string, number>;
  latency: { send: LatencySummary; source: LatencySummary; resubscribe: LatencySummary };
  closes: Record<string, number>;
  rest: RestSummary | undefined;
  timeline: TimelinePoint[];
  gateway: GatewaySample[];
  /** Seconds in which a generator thread was at least 90 % busy: figures from those seconds measure the harness too. */
  generatorSaturatedS: number;
  notes: string[];
}

export interface RunOptions {
  scenario: Scenario;
  /** Shown in reports (e.g. "uws 1000 clients"). */
  label?: string;
  target: RunTarget;
  specs: ClientSpec[];
  symbols: readonly string[];
  workers: number;
  log: Logger;
  /** Progress lines on stderr. */
  progress: boolean;
  restInterval?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sum of a counter's increases over the samples, across process restarts (a counter that went down started again). */
function increase(samples: GatewaySample[], k: 'conflated' | 'dropped' | 'backpressureClosed'): number {
  let n = 0;
  let prev: number | undefined;
  for (const s of samples) {
    const v = s[k];
    if (v === undefined) continue;
    n += prev === undefined ? 0 : v >= prev ? v - prev : v;
    prev = v;
  }
  return n;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export async function runScenario(o: RunOptions): Promise<RunResult> {
  const { scenario, target, log } = o;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadavgStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const duration = totalDurationS(scenario);
  const gen = new LoadGenerator({
    client: { url: target.wsUrl, headers: target.headers, slowPauseMs: scenario.slowReaders?.pauseMs ?? 0, slowEveryMs: scenario.slowReaders?.everyMs ?? 1000 },
    specs: o.specs,
    workers: o.workers,
  });
  const probe = new GatewayProbe(target.metrics ? target.httpBase : undefined, target.pid, started);
  await probe.sample(); // the CPU baseline
  gen.start();
  const total = emptyWindow();
  const timeline: TimelinePoint[] = [];
  const notes: string[] = [];
  let maxOpen = 0;
  let saturated = 0;
  const genCpu: number[] = [];
  const restartAt: number[] = [];

  const rest = scenario.rest
    ? runRestLoad(scenario.rest, { base: target.httpBase, headers: target.headers, symbols: o.symbols, interval: o.restInterval ?? '1s' }, duration)
    : undefined;
  const restarts = scenario.restarts.map((r) =>
    sleep(r.atS * 1000).then(async () => {
      if (!target.restart) throw new InternalError('restarts need a gateway the run started itself (the load command checks this first)');
      restartAt.push((performance.now() - started) / 1000);
      log.info({ atS: r.atS, downS: r.downS }, 'restarting the gateway');
      const pid = await target.restart(r.downS);
      probe.restarted(pid);
    }),
  );

  const elapsed = () => (performance.now() - started) / 1000;
  const driver = setInterval(() => gen.setTarget(clientsAt(scenario.stages, elapsed())), 250);
  gen.setTarget(clientsAt(scenario.stages, 0));
  const tty = process.stderr.isTTY === true;
  while (elapsed() < duration) {
    await sleep(1000 - ((performance.now() - started) % 1000));
    const { window: w, cpu } = gen.take();
    mergeWindow(total, w);
    maxOpen = Math.max(maxOpen, w.open);
    genCpu.push(cpu);
    if (w.utilization >= 0.9) saturated++;
    const g = await probe.sample();
    const t = Math.round(elapsed());
    const s = summarize(w.send);
    const point: TimelinePoint = {
      t,
      target: clientsAt(scenario.stages, elapsed()),
      open: w.open,
      messagesPerS: w.messages,
      bytesPerS: w.bytes,
      sendP50: s.p50,
      sendP99: s.p99,
      sourceP99: summarize(w.source).p99,
      gaps: w.gaps,
      errors: w.errors,
      disconnects: w.disconnects,
      generatorCpu: Math.round(cpu),
      generatorBusy: Math.round(w.utilization * 100),
    };
    if (g) {
      point.gatewayCpu = Math.round(g.cpu);
      point.gatewayRssMiB = g.rssMiB;
    }
    timeline.push(point);
    if (o.progress) {
      const line =
        `${o.label ?? scenario.name} ${String(t).padStart(4)}s/${duration}s clients ${point.open}/${point.target} ` +
        `msg/s ${point.messagesPerS} send p99 ${point.sendP99} ms gaps ${total.gaps} err ${total.errors} disc ${total.disconnects} ` +
        `gw cpu ${point.gatewayCpu ?? '-'}% rss ${point.gatewayRssMiB ?? '-'} MiB | gen cpu ${point.generatorCpu}% busy ${point.generatorBusy}%`;
      process.stderr.write(tty ? `\r${line.padEnd(160)}` : `${line}\n`);
    }
  }
  if (o.progress && tty) process.stderr.write('\n');
  clearInterval(driver);
  const restSummary = rest ? await rest.done : undefined;
  await Promise.all(restarts);
  await gen.stop();
  mergeWindow(total, gen.take().window);

  const durationS = (performance.now() - started) / 1000;
  const send = summarize(total.send);
  const source = summarize(total.source);
  const resubscribe = summarize(total.resubscribe);
  const gw = probe.samples;
  const figures: Record<string, number> = {
    messages: total.messages,
    'messages.rate': Math.round(total.messages / duration),
    bytes: total.bytes,
    'bytes.rate': Math.round(total.bytes / duration),
    gaps: total.gaps,
    'trade.gaps': total.tradeGaps,
    errors: total.errors,
    'errors.rate': total.errors / Math.max(1, total.attempts),
    disconnects: total.disconnects,
    'connections.max': maxOpen,
    'connections.attempts': total.attempts,
    snapshots: total.snapshots,
    resubscribed: total.resubscribed,
    'generator.cpu.max': Math.round(Math.max(0, ...genCpu)),
    'generator.cpu.avg': Math.round(mean(genCpu)),
    'generator.saturated': saturated,
  };
  for (const [k, v] of Object.entries(send)) if (k !== 'count') figures[`latency.send.${k}`] = v;
  for (const [k, v] of Object.entries(source)) if (k !== 'count' && source.count > 0) figures[`latency.source.${k}`] = v;
  for (const [k, v] of Object.entries(resubscribe)) if (k !== 'count' && resubscribe.count > 0) figures[`resubscribe.${k}`] = v;
  for (const [code, n] of Object.entries(total.closes)) figures[`closes.${code}`] = n;
  if (gw.length) {
    figures['gateway.cpu.avg'] = Math.round(mean(gw.map((s) => s.cpu)));
    figures['gateway.cpu.max'] = Math.round(Math.max(...gw.map((s) => s.cpu)));
    figures['gateway.rss.max'] = Math.max(...gw.map((s) => s.rssMiB));
    figures['gateway.rss.end'] = gw[gw.length - 1]!.rssMiB;
    if (gw.some((s) => s.conflated !== undefined)) {
      figures['gateway.conflated'] = increase(gw, 'conflated');
      figures['gateway.dropped'] = increase(gw, 'dropped');
      figures['gateway.backpressure_closed'] = increase(gw, 'backpressureClosed');
    }
    const lags = gw.flatMap((s) => (s.eventLoopP99Ms === undefined ? [] : [s.eventLoopP99Ms]));
    if (lags.length) figures['gateway.eventloop.p99'] = Math.max(...lags);
    if (restartAt.length) {
      // CPU over the last 5 s against the 5 s before the first restart: ≈ 1 once the reconnect storm has passed.
      const before = gw.filter((s) => s.t < restartAt[0]! && s.t >= restartAt[0]! - 5).map((s) => s.cpu);
      const after = gw.slice(-5).map((s) => s.cpu);
      if (before.length && after.length) figures['gateway.cpu.recovered'] = Math.round((100 * mean(after)) / Math.max(1, mean(before))) / 100;
    }
  }
  if (restSummary) {
    figures['rest.requests'] = restSummary.requests;
    figures['rest.errors'] = restSummary.errors + restSummary.non2xx;
    figures['rest.error_rate'] = (restSummary.errors + restSummary.non2xx) / Math.max(1, restSummary.requests);
    figures['rest.rate'] = restSummary.rate;
    for (const [k, v] of Object.entries(restSummary.latency)) figures[`rest.latency.${k}`] = v;
  }
  if (saturated > 0)
    notes.push(
      `the generator was the bottleneck for ${saturated} s (a worker thread ≥ 90 % busy): figures of those seconds measure the harness as well as the gateway`,
    );
  const thresholds = evaluateThresholds(scenario.thresholds, figures);
  return {
    scenario: scenario.name,
    label: o.label ?? scenario.name,
    startedAt,
    durationS: Math.round(durationS * 10) / 10,
    machine: { cores: availableParallelism(), loadavgStart, loadavgEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    passed: thresholds.every((t) => t.ok),
    thresholds,
    figures,
    latency: { send, source, resubscribe },
    closes: total.closes,
    rest: restSummary,
    timeline,
    gateway: gw,
    generatorSaturatedS: saturated,
    notes,
  };
}
