// The Kafka header on bar records saying when the aggregator produced them, in ms since the epoch: on every final bar,
// and on one in-progress update in 64 (a sample). The record's own timestamp is the closing tick's; this one lets the
// gateway time the hop from the aggregator to itself (tick_engine_stage_seconds).
import type { IHeaders } from 'kafkajs';

export const PUBLISHED_HEADER = 'te-pub';

/** The header for records produced now. */
export const publishedHeader = (): Record<string, string> => ({ [PUBLISHED_HEADER]: String(Date.now()) });

/** When a record was produced by the aggregator, from its header; undefined without one (an older engine's record). */
export function publishedAt(headers: IHeaders | undefined): number | undefined {
  const v = headers?.[PUBLISHED_HEADER];
  if (v === undefined) return undefined;
  const n = Number(String(Array.isArray(v) ? v[0] : v));
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
