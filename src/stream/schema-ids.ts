// Which schema id each of our schemas carries on the wire, and which of our schemas an id on the wire means.
//
// Without a schema registry these are our own fixed ids (schemas/index.json). With one (TE_SCHEMA_REGISTRY_URL),
// the ids are the registry's: learned at start-up (schema-registry.ts) before the process writes or reads a record,
// and, for an id met later, looked up in the registry and matched to our schemas by their canonical form. The
// table is per process: every writer and reader of one process shares it.
import type { Config } from '../config.js';
import { InternalError } from '../errors.js';
import { schemaById, schemaVersions, type RegisteredSchema, type SchemaName } from './schemas.js';

interface Table {
  /** Our id → the registry's id, for the versions registered under a subject this process writes. */
  write: Map<number, number>;
  /** The registry's id → our schema version. */
  read: Map<number, RegisteredSchema>;
}

let table: Table | undefined;

/** Changes when the process switches between fixed and registry ids: a decoder's cached ids are stale then. */
export let wireIdEpoch = 0;

/** The id written in the header of a record of schema `s`. */
export function wireId(s: RegisteredSchema): number {
  if (!table) return s.id;
  const id = table.write.get(s.id);
  if (id === undefined) throw new InternalError(`schema ${s.name} version ${s.version} was not registered in the schema registry at start-up`);
  return id;
}

/** Our schema behind the id in a record's header, if it is one of ours (known already: see schema-registry.ts for ids met later). */
export function schemaByWireId(id: number): RegisteredSchema | undefined {
  return table ? table.read.get(id) : schemaById(id);
}

/** Every wire id known for `name`'s versions, for messages ("1 or 7"). */
export function wireIdsOf(name: SchemaName): number[] {
  if (!table) return schemaVersions(name).map((v) => v.id);
  return [...table.read]
    .filter(([, s]) => s.name === name)
    .map(([id]) => id)
    .sort((a, b) => a - b);
}

/** Switch this process to registry ids (from then on only ids learned are accepted). */
export function useRegistryIds(): void {
  if (table) return;
  table = { write: new Map(), read: new Map() };
  wireIdEpoch++;
}

/** The registry has `s` as id `id`; `write`: records of `s` are written with it. */
export function learnWireId(id: number, s: RegisteredSchema, opts: { write: boolean }): void {
  useRegistryIds();
  table!.read.set(id, s);
  if (opts.write) table!.write.set(s.id, id);
}

/**
 * The registry ids this process reads, as (wire id, our id) pairs, for a worker thread (its own module state) to
 * import before it decodes; undefined with our fixed ids.
 */
export function exportWireIds(): [number, number][] | undefined {
  return table && [...table.read].map(([id, s]) => [id, s.id]);
}

/** In a worker thread: read with the ids the owning thread exported (exportWireIds). */
export function importWireIds(pairs: readonly [number, number][]): void {
  for (const [id, ours] of pairs) {
    const s = schemaById(ours);
    if (!s) throw new InternalError(`schema id ${ours} is not in schemas/index.json`);
    if (table?.read.get(id) !== s) learnWireId(id, s, { write: false });
  }
}

/** Back to our fixed ids (tests). */
export function resetWireIds(): void {
  table = undefined;
  wireIdEpoch++;
}

/** One subject (TopicNameStrategy: `<topic>-value`) and the schema of its records. */
export interface TopicSubject {
  topic: string;
  subject: string;
  name: SchemaName;
}

/** The value subject of every topic the engine writes Avro records to, for the configured topic names. */
export function topicSubjects(
  config: Pick<Config, 'topicTicks' | 'topicBars' | 'topicBarsLive' | 'topicSignals' | 'topicFeedEvents' | 'topicQuotes'>,
): TopicSubject[] {
  const topics: [string, SchemaName][] = [
    [config.topicTicks, 'tick'],
    [config.topicBars, 'bar'],
    [config.topicBarsLive, 'bar'],
    [config.topicSignals, 'signal'],
    [config.topicFeedEvents, 'feedEvent'],
    [config.topicQuotes, 'quote'],
  ];
  const seen = new Set<string>();
  return topics.filter(([topic]) => !seen.has(topic) && seen.add(topic)).map(([topic, name]) => ({ topic, subject: `${topic}-value`, name }));
}
