// Loads the Avro schemas from schemas/ once, with their wire-format ids and versions.
//
// A name (tick, bar, …) may have several versions, each with an id of its own that never changes. `schema(name)` is
// the latest version: what writers write and readers decode into. A reader accepts every registered version of its
// name and resolves the writer's into its own (Avro schema resolution: fields a version adds have defaults).
import { InternalError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { projectRoot } from '../paths.js';

export type SchemaName = 'tick' | 'bar' | 'signal' | 'frame' | 'feedEvent' | 'quote';

export interface RegisteredSchema {
  id: number;
  name: SchemaName;
  version: number;
  subject: string;
  type: avro.Type;
  /** The schema JSON as stored in schemas/. */
  json: Record<string, unknown>;
}

interface IndexEntry {
  id: number;
  name: SchemaName;
  version: number;
  subject: string;
  file: string;
}

interface Registry {
  /** Every version, by wire-format id. */
  byId: Map<number, RegisteredSchema>;
  /** Every version of each name, oldest first. */
  versions: Map<SchemaName, RegisteredSchema[]>;
  /** Resolvers by reader id, then writer id (created on first use). */
  resolvers: Map<number, Map<number, avro.Resolver>>;
}

let cache: Registry | undefined;

function registry(): Registry {
  if (cache) return cache;
  const dir = join(projectRoot(), 'schemas');
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { schemas: IndexEntry[] };
  const reg: Registry = { byId: new Map(), versions: new Map(), resolvers: new Map() };
  for (const e of index.schemas) {
    const json = JSON.parse(readFileSync(join(dir, e.file), 'utf8')) as Record<string, unknown>;
    // Logical types stay plain longs: µs since epoch as JS numbers (exact below 2^53, i.e. until year 2255).
    const s: RegisteredSchema = { id: e.id, name: e.name, version: e.version, subject: e.subject, json, type: avro.Type.forSchema(json as avro.Schema) };
    reg.byId.set(e.id, s);
    const list = reg.versions.get(e.name) ?? [];
    list.push(s);
    list.sort((a, b) => a.version - b.version);
    reg.versions.set(e.name, list);
  }
  cache = reg;
  return reg;
}

/** The latest version of each name. */
export function schemas(): Map<SchemaName, RegisteredSchema> {
  return new Map([...registry().versions].map(([name, list]) => [name, list[list.length - 1]!]));
}

/** The latest version of `name` (the writers' schema), or the given one. */
export function schema(name: SchemaName, opts: { version?: number } = {}): RegisteredSchema {
  const list = registry().versions.get(name);
  const s = opts.version === undefined ? list?.[list.length - 1] : list?.find((v) => v.version === opts.version);
  if (!s) throw new InternalError(`schema ${name}${opts.version === undefined ? '' : ` version ${opts.version}`} is not in schemas/index.json`);
  return s;
}

/** Every registered version of `name`, oldest first. */
export function schemaVersions(name: SchemaName): readonly RegisteredSchema[] {
  return registry().versions.get(name) ?? [];
}

/** The registered schema with wire-format id `id`, if any. */
export function schemaById(id: number): RegisteredSchema | undefined {
  return registry().byId.get(id);
}

/**
 * How a reader of `reader` decodes a record written with `writer` (another version of the same name): undefined when
 * they are the same schema, else avsc's resolver (created once).
 */
export function resolverFor(reader: RegisteredSchema, writer: RegisteredSchema): avro.Resolver | undefined {
  if (reader.id === writer.id) return undefined;
  if (reader.name !== writer.name) throw new InternalError(`schema ${writer.name} (id ${writer.id}) cannot be read as ${reader.name}`);
  const reg = registry();
  let byWriter = reg.resolvers.get(reader.id);
  if (!byWriter) reg.resolvers.set(reader.id, (byWriter = new Map()));
  let r = byWriter.get(writer.id);
  if (!r) byWriter.set(writer.id, (r = reader.type.createResolver(writer.type)));
  return r;
}
