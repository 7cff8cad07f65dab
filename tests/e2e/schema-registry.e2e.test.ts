// A downstream team reads our topics with its standard tools: Confluent's Python client (confluent-kafka's own
// AvroDeserializer and SchemaRegistryClient, from PyPI, in .local/pyenv) reads the ticks, bars and signals of a short
// real run of the engine (ingest → aggregate → PostgreSQL, gateway) and gets the same values as the engine's own decode
// of the same records (ticks) and as PostgreSQL's rows (bars, signals).
//
// Two ways: (1) no registry: the consumer's registry URL is the gateway, which serves the registry's read API for our
// fixed ids (also checked route by route against the .avsc files); (2) TE_SCHEMA_REGISTRY_URL set: every engine
// process registers/looks up its subjects in a registry and writes its ids. No real registry is installed here
// (Confluent's, Karapace and Apicurio are not available), so (2) uses the in-test registry of
// tests/helpers/toy-schema-registry.ts, for the Python consumer too: it checks our client's side of the protocol.
import { existsSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import t, { type Test } from 'tap';
import type { Tick } from '../../src/contracts/tick.js';
import { projectRoot } from '../../src/paths.js';
import { createKafka } from '../../src/stream/kafka.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { logger } from '../../src/log.js';
import { resetWireIds } from '../../src/stream/schema-ids.js';
import { prepareSchemaRegistry, resetSchemaRegistry, resolveWireIds } from '../../src/stream/schema-registry.js';
import { schema } from '../../src/stream/schemas.js';
import { decode } from '../../src/stream/serde.js';
import { freePort, testConfig, testEnv } from '../helpers/env.js';
import { runCli, startEngine, waitHttpOk, type CliProcess } from '../helpers/cli.js';
import { diffBars, offlineBars, type OracleBar, type OracleTick } from '../helpers/oracle.js';
import { readPgBars, readPgSignals, readTopic, waitFor, withPg } from '../helpers/stores.js';
import { startToyRegistry, type ToyRegistry } from '../helpers/toy-schema-registry.js';

const PYTHON = join(projectRoot(), '.local/pyenv/bin/python');
const CONSUMER = join(projectRoot(), 'tests/helpers/confluent_consumer.py');
const INSTALL = "python3 -m venv .local/pyenv && .local/pyenv/bin/pip install 'confluent-kafka[avro]==2.16.1' (the step scripts/test.sh runs)";

interface PyRecord {
  topic: string;
  partition: number;
  offset: number;
  schemaId: number;
  value: Record<string, unknown>;
}

/** Run the Python consumer over `topics`; its records, or a failure with its output. */
function pythonConsume(brokers: string, registryUrl: string, topics: string[]): Promise<PyRecord[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [CONSUMER, brokers, registryUrl, ...topics], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`confluent_consumer.py exited ${code}:\n${Buffer.concat(err).toString()}`));
      const text = Buffer.concat(out).toString().trim();
      resolve(text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as PyRecord));
    });
  });
}

const V1_TICKS = 30;

/**
 * Produce V1_TICKS ticks of schema version 1 (one symbol, partition 0, 100 ms apart, from 91 s after the simulation's
 * start: past its last tick, so none is late) under an id the registry gives version 1 only now; the id.
 */
async function produceV1Ticks(kafka: Kafka, topic: string, registry: ToyRegistry, simStartUs: number): Promise<number> {
  const v1 = schema('tick', { version: 1 });
  const id = registry.putSchema(JSON.stringify(v1.json));
  const producer = kafka.producer();
  await producer.connect();
  try {
    const messages = Array.from({ length: V1_TICKS }, (_, i) => {
      const t0 = simStartUs + 91_000_000 + i * 100_000;
      const tick = {
        venue: 'OLDV',
        symbol: 'OLD-USD',
        eventTime: t0,
        price: 100 + (i % 7),
        size: 1 + i / 10,
        side: 'BUY',
        tradeId: String(i).padStart(6, '0'),
        ingestTime: t0,
      };
      const value = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), v1.type.toBuffer(tick)]);
      value.writeUInt32BE(id, 1);
      return { key: tick.symbol, value, partition: 0 };
    });
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
  return id;
}

/** A tick as schema version 1 has it (what a version-1 reader sees): without version 2's fields. */
function asV1(x: Tick): Record<string, unknown> {
  const fields = (schema('tick', { version: 1 }).json as { fields: { name: string }[] }).fields.map((f) => f.name);
  return Object.fromEntries(fields.map((f) => [f, (x as unknown as Record<string, unknown>)[f]]));
}

const signalKey = (x: Record<string, unknown>) => JSON.stringify([x.symbol, x.interval, x.barTime, x.name, x.direction, x.values]);
const byPosition = (a: { partition: number; offset: number }, b: { partition: number; offset: number }) => a.partition - b.partition || a.offset - b.offset;

t.before(() => {
  // Never skipped: without the client the test fails, naming the step that installs it.
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install Confluent's Python client with ${INSTALL}`);
  const probe = spawnSync(PYTHON, ['-c', 'import confluent_kafka.schema_registry.avro'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`confluent-kafka[avro] is not installed in .local/pyenv (${probe.stderr.trim()}): ${INSTALL}`);
});

/** The registry read API the gateway serves, route by route, against the schema files read directly. */
async function checkGatewayRegistryApi(
  t: Test,
  base: string,
  topics: { ticks: string; bars: string; barsLive: string; signals: string; feedEvents: string; quotes: string },
) {
  const file = (f: string) => JSON.parse(readFileSync(`${projectRoot()}/schemas/${f}`, 'utf8')) as unknown;
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as unknown };
  };
  const subjects = await get('/subjects');
  t.same(subjects.body, [...Object.values(topics).map((x) => `${x}-value`), 'ws-frame'].sort(), 'GET /subjects: <topic>-value for the configured topics');
  t.equal(subjects.type, 'application/vnd.schemaregistry.v1+json');
  t.same((await get(`/subjects/${topics.ticks}-value/versions`)).body, [1, 2]);
  t.same((await get(`/subjects/${topics.signals}-value/versions`)).body, [1]);
  const latest = (await get(`/subjects/${topics.bars}-value/versions/latest`)).body as { subject: string; version: number; id: number; schema: string };
  t.same({ ...latest, schema: JSON.parse(latest.schema) as unknown }, { subject: `${topics.bars}-value`, version: 2, id: 8, schema: file('bar-v2.avsc') });
  const v1 = (await get(`/subjects/${topics.ticks}-value/versions/1`)).body as { id: number; schema: string };
  t.same([v1.id, JSON.parse(v1.schema)], [1, file('tick.avsc')], 'tick version 1: id 1, tick.avsc');
  for (const [id, f] of [
    [3, 'signal.avsc'],
    [7, 'tick-v2.avsc'],
    [9, 'feed-event-v2.avsc'],
  ] as const) {
    const r = await get(`/schemas/ids/${id}`);
    t.same([r.status, JSON.parse((r.body as { schema: string }).schema)], [200, file(f)], `GET /schemas/ids/${id} = ${f}`);
  }
  t.same((await get('/schemas/ids/8/versions')).body, [
    { subject: `${topics.bars}-value`, version: 2 },
    { subject: `${topics.barsLive}-value`, version: 2 },
  ]);
  t.same(await get('/schemas/ids/99'), {
    status: 404,
    type: 'application/vnd.schemaregistry.v1+json',
    body: { error_code: 40403, message: 'Schema 99 not found' },
  });
  t.same((await get('/subjects/nope-value/versions')).body, { error_code: 40401, message: "Subject 'nope-value' not found." });
  t.same((await get(`/subjects/${topics.bars}-value/versions/3`)).body, { error_code: 40402, message: 'Version 3 not found.' });
  t.equal((await get(`/subjects/${topics.bars}-value/versions/x`)).status, 422);
}

for (const mode of ['gateway', 'registry'] as const)
  t.test(
    mode === 'gateway'
      ? "no registry: Confluent's Python deserializer, pointed at the gateway, reads ticks, bars and signals as the engine stores them"
      : "TE_SCHEMA_REGISTRY_URL (in-test registry): the engine writes the registry's ids; Confluent's Python deserializer reads the same values",
    async (t) => {
      // The registry is started only after the engine: its processes wait for it, not ready meanwhile.
      let registry: ToyRegistry | undefined;
      const registryPort = await freePort();
      const metricsPort = await freePort();
      const port = await freePort();
      const env = testEnv({
        TE_SIM_START: '2024-01-01T00:00:00Z',
        TE_SIM_SPEED: '0',
        TE_SIM_DURATION_S: '90',
        TE_SIM_RATE: '100',
        TE_SIM_SYMBOLS: '4',
        TE_SIM_SEED: mode === 'gateway' ? '77' : '78',
        TE_SIM_JITTER_MS: '300',
        TE_MAX_OUT_OF_ORDER_MS: '1000',
        TE_INTERVALS: '1s,1m',
        TE_SINKS: 'postgres',
        TE_GATEWAY_PORT: String(port),
        TE_METRICS_PORT: String(metricsPort),
        // With the registry, the aggregator reads on its own fetch path: there the tick id it meets later (produceV1Ticks)
        // is looked up too (onFetched in src/runtime/aggregator.ts). kafkajs's path does the same (onBatch).
        ...(mode === 'registry' ? { TE_SCHEMA_REGISTRY_URL: `http://127.0.0.1:${registryPort}`, TE_AGG_READ_PATH: 'fetch' } : { TE_AGG_READ_PATH: 'kafkajs' }),
      });
      const config = testConfig(env);
      const kafka = createKafka(config, 'e2e-test');
      await ensureTopics(kafka, config);
      let aggregator: CliProcess;
      if (mode === 'registry') {
        const gateway = runCli(['gateway'], env);
        aggregator = runCli(['aggregate'], env);
        t.teardown(async () => {
          await aggregator.stop();
          await gateway.stop();
        });
        const waiting = async (url: string) => {
          const res = await fetch(url).catch(() => undefined);
          return res ? { status: res.status, body: (await res.json()) as { waitingFor?: { dependency: string; error: string }[] } } : undefined;
        };
        const onlyRegistry = (r: Awaited<ReturnType<typeof waiting>>) =>
          r?.status === 503 &&
          r.body.waitingFor?.length === 1 &&
          r.body.waitingFor[0]!.dependency === 'schema-registry' &&
          /did not answer/.test(r.body.waitingFor[0]!.error);
        t.ok(
          onlyRegistry(await waitFor(() => waiting(`http://127.0.0.1:${metricsPort}/ready`), onlyRegistry, 30_000)),
          'registry down: the aggregator is not ready, waiting for schema-registry',
        );
        t.ok(
          onlyRegistry(await waitFor(() => waiting(`http://127.0.0.1:${port}/ready`), onlyRegistry, 30_000)),
          'registry down: the gateway is not ready, waiting for schema-registry',
        );
        registry = await startToyRegistry({ port: registryPort });
        t.teardown(() => registry!.close());
        await waitHttpOk(`http://127.0.0.1:${port}/ready`, gateway);
        await waitHttpOk(`http://127.0.0.1:${metricsPort}/ready`, aggregator);
        t.pass('both ready once the registry answers');
      } else {
        ({ aggregator } = await startEngine(t, env, port));
      }
      const gatewayBase = `http://127.0.0.1:${port}`;
      const ingest = runCli(['ingest'], env);
      t.equal(await ingest.exited, 0, 'ingest finished cleanly');
      // Another producer writes ticks of version 1 under an id the aggregator has not met (registered after it
      // started): it must look the id up and aggregate them, not dead-letter them.
      const lateId = registry ? await produceV1Ticks(kafka, config.topicTicks, registry, Date.parse(env.TE_SIM_START!) * 1000) : undefined;

      // The engine's own decode of the ticks in the topic (with the registry's ids learned as the engine learns them).
      if (registry) await prepareSchemaRegistry(config, { log: logger('test'), role: 'reader' });
      const tickRecords = await readTopic(kafka, config.topicTicks);
      await resolveWireIds(tickRecords.map((r) => r.message.value));
      const engineTicks = tickRecords.map((r) => ({
        partition: r.partition,
        offset: r.offset,
        schemaId: r.message.value!.readUInt32BE(1),
        value: decode<Tick>(schema('tick'), r.message.value),
      }));
      resetWireIds();
      resetSchemaRegistry();
      t.ok(engineTicks.length > 5000, `${engineTicks.length} ticks`);
      const exp = offlineBars(
        engineTicks.map((x) => ({ ...(x.value as unknown as OracleTick), partition: x.partition, offset: x.offset })),
        { intervals: config.intervals, maxOutOfOrder: config.maxOutOfOrderMs * 1000, allowedLateness: config.allowedLatenessMs * 1000 },
      ).finalBars;
      const count = () => withPg(config.pgUrl, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${config.barsTable}`)).rows[0].n));
      if (!t.equal(await waitFor(count, (n) => n === exp.length, 120_000), exp.length, `PostgreSQL holds the ${exp.length} final bars`))
        t.comment(`aggregator output:\n${aggregator.output().slice(-4000)}`);
      const signalsTable = `${config.barsTable}_signals`;
      const pgSignals = await waitFor(
        () => readPgSignals(config.pgUrl, signalsTable),
        () => false,
        3000,
      );
      t.ok(pgSignals.length > 0, `${pgSignals.length} signals in PostgreSQL`);

      if (mode === 'gateway') {
        await checkGatewayRegistryApi(t, gatewayBase, {
          ticks: config.topicTicks,
          bars: config.topicBars,
          barsLive: config.topicBarsLive,
          signals: config.topicSignals,
          feedEvents: config.topicFeedEvents,
          quotes: config.topicQuotes,
        });
      } else {
        t.equal((await fetch(`${gatewayBase}/subjects`)).status, 404, 'with a registry configured the gateway serves no registry API of its own');
        t.same(
          [...registry!.subjects.keys()].sort(),
          [config.topicTicks, config.topicBars, config.topicBarsLive, config.topicSignals, config.topicFeedEvents, config.topicQuotes]
            .map((x) => `${x}-value`)
            .sort(),
          'a subject per topic, registered by the engine',
        );
      }

      const py = await pythonConsume(config.kafkaBrokers.join(','), registry ? registry.url : gatewayBase, [
        config.topicTicks,
        config.topicBars,
        config.topicSignals,
      ]);
      const of = (topic: string) => py.filter((r) => r.topic === topic).sort(byPosition);
      const pyTicks = of(config.topicTicks);
      const pyBars = of(config.topicBars);
      const pySignals = of(config.topicSignals);
      const ids = (xs: PyRecord[]) => [...new Set(xs.map((x) => x.schemaId))];
      if (registry) {
        const idOf = (subject: string) => registry!.subjects.get(subject)!.at(-1)!.id;
        t.same(
          [ids(pyTicks).sort(), ids(pyBars), ids(pySignals)],
          [[idOf(`${config.topicTicks}-value`), lateId!].sort(), [idOf(`${config.topicBars}-value`)], [idOf(`${config.topicSignals}-value`)]],
          "the registry's ids on the wire (ticks: the engine's, and the other producer's version 1)",
        );
        t.equal(pyTicks.filter((r) => r.schemaId === lateId).length, V1_TICKS, 'the other producer’s ticks are in the topic');
        t.ok(Math.min(...ids(py)) > 1000, 'none of our fixed ids');
      } else {
        t.same([ids(pyTicks), ids(pyBars), ids(pySignals)], [[7], [8], [3]], 'our fixed ids on the wire: tick v2, bar v2, signal');
      }

      // Ticks: every record, every field, as the engine decodes it.
      t.equal(pyTicks.length, engineTicks.length, 'the Python consumer read every tick');
      t.same(
        pyTicks.map((r) => ({ partition: r.partition, offset: r.offset, value: r.value })),
        engineTicks
          .sort(byPosition)
          .map(({ schemaId, ...x }) => ({
            ...x,
            value: schemaId === lateId ? asV1(x.value) : { ...x.value, sequence: x.value.sequence ? { ...x.value.sequence } : x.value.sequence },
          })),
        'ticks: the Python values = the engine decode of the same records',
      );
      // Bars: the Python values = PostgreSQL's rows = the bars computed offline from the ticks.
      const pgBars = await readPgBars(config.pgUrl, config.barsTable);
      const pythonBars = pyBars.map((r) => r.value as unknown as OracleBar);
      t.equal(pythonBars.length, exp.length, 'one bars record per final bar (no late ticks)');
      t.same(diffBars(pythonBars, pgBars), [], 'bars: the Python values = PostgreSQL rows');
      t.same(diffBars(pythonBars, exp), [], 'bars: = the bars computed offline from the ticks');
      // Signals: the Python values = PostgreSQL's rows.
      t.same(
        pySignals.map((r) => signalKey(r.value)).sort(),
        pgSignals.map((s) => signalKey(s as unknown as Record<string, unknown>)).sort(),
        'signals: the Python values = PostgreSQL rows',
      );
    },
  );
