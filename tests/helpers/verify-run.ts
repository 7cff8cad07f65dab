// After a live run (faults or not): what every place the engine writes to must hold, checked against the offline
// bars over the ticks actually in the ticks topic. Used by the fault e2e test and the fault and soak benchmarks.
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { Kafka } from 'kafkajs';
import type { Config } from '../../src/config.js';
import { projectRoot } from '../../src/paths.js';
import { barId, diffBars, offlineBars, type OracleBar, type OracleTick } from './oracle.js';
import { eachRecord, questDbCount, readPgBars, readQuestDbBars, readTopic, waitFor, withPg } from './stores.js';
import { readWhole } from './topic-reader.js';

/** The tick schema's versions by wire-format id, read from the files (independently of src/stream/schemas.ts). */
const tickTypes = new Map([
  [1, avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/tick.avsc`, 'utf8')) as avro.Schema)],
  [7, avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/tick-v2.avsc`, 'utf8')) as avro.Schema)],
]);
const barType = avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/bar-v2.avsc`, 'utf8')) as avro.Schema);

/** Every tick in the topic, in the order read; records that are not ticks (poison records a test put there) are left out. */
export async function readTicks(kafka: Kafka, topic: string): Promise<OracleTick[]> {
  const out: OracleTick[] = [];
  await eachRecord(
    kafka,
    topic,
    (r) => {
      let tick: OracleTick;
      try {
        tick = tickTypes.get(r.message.value!.readUInt32BE(1))!.fromBuffer(r.message.value!.subarray(5)) as OracleTick;
      } catch {
        return;
      }
      out.push({ ...tick, partition: r.partition, offset: r.offset });
    },
    180_000,
  );
  return out;
}

/**
 * The bars a live run ends with: every bar over the ticks, final (once the feed stops, the idle close finalizes
 * the last ones), with the revisions the event-time watermark gives.
 */
export function expectedLiveBars(ticks: OracleTick[], config: Config): OracleBar[] {
  return offlineBars(ticks, {
    intervals: config.intervals,
    maxOutOfOrder: config.maxOutOfOrderMs * 1000,
    allowedLateness: config.allowedLatenessMs * 1000,
    includeOpen: true,
  }).finalBars.map((b) => ({ ...b, final: true }));
}

export interface RunCheck {
  ticks: number;
  expected: number;
  /** Differences per place (empty when equal). */
  diffs: Record<string, string[]>;
  deadLetters: number;
  /** Bars topic: identities published more than once with the same revision but different bytes. */
  conflictingDuplicates: string[];
  /** Bars topic: records that repeat an earlier one byte for byte (allowed: at-least-once). */
  identicalDuplicates: number;
}

/** Wait until PostgreSQL and QuestDB hold `expected` bars (or the timeout passes), then compare every place. */
export async function checkRun(kafka: Kafka, config: Config, ticks: OracleTick[], expected: OracleBar[], waitMs = 120_000): Promise<RunCheck> {
  const pgCount = () => withPg(config.pgUrl, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${config.barsTable}`)).rows[0].n));
  await waitFor(pgCount, (n) => n >= expected.length, waitMs, 1000).catch(() => undefined);
  await waitFor(
    () => questDbCount(config.questdbHttp, config.barsTable),
    (n) => n >= expected.length,
    60_000,
    1000,
  ).catch(() => undefined);
  const diffs: Record<string, string[]> = {};
  diffs.postgres = diffBars(await readPgBars(config.pgUrl, config.barsTable), expected);
  diffs.timescaledb = diffBars(await readPgBars(config.tsdbUrl, config.barsTable), expected);
  diffs.questdb = diffBars(await readQuestDbBars(config.questdbPgUrl, config.barsTable), expected);

  // The bars topic: the latest revision per identity equals the offline bar; a repeated (identity, revision) must
  // repeat the same bytes.
  const latest = new Map<string, OracleBar>();
  const seen = new Map<string, Buffer>();
  const conflicting = new Set<string>();
  let identical = 0;
  await eachRecord(
    kafka,
    config.topicBars,
    (r) => {
      const value = r.message.value!;
      const bar = barType.fromBuffer(value.subarray(5)) as OracleBar;
      const id = barId(bar);
      const key = `${id}#${bar.revision}`;
      const prev = seen.get(key);
      if (prev) {
        if (prev.equals(value)) identical++;
        else conflicting.add(key);
      } else seen.set(key, value);
      const l = latest.get(id);
      if (!l || bar.revision >= l.revision) latest.set(id, { ...bar });
    },
    180_000,
  );
  diffs.barsTopic = diffBars([...latest.values()], expected);
  const dlq = await readTopic(kafka, config.topicDlq, 60_000);
  return {
    ticks: ticks.length,
    expected: expected.length,
    diffs,
    deadLetters: dlq.length,
    conflictingDuplicates: [...conflicting].slice(0, 10),
    identicalDuplicates: identical,
  };
}

/**
 * Where the bars the live client missed are in the bars topic, read both ways (read_committed and read_uncommitted:
 * aborted copies show only in the second): "id: partition/offset@time rev (committed|aborted)" per copy, for a report.
 */
export async function locateBars(kafka: Kafka, config: Config, ids: string[]): Promise<string[]> {
  const want = new Set(ids);
  const out: string[] = [];
  const committed = new Set<string>();
  for (const readUncommitted of [false, true]) {
    for (const r of await readWhole(kafka, config.topicBars, { readUncommitted })) {
      const bar = barType.fromBuffer(r.message.value!.subarray(5)) as OracleBar;
      const id = barId(bar);
      if (!want.has(id)) continue;
      const where = `${r.partition}/${r.offset}`;
      if (!readUncommitted) committed.add(where);
      else
        out.push(
          `${id}: ${where}@${new Date(Number(r.message.timestamp)).toISOString()} rev ${bar.revision} (${committed.has(where) ? 'committed' : 'aborted'})`,
        );
    }
  }
  return out;
}
