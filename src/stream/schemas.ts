// Loads the Avro schemas from schemas/ once, with their wire-format ids.
import { InternalError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { projectRoot } from '../paths.js';

export type SchemaName = 'tick' | 'bar' | 'signal' | 'frame' | 'feedEvent' | 'quote';

export interface RegisteredSchema {
  id: number;
  name: SchemaName;
  subject: string;
  type: avro.Type;
  /** The schema JSON as stored in schemas/. */
  json: Record<string, unknown>;
}

interface IndexEntry {
  id: number;
  name: SchemaName;
  subject: string;
  file: string;
}

let cache: Map<SchemaName, RegisteredSchema> | undefined;

export function schemas(): Map<SchemaName, RegisteredSchema> {
  if (cache) return cache;
  const dir = join(projectRoot(), 'schemas');
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { schemas: IndexEntry[] };
  cache = new Map();
  for (const e of index.schemas) {
    const json = JSON.parse(readFileSync(join(dir, e.file), 'utf8')) as Record<string, unknown>;
    // Logical types stay plain longs: µs since epoch as JS numbers (exact below 2^53, i.e. until year 2255).
    cache.set(e.name, { id: e.id, name: e.name, subject: e.subject, json, type: avro.Type.forSchema(json as avro.Schema) });
  }
  return cache;
}

export function schema(name: SchemaName): RegisteredSchema {
  const s = schemas().get(name);
  if (!s) throw new InternalError(`schema ${name} is not in schemas/index.json`);
  return s;
}
