// /openapi.json describes what the gateway really answers: each real response is validated against the
// schema the document declares for its path and status (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses).
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Bar } from '../../src/aggregate/bar.js';
import { createSinks } from '../../src/aggregate/sinks/create-sinks.js';
import { Gateway } from '../../src/gateway/server.js';
import { logger } from '../../src/log.js';
import { createKafka } from '../../src/stream/kafka.js';
import { testConfig, testEnv } from '../helpers/env.js';

t.test('real responses match the OpenAPI document', async (t) => {
  const config = testConfig(testEnv({ TE_SINKS: 'postgres' }));
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
  }));
  await sink!.init();
  await sink!.write(bars);
  await sink!.close();
  const gw = new Gateway(config, createKafka(config, 'test'), logger('test'));
  await gw.start();
  t.teardown(() => gw.stop());
  const base = `http://127.0.0.1:${gw.port}`;

  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
    openapi: string;
    paths: Record<string, { get: { responses: Record<string, { content?: Record<string, { schema: unknown }> }> } }>;
    components: { schemas: Record<string, unknown> };
  };
  t.equal(doc.openapi, '3.1.0');
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'doc', components: doc.components });
  const check = async (path: string, route: string, wantStatus: number) => {
    const res = await fetch(`${base}${path}`);
    t.equal(res.status, wantStatus, `${path} → ${wantStatus}`);
    const spec = doc.paths[route]?.get.responses[String(res.status)];
    if (!spec) return t.fail(`${route} documents no ${res.status} response`);
    const schema = JSON.parse(JSON.stringify(spec.content!['application/json']!.schema).replaceAll('"#/components', '"doc#/components'));
    const body: unknown = await res.json();
    const validate = ajv.compile(schema as object);
    t.ok(validate(body), `${path}: body matches the documented ${res.status} schema ${validate.errors ? JSON.stringify(validate.errors) : ''}`);
    return body;
  };
  const page = (await check('/api/v1/bars/X?interval=1m&limit=10', '/api/v1/bars/{symbol}', 200)) as { bars: Bar[]; next: string };
  t.equal(page.bars.length, 10);
  await check(`/api/v1/bars/X?interval=1m&limit=10&cursor=${page.next}`, '/api/v1/bars/{symbol}', 200);
  await check('/api/v1/bars/X?interval=9m', '/api/v1/bars/{symbol}', 400);
  await check('/api/v1/bars/X?interval=1m&limit=-1', '/api/v1/bars/{symbol}', 400);
  await check('/api/v1/instruments', '/api/v1/instruments', 200);
  await check('/health', '/health', 200);
  await check('/ready', '/ready', 200);
  // The document's own parameter list agrees with what the server accepts.
  const params = (doc.paths['/api/v1/bars/{symbol}']!.get as unknown as { parameters: { name: string }[] }).parameters.map((p) => p.name).sort();
  t.same(params, ['cursor', 'from', 'interval', 'limit', 'symbol', 'to']);
});
