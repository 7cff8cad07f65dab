// Thresholds, as k6 has them: "latency.send.p99 < 100" over a run's figures; any that fails makes the run fail.
import { ConfigError } from '../errors.js';

type Op = '<=' | '>=' | '==' | '!=' | '<' | '>';

export interface Threshold {
  /** As written in the scenario. */
  source: string;
  metric: string;
  op: Op;
  value: number;
}

export interface ThresholdResult extends Threshold {
  /** The run's figure; undefined when the run did not produce it (which fails the threshold). */
  actual: number | undefined;
  ok: boolean;
}

const PCTS = ['p50', 'p90', 'p99', 'p999', 'max', 'mean'];

/** Every figure a threshold may name (closes.<code> counts WebSocket close codes). */
export const METRICS: ReadonlySet<string> = new Set([
  ...['send', 'source'].flatMap((k) => PCTS.map((p) => `latency.${k}.${p}`)),
  ...PCTS.map((p) => `rest.latency.${p}`),
  ...PCTS.map((p) => `resubscribe.${p}`),
  'messages',
  'messages.rate',
  'bytes',
  'bytes.rate',
  'gaps',
  'trade.gaps',
  'errors',
  'errors.rate',
  'disconnects',
  'connections.max',
  'connections.attempts',
  'snapshots',
  'resubscribed',
  'rest.requests',
  'rest.errors',
  'rest.error_rate',
  'rest.rate',
  'gateway.cpu.avg',
  'gateway.cpu.max',
  'gateway.cpu.recovered',
  'gateway.rss.max',
  'gateway.rss.end',
  'gateway.conflated',
  'gateway.dropped',
  'gateway.backpressure_closed',
  'gateway.eventloop.p99',
  'generator.cpu.max',
  'generator.cpu.avg',
  'generator.saturated',
]);

const known = (m: string) => METRICS.has(m) || /^closes\.\d{4}$/.test(m);

/** "metric op number"; throws ConfigError naming `where` and the known metrics otherwise. */
export function parseThreshold(text: string, where: string): Threshold {
  const m = /^\s*([a-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i.exec(text);
  if (!m) throw new ConfigError(where, `a threshold reads "metric op number", e.g. "latency.send.p99 < 100" (got ${JSON.stringify(text)})`);
  const metric = m[1]!;
  if (!known(metric)) throw new ConfigError(where, `unknown metric ${metric} (known: ${[...METRICS].join(', ')}, closes.<code>)`);
  return { source: text.trim(), metric, op: m[2] as Op, value: Number(m[3]) };
}

function holds(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/** Each threshold against the run's figures; a figure the run lacks fails its threshold (never a silent pass). */
export function evaluateThresholds(thresholds: readonly Threshold[], figures: Readonly<Record<string, number>>): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = figures[t.metric] ?? (t.metric.startsWith('closes.') ? 0 : undefined);
    return { ...t, actual, ok: actual !== undefined && Number.isFinite(actual) && holds(actual, t.op, t.value) };
  });
}

/** Exit code of a run whose thresholds failed (k6 uses the same). */
export const THRESHOLDS_FAILED_EXIT = 99;
