// /openapi.json describes what the gateway really answers: each real response is validated against the
// schema the document declares for its path, method and status (Ajv, JSON Schema 2020-12 as OpenAPI 3.1
// uses), and every schema in the document compiles as strict JSON Schema 2020-12. Quotes need live data:
// a short simulated feed runs through an aggregator into the gateway. With TE_AUTH=true, the 401, 403 and
// 429 answers match the document too.
import { SignJWT } from 'jose';
import t, { type Test } from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Bar } from '../../../src/contracts/bar.js';
import { createSinks } from '../../../src/stores/create-sinks.js';
import type { Config } from '../../../src/config.js';
import { Gateway } from '../../../src/gateway/server.js';
import { logger } from '../../../src/log.js';
import { createKafka } from '../../../src/stream/kafka.js';
import { runCli } from '../../helpers/cli.js';
import { testConfig, testEnv } from '../../helpers/env.js';
import { waitFor } from '../../helpers/stores.js';

type Method = 'get' | 'post';

interface Operation {
  parameters?: { name: string; in: string; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Partial<Record<Method, Operation>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; in?: string; name?: string; scheme?: string }> };
}

interface Quote {
  symbol: string;
  lastTrade: { symbol: string } | null;
  bars: Record<string, Bar | null>;
}

const DATA_ROUTES = ['/api/v1/bars/{symbol}', '/api/v1/trades/{symbol}', '/api/v1/instruments', '/api/v1/quote/{symbol}', '/api/v1/quotes'];

async function startGateway(t: Test, config: Config): Promise<string> {
  const gw = new Gateway(config, createKafka(config, 'test'), logger('test'));
  await gw.start();
  t.teardown(() => gw.stop());
  return `http://127.0.0.1:${gw.port}`;
}

/** Fetches the document and returns it with a checker: request → status → body valid against the documented schema. */
async function documented(t: Test, base: string) {
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApiDoc;
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'doc', components: doc.components });
  const check = async (path: string, route: string, wantStatus: number, init: { method?: Method; body?: string; headers?: Record<string, string> } = {}) => {
    const method = init.method ?? 'get';
    const res = await fetch(`${base}${path}`, { method: method.toUpperCase(), body: init.body, headers: init.headers });
    t.equal(res.status, wantStatus, `${method.toUpperCase()} ${path} → ${wantStatus}`);
    const spec = doc.paths[route]?.[method]?.responses[String(res.status)];
    if (!spec) return t.fail(`${method.toUpperCase()} ${route} documents no ${res.status} response`);
    const schema = JSON.parse(JSON.stringify(spec.content!['application/json']!.schema).replaceAll('"#/components', '"doc#/components'));
    const body: unknown = await res.json();
    const validate = ajv.compile(schema as object);
    t.ok(validate(body), `${path}: body matches the documented ${res.status} schema ${validate.errors ? JSON.stringify(validate.errors) : ''}`);
    return body;
  };
  return { doc, check };
}

t.test('real responses match the OpenAPI document', async (t) => {
  const env = testEnv({
    TE_SINKS: 'postgres',
    TE_INTERVALS: '1s,1m',
    TE_SIM_START: '2024-05-02T00:00:00Z',
    TE_SIM_SPEED: '0',
    TE_SIM_DURATION_S: '20',
    TE_SIM_RATE: '100',
    TE_SIM_SYMBOLS: '3',
  });
  const config = testConfig(env);
  const [sink] = createSinks(config, logger('test'));
  const t0 = Date.parse('2024-05-01T00:00:00Z') * 1000;
  const bars: Bar[] = Array.from({ length: 30 }, (_, i) => ({
    symbol: 'X',
    interval: '1m',
    bucketStart: t0 + i * 60e6,
    open: 1,
    high: 2,
    low: 0.5,
    close: 1.5,
    volume: 3,
    quoteVolume: 4.5,
    vwap: 1.5,
    tradeCount: 7,
    buyVolume: 1,
    firstEventTime: t0 + i * 60e6 + 1,
    lastEventTime: t0 + i * 60e6 + 2,
    revision: 0,
    final: true,
    complete: null,
  }));
  await sink!.init();
  await sink!.write(bars);
  await sink!.close();
  const base = await startGateway(t, config);
  // Live data for the quotes: the gateway consumes from the end, so the feed starts once it is ready.
  const aggregator = runCli(['aggregate'], env);
  t.teardown(() => aggregator.stop());
  const feed = runCli(['ingest'], env);
  t.teardown(() => feed.stop());

  const { doc, check } = await documented(t, base);
  t.equal(doc.openapi, '3.1.0');

  // Every schema of the document is valid, strict JSON Schema 2020-12 (no OpenAPI 3.0 `nullable`, no unknown keywords).
  const strict = new Ajv2020({ strict: true, formats: { 'date-time': true } });
  const local = (s: unknown) => JSON.parse(JSON.stringify(s).replaceAll('"#/components/schemas/', '"')) as object;
  for (const [name, s] of Object.entries(doc.components.schemas)) strict.addSchema(local(s), name);
  for (const name of Object.keys(doc.components.schemas)) t.doesNotThrow(() => strict.getSchema(name), `component ${name} compiles in strict mode`);
  for (const [route, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops) as [Method, Operation][]) {
      const schemas = [
        ...(op.parameters ?? []).map((p) => p.schema),
        ...Object.values(op.requestBody?.content ?? {}).map((c) => c.schema),
        ...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {}).map((c) => c.schema)),
      ];
      t.doesNotThrow(() => schemas.forEach((s) => strict.compile(local(s))), `${method.toUpperCase()} ${route}: its schemas compile in strict mode`);
    }
  }
  // The data routes name the security schemes the document defines and document the answers of auth.
  const schemes = doc.components.securitySchemes;
  t.same(
    Object.values(schemes)
      .map((s) => (s.type === 'http' ? `${s.scheme}` : `${s.in}:${s.name}`))
      .sort(),
    ['bearer', 'header:X-API-Key', 'query:apikey', 'query:token'],
  );
  for (const route of DATA_ROUTES) {
    const op = (doc.paths[route]!.get ?? doc.paths[route]!.post)!;
    t.ok(op.security?.length && op.security.every((req) => Object.keys(req).every((k) => k in schemes)), `${route} names its security schemes`);
    t.ok(
      ['401', '429'].every((s) => s in op.responses),
      `${route} documents 401 and 429`,
    );
  }

  const page = (await check('/api/v1/bars/X?interval=1m&limit=10', '/api/v1/bars/{symbol}', 200)) as { bars: Bar[]; next: string };
  t.equal(page.bars.length, 10);
  await check(`/api/v1/bars/X?interval=1m&limit=10&cursor=${page.next}`, '/api/v1/bars/{symbol}', 200);
  await check('/api/v1/bars/X?interval=9m', '/api/v1/bars/{symbol}', 400);
  await check('/api/v1/bars/X?interval=1m&limit=-1', '/api/v1/bars/{symbol}', 400);
  await check('/api/v1/instruments', '/api/v1/instruments', 200);
  await check('/health', '/health', 200);
  await check('/ready', '/ready', 200);

  // Quotes, once the feed has given BTC-USD a trade and a bar.
  const quoted = await waitFor(
    async () => {
      const res = await fetch(`${base}/api/v1/quote/BTC-USD`);
      return res.ok ? ((await res.json()) as Quote) : undefined;
    },
    (q) => q !== undefined && q.lastTrade !== null && Object.values(q.bars).some((b) => b !== null),
    30_000,
  );
  t.ok(quoted?.lastTrade && Object.values(quoted.bars).some((b) => b !== null), 'BTC-USD has a last trade and a bar');
  const q = (await check('/api/v1/quote/BTC-USD', '/api/v1/quote/{symbol}', 200)) as Quote;
  t.equal(q.symbol, 'BTC-USD');
  t.same(Object.keys(q.bars).sort(), ['1m', '1s']);
  await check('/api/v1/quote/NOPE-USD', '/api/v1/quote/{symbol}', 404);
  await check('/api/v1/quote/BTC-*', '/api/v1/quote/{symbol}', 400);
  await check('/api/v1/quote/%E0%A4%A', '/api/v1/quote/{symbol}', 400);
  await check(`/api/v1/quote/${'A'.repeat(65)}`, '/api/v1/quote/{symbol}', 400);
  const post = (body: string) => ({ method: 'post' as const, body, headers: { 'content-type': 'application/json' } });
  const many = (await check('/api/v1/quotes', '/api/v1/quotes', 200, post('{"symbols":["BTC-USD","NOPE-USD","BTC-USD"]}'))) as {
    quotes: Quote[];
    unknown: string[];
  };
  t.same(
    many.quotes.map((x) => x.symbol),
    ['BTC-USD'],
  );
  t.same(many.unknown, ['NOPE-USD']);
  await check('/api/v1/quotes', '/api/v1/quotes', 400, post('{"symbols":'));
  await check('/api/v1/quotes', '/api/v1/quotes', 400, post('{"symbols":[]}'));
  await check('/api/v1/quotes', '/api/v1/quotes', 400, post('{"symbols":["BTC-*"]}'));
  await check('/api/v1/quotes', '/api/v1/quotes', 400, post('{"symbols":[42]}'));
  await check('/api/v1/quotes', '/api/v1/quotes', 400, post('["BTC-USD"]'));
  await check('/api/v1/quotes', '/api/v1/quotes', 413, post(JSON.stringify({ symbols: Array.from({ length: 40_000 }, (_, i) => `S${i}`) })));

  // The document's own parameter lists agree with what the server accepts.
  const names = (route: string) => doc.paths[route]!.get!.parameters!.map((p) => p.name).sort();
  t.same(names('/api/v1/bars/{symbol}'), ['cursor', 'from', 'interval', 'limit', 'symbol', 'to']);
  t.same(names('/api/v1/quote/{symbol}'), ['symbol']);
});

t.test('with TE_AUTH=true, 401, 403 and 429 match the OpenAPI document', async (t) => {
  const secret = 'openapi-test-secret-of-at-least-32-bytes';
  const config = testConfig(testEnv({ TE_AUTH: 'true', TE_JWT_HS256_SECRET: secret, TE_LIMIT_RPS: '1' }));
  const base = await startGateway(t, config);
  const { check } = await documented(t, base);
  // One subject per request: the rate limit is per subject, with a burst of one at TE_LIMIT_RPS=1.
  let n = 0;
  const bearer = async (symbols: string[]) => ({
    authorization: `Bearer ${await new SignJWT({ symbols })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(`openapi-${n++}`)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret))}`,
  });
  const json = { 'content-type': 'application/json' };

  for (const [path, route] of [
    ['/api/v1/bars/BTC-USD?interval=1m', '/api/v1/bars/{symbol}'],
    ['/api/v1/instruments', '/api/v1/instruments'],
    ['/api/v1/quote/BTC-USD', '/api/v1/quote/{symbol}'],
  ] as const)
    await check(path, route, 401);
  await check('/api/v1/quotes', '/api/v1/quotes', 401, { method: 'post', body: '{"symbols":["BTC-USD"]}', headers: json });
  await check('/api/v1/quote/BTC-USD', '/api/v1/quote/{symbol}', 401, { headers: { 'x-api-key': 'no-such-key' } });

  await check('/api/v1/bars/ETH-USD?interval=1m', '/api/v1/bars/{symbol}', 403, { headers: await bearer(['BTC-*']) });
  await check('/api/v1/quote/ETH-USD', '/api/v1/quote/{symbol}', 403, { headers: await bearer(['BTC-*']) });
  await check('/api/v1/quotes', '/api/v1/quotes', 403, {
    method: 'post',
    body: '{"symbols":["BTC-USD","ETH-USD"]}',
    headers: { ...json, ...(await bearer(['BTC-*'])) },
  });
  await check('/api/v1/quote/BTC-USD', '/api/v1/quote/{symbol}', 404, { headers: await bearer(['BTC-*']) });

  const once = await bearer(['*']);
  await check('/api/v1/instruments', '/api/v1/instruments', 200, { headers: once });
  await check('/api/v1/instruments', '/api/v1/instruments', 429, { headers: once });
  await check('/api/v1/quote/BTC-USD', '/api/v1/quote/{symbol}', 429, { headers: once });
});
