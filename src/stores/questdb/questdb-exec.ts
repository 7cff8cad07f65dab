// One SQL statement through QuestDB's HTTP /exec (DDL, and reads where the pg wire is not needed).
import { SinkError } from '../../errors.js';

export interface QuestDbAnswer {
  dataset?: unknown[][];
  columns?: { name: string }[];
  count?: number;
  error?: string;
}

export async function questdbExec(httpUrl: string, sql: string, timeoutMs = 30_000): Promise<QuestDbAnswer> {
  const res = await fetch(`${httpUrl.replace(/\/$/, '')}/exec?query=${encodeURIComponent(sql)}`, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await res.json()) as QuestDbAnswer;
  if (!res.ok || body.error) throw new SinkError('questdb', body.error ?? `HTTP ${res.status}`);
  return body;
}
