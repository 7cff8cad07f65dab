// Storage policies every store applies in `tick-engine maintain`: what to keep (retention per interval), when to
// compress, how far ahead to prepare partitions; and what a run did.
import type { Config } from '../config.js';
import { parseDuration, RetentionPolicy } from '../contracts/retention.js';

export interface MaintainPolicy {
  retention: RetentionPolicy;
  /** The intervals the engine writes (TE_INTERVALS): with those TE_RETENTION names, the ones whose rows are trimmed. */
  intervals: readonly string[];
  /** TimescaleDB: compress chunks whose whole range is older than this (µs); null = never. */
  compressAfterUs: number | null;
  /** TimescaleDB: the time range of new chunks (µs). */
  chunkIntervalUs: number;
  /** PostgreSQL: daily partitions prepared ahead of today. */
  partitionsAhead: number;
  /** The clock (ms since epoch); tests set it, otherwise now. */
  nowMs?: number;
}

export interface MaintainReport {
  store: string;
  target: string;
  /** How the policies were applied: run here ('explicit'), or registered with the server's own jobs ('jobs'). */
  how: 'explicit' | 'jobs';
  /** Chunks or partitions dropped whole (every interval in them expired). */
  dropped: string[];
  /** Rows deleted per interval (bars and signals) from chunks or partitions that also hold bars still kept. */
  deleted: Record<string, number>;
  /** Chunks compressed by this run. */
  compressed: string[];
  /** Partitions created ahead. */
  created: string[];
  /** Server-side jobs registered or settings applied (TimescaleDB policies, QuestDB TTL). */
  settings: string[];
  /** How long the heavy steps took, ms ('delete 1s', 'compress', 'vacuum'). */
  ms: Record<string, number>;
}

export function emptyReport(store: string, target: string, how: MaintainReport['how'] = 'explicit'): MaintainReport {
  return { store, target, how, dropped: [], deleted: {}, compressed: [], created: [], settings: [], ms: {} };
}

/** The intervals whose rows expire, with their cutoffs (µs since epoch): bars with a bucket before it are expired. */
export function expiringIntervals(policy: MaintainPolicy, nowUs: number): { interval: string; cutoffUs: number }[] {
  const names = new Set([...policy.intervals, ...policy.retention.finite.map(([name]) => name)]);
  const out: { interval: string; cutoffUs: number }[] = [];
  for (const interval of names) {
    const keep = policy.retention.keep(interval);
    if (keep !== null) out.push({ interval, cutoffUs: nowUs - keep });
  }
  return out.sort((a, b) => a.interval.localeCompare(b.interval));
}

/** The policies the configuration asks for (TE_RETENTION, TE_COMPRESS_AFTER, TE_PARTITIONS_AHEAD, TE_INTERVALS). */
export function policyFromConfig(config: Config): MaintainPolicy {
  return {
    retention: RetentionPolicy.parse(config.retention),
    intervals: config.intervals.map((i) => i.name),
    compressAfterUs: config.compressAfter === 'off' ? null : parseDuration(config.compressAfter),
    partitionsAhead: config.partitionsAhead,
    chunkIntervalUs: parseDuration(config.chunkInterval),
  };
}
