// `tick-engine export` options, checked before any store is asked: what, which symbols and intervals, which range,
// which format, where. Each problem is a ConfigError naming the flag (the command exits 2 on it).
import { ConfigError } from '../../errors.js';
import { parseInterval } from '../../contracts/interval.js';
import { compileSymbolPatterns, validatePattern } from '../../contracts/symbol-pattern.js';
import { parseIsoMicros } from '../../time.js';

/** What an export can read: bars from any store, or archived ticks (the tick archive in QuestDB). */
export const EXPORT_WHAT = ['bars', 'ticks'] as const;
export const EXPORT_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The latest instant a range may name, as the REST history's (an exact integer of µs). */
export const MAX_EXPORT_TIME = 7_258_118_400_000_000; // 2200-01-01

export interface ExportPlan {
  what: (typeof EXPORT_WHAT)[number];
  /** The patterns as given ('BTC-*', 'ETH-USD', '*'). */
  patterns: string[];
  matches: (symbol: string) => boolean;
  /** Interval names to export; undefined = every interval the store holds. */
  intervals: string[] | undefined;
  /** Bucket starts (bars) or event times (ticks) in [from, to), µs. */
  from: number;
  to: number;
  format: ExportFormat;
  /** A file path, or '-' for standard output. */
  out: string;
}

const EXTENSIONS: Record<string, ExportFormat> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.parquet': 'parquet' };

/** µs since the epoch as an integer, or an ISO-8601 instant, from 1970 to 2200 (as the REST history's from/to). */
function parseTime(flag: string, raw: string): number {
  const us = /^-?\d+$/.test(raw) ? Number(raw) : parseIsoMicros(raw);
  if (us === undefined) throw new ConfigError(flag, `must be µs since the epoch or an ISO-8601 instant such as 2024-01-02T03:04:05Z (got '${raw}')`);
  if (!Number.isSafeInteger(us) || us < 0 || us > MAX_EXPORT_TIME) throw new ConfigError(flag, `must be between 1970-01-01 and 2200-01-01 (got '${raw}')`);
  return us;
}

function list(flag: string, raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new ConfigError(flag, `has an empty item (got '${raw}')`);
  return [...new Set(items)];
}

export function exportPlan(options: ReadonlyMap<string, string | boolean>): ExportPlan {
  const opt = (name: string) => options.get(name) as string | undefined;
  const what = opt('what') ?? 'bars';
  if (!(EXPORT_WHAT as readonly string[]).includes(what)) throw new ConfigError('--what', `must be one of ${EXPORT_WHAT.join(', ')} (got '${what}')`);

  const rawSymbols = opt('symbols');
  if (rawSymbols === undefined) throw new ConfigError('--symbols', "is required: symbols or patterns, comma-separated ('BTC-*,ETH-USD'; '*' for every symbol)");
  const patterns = list('--symbols', rawSymbols);
  for (const p of patterns) {
    try {
      validatePattern(p);
    } catch (err) {
      throw new ConfigError('--symbols', (err as Error).message);
    }
  }

  let intervals: string[] | undefined;
  const rawIntervals = opt('interval');
  if (rawIntervals !== undefined && what === 'ticks') throw new ConfigError('--interval', 'applies to bars only (--what ticks exports trades)');
  if (rawIntervals !== undefined) {
    intervals = list('--interval', rawIntervals);
    for (const name of intervals) {
      try {
        parseInterval(name);
      } catch (err) {
        throw new ConfigError('--interval', (err as Error).message);
      }
    }
  }

  const from = opt('from') !== undefined ? parseTime('--from', opt('from')!) : 0;
  const to = opt('to') !== undefined ? parseTime('--to', opt('to')!) : MAX_EXPORT_TIME;
  if (from >= to) throw new ConfigError('--from', `must be before --to (got ${opt('from') ?? 'the start'} and ${opt('to') ?? 'the end'})`);

  const out = opt('out') ?? '-';
  if (out === '') throw new ConfigError('--out', "must be a file path or '-' (standard output)");
  const rawFormat = opt('format');
  let format: ExportFormat;
  if (rawFormat !== undefined) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(rawFormat))
      throw new ConfigError('--format', `must be one of ${EXPORT_FORMATS.join(', ')} (got '${rawFormat}')`);
    format = rawFormat as ExportFormat;
  } else if (out === '-') {
    format = 'csv';
  } else {
    const ext = /\.[^./]+$/.exec(out)?.[0]?.toLowerCase() ?? '';
    const known = EXTENSIONS[ext];
    if (!known) throw new ConfigError('--format', `is required: the name ${out} does not say (.csv, .jsonl, .ndjson or .parquet)`);
    format = known;
  }
  if (format === 'parquet' && out === '-') throw new ConfigError('--out', 'Parquet is written to a file: give --out FILE.parquet');

  return { what: what as ExportPlan['what'], patterns, matches: compileSymbolPatterns(patterns), intervals, from, to, format, out };
}
