// A load scenario (bench/scenarios/*.json): stages of clients, what they subscribe to, the feed that drives the
// gateway, REST traffic, reconnect storms and the thresholds that decide the exit code; validated once, with the
// path of the bad field in the message.
import { ConfigError } from '../errors.js';
import { parseThreshold, type Threshold } from './thresholds.js';

export interface Stage {
  /** Seconds to move from the previous stage's client count (0 at the start) to `clients`, linearly. */
  durationS: number;
  clients: number;
}

export type Encoding = 'json' | 'avro';
export type LoadChannel = 'bars' | 'trades' | 'signals';

/** One kind of client, chosen for a share of the connections by `weight`. */
export interface ClientMix {
  weight: number;
  channel: LoadChannel;
  /** bars and signals: one subscription per interval. */
  intervals: string[];
  /** 'one': the first symbol; 'many': `count` symbols picked per client; '*': the pattern. */
  symbols: 'one' | 'many' | '*';
  count: number;
  encoding: Encoding;
}

export interface SlowReaders {
  /** Share of clients (0–1) that stop reading now and then. */
  share: number;
  /** They stop reading for `pauseMs` every `everyMs`. */
  pauseMs: number;
  everyMs: number;
}

export interface SyntheticFeed {
  symbols: number;
  intervals: string[];
  /** In-progress updates per (symbol, interval) and second, on the bars.live topic. */
  updatesPerSecond: number;
  /** Trades per second over all symbols, on the ticks topic (0: none). */
  tradesPerSecond: number;
  /** Share of final bars (0–1) followed by a signal. */
  signalShare: number;
}

export interface RestLoad {
  /** Requests per second over all connections. */
  rate: number;
  connections: number;
  /** Bar history pages, quotes, or both, in turn. */
  kinds: ('history' | 'quote')[];
  /** History: bars per page. */
  limit: number;
  /** History: bars seeded per symbol before the run (the spawned gateway reads them from a table of its own). */
  seedBars: number;
}

export interface Restart {
  /** Seconds into the run at which the spawned gateway is stopped and started again. */
  atS: number;
  /** Seconds it stays down. */
  downS: number;
}

export interface Scenario {
  name: string;
  description: string;
  stages: Stage[];
  mix: ClientMix[];
  slowReaders: SlowReaders | undefined;
  feed: SyntheticFeed | undefined;
  rest: RestLoad | undefined;
  restarts: Restart[];
  /** Worker threads running the clients (0: one per core). */
  workers: number;
  thresholds: Threshold[];
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** '90s', '2m', '1h', '500ms' (or a number of seconds) → seconds. */
export function parseDuration(v: unknown, key: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const m = typeof v === 'string' ? DURATION.exec(v) : null;
  if (!m) throw new ConfigError(key, `expected a duration such as 30s, 2m, 1h or 500ms (got ${JSON.stringify(v)})`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(
    readonly o: Obj,
    readonly path: string,
  ) {}
  private key(k: string): string {
    return `${this.path}.${k}`;
  }
  has(k: string): boolean {
    return this.o[k] !== undefined;
  }
  num(k: string, dflt: number | undefined, min: number, max: number): number {
    const v = this.o[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      throw new ConfigError(this.key(k), `expected a number in [${min}, ${max}] (got ${JSON.stringify(this.o[k])})`);
    return v;
  }
  str<T extends string>(k: string, dflt: T | undefined, allowed?: readonly T[]): T {
    const v = this.o[k] ?? dflt;
    if (typeof v !== 'string' || (allowed && !allowed.includes(v as T)))
      throw new ConfigError(this.key(k), `expected ${allowed ? `one of ${allowed.join(', ')}` : 'a string'} (got ${JSON.stringify(this.o[k])})`);
    return v as T;
  }
  strings(k: string, dflt: string[] | undefined): string[] {
    const v = this.o[k] ?? dflt;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
      throw new ConfigError(this.key(k), `expected a list of strings (got ${JSON.stringify(this.o[k])})`);
    return v as string[];
  }
  duration(k: string, dflt?: string): number {
    return parseDuration(this.o[k] ?? dflt, this.key(k));
  }
  obj(k: string): Reader | undefined {
    const v = this.o[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(this.key(k), 'expected an object');
    return new Reader(v as Obj, this.key(k));
  }
  list(k: string): Reader[] {
    const v = this.o[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new ConfigError(this.key(k), 'expected a list');
    return v.map((x, i) => {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ConfigError(`${this.key(k)}[${i}]`, 'expected an object');
      return new Reader(x as Obj, `${this.key(k)}[${i}]`);
    });
  }
  only(keys: string[]): void {
    for (const k of Object.keys(this.o)) if (!keys.includes(k)) throw new ConfigError(this.key(k), `unknown field (known: ${keys.join(', ')})`);
  }
}

/**
 * `${name}` in any string is replaced by the parameter's value: the scenario's `params` give defaults, `overrides`
 * (--param name=value) win. A string that is exactly one reference to a number-like value becomes that number.
 */
function substitute(v: unknown, params: Record<string, string>, where: string): unknown {
  if (typeof v === 'string') {
    const out = v.replace(/\$\{(\w+)\}/g, (_, p: string) => {
      if (!(p in params)) throw new ConfigError(where, `unknown parameter \${${p}} (known: ${Object.keys(params).join(', ') || 'none'})`);
      return params[p]!;
    });
    return out !== v && /^\d+(\.\d+)?$/.test(out) ? Number(out) : out;
  }
  if (Array.isArray(v)) return v.map((x, i) => substitute(x, params, `${where}[${i}]`));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, params, `${where}.${k}`)]));
  return v;
}

/** Validate a scenario file's JSON; `knownIntervals`: the intervals the gateway serves. */
export function parseScenario(json: unknown, name: string, overrides: Record<string, string> = {}, knownIntervals?: ReadonlySet<string>): Scenario {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(name, 'a scenario is a JSON object');
  const rawParams = (json as Obj).params ?? {};
  if (typeof rawParams !== 'object' || rawParams === null) throw new ConfigError(`${name}.params`, 'expected an object');
  const params: Record<string, string> = Object.fromEntries(Object.entries(rawParams).map(([k, v]) => [k, String(v)]));
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in params)) throw new ConfigError(`--param ${k}`, `scenario ${name} has no parameter ${k} (it has: ${Object.keys(params).join(', ') || 'none'})`);
    params[k] = v;
  }
  const r = new Reader(substitute({ ...(json as Obj), params: undefined }, params, name) as Obj, name);
  r.only(['params', 'description', 'stages', 'mix', 'slowReaders', 'feed', 'rest', 'restarts', 'workers', 'thresholds']);
  const intervalOk = (iv: string, key: string) => {
    if (knownIntervals && !knownIntervals.has(iv)) throw new ConfigError(key, `interval ${iv} is not served (TE_INTERVALS: ${[...knownIntervals].join(', ')})`);
  };
  const stages = r.list('stages').map((s) => {
    s.only(['duration', 'clients']);
    return { durationS: s.duration('duration'), clients: Math.round(s.num('clients', undefined, 0, 100_000)) };
  });
  if (stages.length === 0) throw new ConfigError(`${name}.stages`, 'at least one stage is needed');
  const mix = r.list('mix').map((m) => {
    m.only(['weight', 'channel', 'intervals', 'symbols', 'count', 'encoding']);
    const channel = m.str<LoadChannel>('channel', 'bars', ['bars', 'trades', 'signals']);
    const intervals = channel === 'trades' ? [] : m.strings('intervals', ['1s']);
    if (channel !== 'trades' && intervals.length === 0) throw new ConfigError(`${m.path}.intervals`, 'bars and signals need at least one interval');
    intervals.forEach((iv, i) => intervalOk(iv, `${m.path}.intervals[${i}]`));
    return {
      weight: m.num('weight', 1, 0, 1e6),
      channel,
      intervals,
      symbols: m.str('symbols', 'one', ['one', 'many', '*']),
      count: Math.round(m.num('count', 10, 1, 10_000)),
      encoding: m.str<Encoding>('encoding', 'json', ['json', 'avro']),
    };
  });
  if (mix.length === 0) throw new ConfigError(`${name}.mix`, 'at least one kind of client is needed');
  const sr = r.obj('slowReaders');
  sr?.only(['share', 'pause', 'every']);
  const fr = r.obj('feed');
  fr?.only(['symbols', 'intervals', 'updatesPerSecond', 'tradesPerSecond', 'signalShare']);
  const feed = fr && {
    symbols: Math.round(fr.num('symbols', 10, 1, 100_000)),
    intervals: fr.strings('intervals', ['1s']),
    updatesPerSecond: fr.num('updatesPerSecond', 10, 0, 1000),
    tradesPerSecond: fr.num('tradesPerSecond', 0, 0, 1e6),
    signalShare: fr.num('signalShare', 0, 0, 1),
  };
  feed?.intervals.forEach((iv, i) => intervalOk(iv, `${name}.feed.intervals[${i}]`));
  const rr = r.obj('rest');
  rr?.only(['rate', 'connections', 'kinds', 'limit', 'seedBars']);
  const kinds = rr?.strings('kinds', ['history', 'quote']) ?? [];
  for (const k of kinds) if (k !== 'history' && k !== 'quote') throw new ConfigError(`${name}.rest.kinds`, `expected history or quote (got ${k})`);
  return {
    name,
    description: r.has('description') ? r.str('description', '') : '',
    stages,
    mix,
    slowReaders: sr && { share: sr.num('share', undefined, 0, 1), pauseMs: sr.duration('pause', '2s') * 1000, everyMs: sr.duration('every', '5s') * 1000 },
    feed,
    rest: rr && {
      rate: rr.num('rate', 100, 1, 1e6),
      connections: Math.round(rr.num('connections', 10, 1, 10_000)),
      kinds: kinds as ('history' | 'quote')[],
      limit: Math.round(rr.num('limit', 500, 1, 5000)),
      seedBars: Math.round(rr.num('seedBars', 0, 0, 1e6)),
    },
    restarts: r.list('restarts').map((x) => {
      x.only(['at', 'down']);
      return { atS: x.duration('at'), downS: x.duration('down', '1s') };
    }),
    workers: Math.round(r.has('workers') ? r.num('workers', 0, 0, 64) : 0),
    thresholds: (r.has('thresholds') ? r.strings('thresholds', []) : []).map((t, i) => parseThreshold(t, `${name}.thresholds[${i}]`)),
  };
}

/** Seconds the stages last in all. */
export function totalDurationS(s: Scenario): number {
  return s.stages.reduce((n, st) => n + st.durationS, 0);
}

/** The client count the stages call for `t` seconds into the run (linear ramps, like k6's ramping-vus). */
export function clientsAt(stages: readonly Stage[], t: number): number {
  let from = 0;
  let start = 0;
  for (const st of stages) {
    if (t < start + st.durationS) return Math.round(from + ((st.clients - from) * (t - start)) / Math.max(st.durationS, 1e-9));
    from = st.clients;
    start += st.durationS;
  }
  return from;
}
