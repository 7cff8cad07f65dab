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

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Whether QuestDB has a table of that name. */
export async function questdbTableExists(httpUrl: string, table: string, timeoutMs?: number): Promise<boolean> {
  return ((await questdbExec(httpUrl, `SELECT table_name FROM tables() WHERE table_name = ${quote(table)}`, timeoutMs)).count ?? 0) > 0;
}

/** QuestDB's partition-wise retention: a TTL of `days` whole days on `table`, 0 = none. Returns the report line. */
export async function setQuestDbTtl(httpUrl: string, table: string, days: number, timeoutMs?: number): Promise<string> {
  await questdbExec(httpUrl, `ALTER TABLE ${table} SET TTL ${days} DAYS`, timeoutMs);
  return `${table}: TTL ${days === 0 ? 'none' : `${days} days`}`;
}
