// The read side of the Confluent schema-registry REST API, for our schemas and their fixed ids (schemas/index.json),
// so a standard deserializer (Confluent's, Karapace's clients, kcat -s avro) pointed at the gateway decodes our topics
// unchanged. Subjects follow the TopicNameStrategy (`<topic>-value`) for the configured topic names. Only without a
// schema registry (TE_SCHEMA_REGISTRY_URL empty): with one, the ids on the wire are the registry's, not these.
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Config } from '../../config.js';
import { topicSubjects } from '../../stream/schema-ids.js';
import { schema, schemaById, schemaVersions, type RegisteredSchema, type SchemaName } from '../../stream/schemas.js';
import { json, readRequest, writeReply, type Reply } from '../http/http.js';
import type { RequestGate } from '../http/request-gate.js';

/** The registry's own media type; its clients send it in Accept and take application/json too. */
const TYPE = 'application/vnd.schemaregistry.v1+json';

/** Confluent's error codes (error_code in a 404 or 422 body). */
const SUBJECT_NOT_FOUND = 40401;
const VERSION_NOT_FOUND = 40402;
const SCHEMA_NOT_FOUND = 40403;
const INVALID_VERSION = 42202;

const registryError = (status: number, code: number, message: string): Reply => ({ ...json(status, { error_code: code, message }), type: TYPE });
const ok = (body: unknown): Reply => ({ ...json(200, body), type: TYPE });

export class SchemaRegistryApi {
  /** Subject → the schema name its records carry. */
  private readonly subjects: Map<string, SchemaName>;

  constructor(
    config: Config,
    private readonly gate: RequestGate,
  ) {
    this.subjects = new Map(topicSubjects(config).map((t) => [t.subject, t.name]));
    // The WebSocket Avro frame is no topic's value: it keeps the subject schemas/index.json gives it.
    this.subjects.set(schema('frame').subject, 'frame');
  }

  register(app: TemplatedApp): void {
    app
      .get(
        '/schemas/ids/:id',
        this.route(1, ([id]) => this.byId(id!, (s) => ok({ schema: JSON.stringify(s.json) }))),
      )
      .get(
        '/schemas/ids/:id/versions',
        this.route(1, ([id]) => this.byId(id!, (s) => ok(this.subjectsOf(s).map((subject) => ({ subject, version: s.version }))))),
      )
      .get(
        '/schemas/ids/:id/subjects',
        this.route(1, ([id]) => this.byId(id!, (s) => ok(this.subjectsOf(s)))),
      )
      .get(
        '/schemas/types',
        this.route(0, () => ok(['AVRO'])),
      )
      .get(
        '/subjects',
        this.route(0, () => ok([...this.subjects.keys()].sort())),
      )
      .get(
        '/subjects/:subject/versions',
        this.route(1, ([subject]) => this.bySubject(subject!, (name) => ok(schemaVersions(name).map((v) => v.version)))),
      )
      .get(
        '/subjects/:subject/versions/:version',
        this.route(2, ([subject, version]) => this.bySubject(subject!, (name) => this.version(subject!, name, version!))),
      )
      .get(
        '/config',
        this.route(0, () => ok({ compatibilityLevel: 'BACKWARD' })),
      );
  }

  /** A GET route: guarded like every route, no credentials needed (schemas are public, as /openapi.json is). */
  private route(nParams: number, handler: (params: string[]) => Reply) {
    const { gate } = this;
    return gate.guard((res: HttpResponse, req: HttpRequest) => {
      const r = readRequest(req, nParams);
      let params: string[];
      try {
        params = r.params.map((p) => decodeURIComponent(p));
      } catch {
        params = r.params;
      }
      writeReply(res, handler(params), gate.cors.headers(r.origin));
    });
  }

  private byId(raw: string, reply: (s: RegisteredSchema) => Reply): Reply {
    const s = /^\d{1,10}$/.test(raw) ? schemaById(Number(raw)) : undefined;
    return s ? reply(s) : registryError(404, SCHEMA_NOT_FOUND, `Schema ${raw} not found`);
  }

  private bySubject(subject: string, reply: (name: SchemaName) => Reply): Reply {
    const name = this.subjects.get(subject);
    return name ? reply(name) : registryError(404, SUBJECT_NOT_FOUND, `Subject '${subject}' not found.`);
  }

  private version(subject: string, name: SchemaName, raw: string): Reply {
    const versions = schemaVersions(name);
    let s: RegisteredSchema | undefined;
    if (raw === 'latest' || raw === '-1') s = versions[versions.length - 1];
    else if (/^\d{1,10}$/.test(raw) && Number(raw) >= 1) s = versions.find((v) => v.version === Number(raw));
    else
      return registryError(
        422,
        INVALID_VERSION,
        `The specified version '${raw}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
      );
    if (!s) return registryError(404, VERSION_NOT_FOUND, `Version ${raw} not found.`);
    return ok({ subject, version: s.version, id: s.id, schema: JSON.stringify(s.json) });
  }

  /** The subjects whose records carry `s`'s name. */
  private subjectsOf(s: RegisteredSchema): string[] {
    return [...this.subjects]
      .filter(([, name]) => name === s.name)
      .map(([subject]) => subject)
      .sort();
  }
}
