// The client of a Confluent-compatible schema registry (TE_SCHEMA_REGISTRY_URL): at start-up, registers the schema
// of every subject the process writes and looks up the ids of every version of ours under the subjects it reads,
// so the wire ids (schema-ids.ts) are the registry's; an id met later is fetched and matched by canonical form.
//
// Three calls of the registry's REST API: POST /subjects/{s}/versions (register, idempotent: an existing schema
// keeps its id), POST /subjects/{s} (is this schema registered under s: its id), GET /schemas/ids/{id}.
import avro from 'avsc';
import { SchemaIncompatibleError, SchemaRegistryError } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffMs, sleep } from '../backoff.js';
import { learnWireId, schemaByWireId, topicSubjects, useRegistryIds, type TopicSubject } from './schema-ids.js';
import { schemaVersions, type RegisteredSchema } from './schemas.js';
import type { Config } from '../config.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Confluent's error codes for "subject not found" and "schema not found". */
const NOT_FOUND_CODES = new Set([40401, 40403]);

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export class SchemaRegistryClient {
  private readonly base: string;
  /** Ids already fetched and matched (or not) to one of ours. */
  private readonly fetched = new Map<number, Promise<RegisteredSchema | undefined>>();

  constructor(
    url: string,
    private readonly opts: { timeoutMs?: number } = {},
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new SchemaRegistryError(`schema registry ${this.base} did not answer ${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SchemaRegistryError(`schema registry ${this.base} answered ${method} ${path} with ${res.status} and no JSON: ${text.slice(0, 200)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new SchemaRegistryError(`schema registry ${this.base} answered ${method} ${path} with ${res.status} and not a JSON object`);
    return { status: res.status, body: parsed as Record<string, unknown> };
  }

  private static id(a: Answer, what: string): number {
    const id = a.body.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff)
      throw new SchemaRegistryError(`${what}: the answer has no schema id (${JSON.stringify(a.body)})`);
    return id;
  }

  private failure(a: Answer, what: string): SchemaRegistryError {
    return new SchemaRegistryError(`${what}: schema registry ${this.base} answered ${a.status} ${JSON.stringify(a.body)}`);
  }

  /** Register `s` under `subject` (or find it there): its id. A 409 is a SchemaIncompatibleError naming the subject. */
  async register(subject: string, s: RegisteredSchema): Promise<number> {
    const what = `registering ${s.name} version ${s.version} under ${subject}`;
    const a = await this.call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(s.json) });
    if (a.status === 409) throw new SchemaIncompatibleError(subject, typeof a.body.message === 'string' ? a.body.message : JSON.stringify(a.body));
    if (a.status !== 200) throw this.failure(a, what);
    return SchemaRegistryClient.id(a, what);
  }

  /** The id of `s` under `subject`, or undefined when the registry does not have it there. */
  async lookup(subject: string, s: RegisteredSchema): Promise<number | undefined> {
    const what = `looking up ${s.name} version ${s.version} under ${subject}`;
    const a = await this.call('POST', `/subjects/${encodeURIComponent(subject)}`, { schema: JSON.stringify(s.json) });
    if (a.status === 404 && NOT_FOUND_CODES.has(a.body.error_code as number)) return undefined;
    if (a.status !== 200) throw this.failure(a, what);
    return SchemaRegistryClient.id(a, what);
  }

  /** The registry's schema `id` as one of our versions (same canonical form), or undefined: fetched once, then cached. */
  resolve(id: number): Promise<RegisteredSchema | undefined> {
    let p = this.fetched.get(id);
    if (!p) {
      p = this.fetchAndMatch(id);
      this.fetched.set(id, p);
      // A failure is not cached: the next record with this id asks again.
      p.catch(() => this.fetched.delete(id));
    }
    return p;
  }

  private async fetchAndMatch(id: number): Promise<RegisteredSchema | undefined> {
    const what = `fetching schema id ${id}`;
    const a = await this.call('GET', `/schemas/ids/${id}`);
    if (a.status === 404) return undefined;
    if (a.status !== 200 || typeof a.body.schema !== 'string') throw this.failure(a, what);
    if (a.body.schemaType !== undefined && a.body.schemaType !== 'AVRO') return undefined;
    let fp: string;
    try {
      fp = fingerprint(JSON.parse(a.body.schema) as avro.Schema);
    } catch {
      return undefined;
    }
    return ourSchemas().find((s) => fingerprint(s.json as avro.Schema) === fp);
  }
}

/** SHA-256 of the schema's Parsing Canonical Form (avsc): equal for the same schema however it is written. */
export function fingerprint(schema: avro.Schema): string {
  return avro.Type.forSchema(schema).fingerprint('sha256').toString('hex');
}

function ourSchemas(): RegisteredSchema[] {
  return (['tick', 'bar', 'signal', 'feedEvent', 'quote'] as const).flatMap((n) => [...schemaVersions(n)]);
}

export interface PrepareOptions {
  log: Logger;
  /** 'writer': register each subject's latest version (the process writes records); 'reader': only look ids up. */
  role: 'writer' | 'reader';
  /** The subjects to learn (default: every topic's, topicSubjects). */
  subjects?: TopicSubject[];
  /** Called with the error while the registry cannot be reached (each attempt), and once it answered. */
  onDown?: (err: unknown) => void;
  onUp?: () => void;
  /** Stop retrying (the process is stopping). */
  signal?: AbortSignal;
  /** Most wait between attempts (default 5 s). */
  retryMaxMs?: number;
}

/**
 * Switch this process to the registry's ids: for each of our topics' subjects, register the latest version of its
 * schema (what our writers write) and look up the ids of the older versions (what older records carry). Retries with
 * backoff while the registry cannot be reached; a refused schema (409) is thrown at once. Returns the client, for
 * ids met later (resolveWireIds).
 */
export async function prepareSchemaRegistry(config: Config, opts: PrepareOptions): Promise<SchemaRegistryClient> {
  const url = config.schemaRegistryUrl;
  const client = new SchemaRegistryClient(url);
  useRegistryIds();
  const subjects = opts.subjects ?? topicSubjects(config);
  for (let attempt = 0; ; attempt++) {
    try {
      const ids = await learnSubjects(client, subjects, opts.role);
      opts.onUp?.();
      opts.log.info({ registry: url, ids }, 'schema registry ids in use');
      registryClient = client;
      return client;
    } catch (err) {
      if (err instanceof SchemaIncompatibleError || opts.signal?.aborted) throw err;
      opts.onDown?.(err);
      if (attempt === 0) opts.log.warn({ err, registry: url }, 'schema registry unavailable: retrying with backoff, not ready until it answers');
      await sleep(backoffMs(attempt, opts.retryMaxMs ?? 5000));
    }
  }
}

async function learnSubjects(
  client: SchemaRegistryClient,
  subjects: TopicSubject[],
  role: 'writer' | 'reader',
): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const { subject, name } of subjects) {
    const versions = schemaVersions(name);
    const latest = versions[versions.length - 1]!;
    const ids: Record<string, number> = {};
    if (role === 'writer') {
      const id = await client.register(subject, latest);
      learnWireId(id, latest, { write: true });
      ids[`v${latest.version}`] = id;
    }
    for (const s of role === 'writer' ? versions.slice(0, -1) : versions) {
      const old = await client.lookup(subject, s);
      if (old !== undefined) {
        learnWireId(old, s, { write: false });
        ids[`v${s.version}`] = old;
      }
    }
    out[subject] = ids;
  }
  return out;
}

let registryClient: SchemaRegistryClient | undefined;

/**
 * Before decoding records read from a topic: any schema id in their headers this process has not seen is fetched
 * from the registry and, when it is one of our schemas, learned (a record whose id stays unknown then fails to
 * decode as before). Nothing to do without a registry.
 */
export async function resolveWireIds(values: Iterable<Buffer | null>): Promise<void> {
  const client = registryClient;
  if (!client) return;
  const unknown = new Set<number>();
  for (const v of values) if (v) noteUnknownId(v, 0, v.length, unknown);
  await learnIds(client, unknown);
}

/** Values where they lie in one buffer (the own fetch path's runs, src/stream/fetch): `lengths[i]` -1 is null. */
export interface ValuesInPlace {
  data: Buffer;
  starts: ArrayLike<number>;
  lengths: ArrayLike<number>;
}

/** resolveWireIds for values read where they lie (the aggregator's own fetch path), without a Buffer per value. */
export async function resolveWireIdsInPlace(run: ValuesInPlace): Promise<void> {
  const client = registryClient;
  if (!client) return;
  const unknown = new Set<number>();
  for (let i = 0; i < run.lengths.length; i++) noteUnknownId(run.data, run.starts[i]!, run.lengths[i]!, unknown);
  await learnIds(client, unknown);
}

/** Add the schema id of the wire-format value at `data[start, start + length)` to `into` if this process does not know it. */
function noteUnknownId(data: Buffer, start: number, length: number, into: Set<number>): void {
  if (length < 5 || data[start] !== 0) return;
  const id = data.readUInt32BE(start + 1);
  if (!schemaByWireId(id)) into.add(id);
}

async function learnIds(client: SchemaRegistryClient, ids: Set<number>): Promise<void> {
  for (const id of ids) {
    const s = await client.resolve(id);
    if (s) learnWireId(id, s, { write: false });
  }
}

/** Forget the client (tests). */
export function resetSchemaRegistry(): void {
  registryClient = undefined;
}
