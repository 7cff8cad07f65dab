// A minimal in-test stand-in of a Confluent schema registry: the three calls the engine makes (register, look up
// under a subject, fetch by id) and GET /schemas/ids/{id} for Confluent's own Python client. No real registry is
// installed here (neither Confluent's nor Karapace/Apicurio): this tests our client's side of the protocol only.
// Ids start at 1001, so a record written with our fixed ids (1–9) would be refused, and one with these is ours only
// through the mapping.
import { createServer, type Server } from 'node:http';

interface Stored {
  id: number;
  schema: string;
}

export interface ToyRegistry {
  url: string;
  port: number;
  /** Subject → its versions, oldest first. */
  subjects: Map<string, Stored[]>;
  /** Every request, as "METHOD path". */
  requests: string[];
  /** Subjects whose registrations are refused with 409. */
  incompatible: Set<string>;
  /** Put a schema under an id without a subject (as another team's producer might). */
  putSchema(schema: string): number;
  close(): Promise<void>;
}

const TYPE = 'application/vnd.schemaregistry.v1+json';

/** Same schema text for the same schema however it was formatted (what the registry stores is normalized too). */
const normal = (s: string) => JSON.stringify(JSON.parse(s));

export async function startToyRegistry(opts: { port?: number } = {}): Promise<ToyRegistry> {
  const byId = new Map<number, string>();
  const subjects = new Map<string, Stored[]>();
  const requests: string[] = [];
  const incompatible = new Set<string>();
  let next = 1001;
  const idOf = (schema: string): number => {
    for (const [id, s] of byId) if (s === schema) return id;
    byId.set(next, schema);
    return next++;
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      requests.push(`${req.method} ${path}`);
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': TYPE });
        res.end(JSON.stringify(body));
      };
      let m: RegExpMatchArray | null;
      if (req.method === 'POST' && (m = path.match(/^\/subjects\/([^/]+)(\/versions)?$/))) {
        const subject = decodeURIComponent(m[1]!);
        const schema = normal((JSON.parse(Buffer.concat(chunks).toString()) as { schema: string }).schema);
        const versions = subjects.get(subject) ?? [];
        const found = versions.findIndex((v) => v.schema === schema);
        if (!m[2]) {
          // Lookup: is this schema registered under the subject?
          if (!subjects.has(subject)) return reply(404, { error_code: 40401, message: `Subject '${subject}' not found.` });
          if (found < 0) return reply(404, { error_code: 40403, message: 'Schema not found' });
          return reply(200, { subject, id: versions[found]!.id, version: found + 1, schema });
        }
        if (incompatible.has(subject))
          return reply(409, { error_code: 409, message: 'Schema being registered is incompatible with an earlier schema for subject "' + subject + '"' });
        if (found >= 0) return reply(200, { id: versions[found]!.id });
        const id = idOf(schema);
        versions.push({ id, schema });
        subjects.set(subject, versions);
        return reply(200, { id });
      }
      if (req.method === 'GET' && (m = path.match(/^\/schemas\/ids\/(\d+)$/))) {
        const s = byId.get(Number(m[1]));
        return s ? reply(200, { schema: s }) : reply(404, { error_code: 40403, message: `Schema ${m[1]} not found` });
      }
      reply(404, { error_code: 404, message: `HTTP 404 Not Found: ${req.method} ${path}` });
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    subjects,
    requests,
    incompatible,
    putSchema: (schema) => idOf(normal(schema)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
