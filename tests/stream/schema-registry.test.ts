// The schema-registry client (TE_SCHEMA_REGISTRY_URL) against a small in-test registry (tests/helpers/toy-schema-
// registry.ts: the calls the engine makes). No real registry runs here: this checks our side of the protocol —
// registration at start-up, the registry's ids on the wire and back, ids met later matched by canonical form, a 409
// as a typed error naming the subject, and waiting with backoff while the registry is down.
import t, { type Test } from 'tap';
import { loadConfig } from '../../src/config.js';
import type { Bar } from '../../src/contracts/bar.js';
import type { Tick } from '../../src/contracts/tick.js';
import { logger } from '../../src/log.js';
import { resetWireIds, schemaByWireId, topicSubjects, wireId } from '../../src/stream/schema-ids.js';
import { prepareSchemaRegistry, resetSchemaRegistry, resolveWireIds, resolveWireIdsInPlace } from '../../src/stream/schema-registry.js';
import { schema } from '../../src/stream/schemas.js';
import { decode, encode } from '../../src/stream/serde.js';
import { TickDecoder } from '../../src/stream/tick-decoder.js';
import { freePort } from '../helpers/env.js';
import { SAMPLE_BAR, SAMPLE_TICK } from '../helpers/sample-tick.js';
import { startToyRegistry, type ToyRegistry } from '../helpers/toy-schema-registry.js';

const log = logger('test');
const config = (url: string) =>
  loadConfig({ env: { TE_SCHEMA_REGISTRY_URL: url, TE_TOPIC_TICKS: 'x.ticks', TE_TOPIC_BARS: 'x.bars', TE_TOPIC_BARS_LIVE: 'x.bars.live' } });
const tick: Tick = { ...SAMPLE_TICK, venueSymbol: null, sequence: null };
const bar: Bar = { ...SAMPLE_BAR };

t.afterEach(() => {
  resetWireIds();
  resetSchemaRegistry();
});

t.test('config: TE_SCHEMA_REGISTRY_URL empty by default, a URL when set', async (t) => {
  t.equal(loadConfig({ env: {} }).schemaRegistryUrl, '');
  t.throws(() => loadConfig({ env: { TE_SCHEMA_REGISTRY_URL: 'not a url' } }), { code: 'TE_CONFIG', message: /TE_SCHEMA_REGISTRY_URL: must be a URL/ });
});

t.test('a writer registers every topic subject and writes the registry ids; readers map them back', async (t) => {
  const reg = await startToyRegistry();
  t.teardown(() => reg.close());
  // An older engine registered tick version 1 under the ticks subject: its records are still read.
  const v1 = await fetch(`${reg.url}/subjects/x.ticks-value/versions`, {
    method: 'POST',
    body: JSON.stringify({ schema: JSON.stringify(schema('tick', { version: 1 }).json) }),
  });
  const v1Id = ((await v1.json()) as { id: number }).id;
  t.equal(v1Id, 1001);

  const cfg = config(reg.url);
  await prepareSchemaRegistry(cfg, { log, role: 'writer' });
  const subjects = topicSubjects(cfg).map((s) => s.subject);
  t.same(subjects, ['x.ticks-value', 'x.bars-value', 'x.bars.live-value', 'signals-value', 'feed.events-value', 'quotes-value']);
  t.same([...reg.subjects.keys()].sort(), [...subjects].sort(), 'a subject per topic (TopicNameStrategy)');
  t.same(
    reg.subjects.get('x.ticks-value')!.map((v) => v.id),
    [1001, 1002],
    'ticks: version 1 as it was, version 2 registered after it',
  );
  t.equal(reg.subjects.get('x.bars-value')![0]!.id, reg.subjects.get('x.bars.live-value')![0]!.id, 'the same bar schema has one id under both bar subjects');
  t.ok(
    reg.requests.some((r) => r === 'POST /subjects/x.ticks-value') && reg.requests.some((r) => r === 'POST /subjects/x.bars-value/versions'),
    'older versions looked up, latest registered',
  );

  const tickId = wireId(schema('tick'));
  t.equal(tickId, 1002);
  const buf = encode(schema('tick'), tick);
  t.equal(buf.readUInt32BE(1), 1002, 'the registry id on the wire');
  t.same({ ...decode<Tick>(schema('tick'), buf) }, tick, 'decode maps the registry id back to tick version 2');
  t.same({ ...new TickDecoder().decode(buf) }, tick, 'the fast tick decoder too');
  const old = Buffer.concat([Buffer.from([0, 0, 0, 0x03, 0xe9]), schema('tick', { version: 1 }).type.toBuffer(tick)]);
  t.same({ ...decode<Tick>(schema('tick'), old) }, tick, 'a version 1 record under the id the registry gave it');
  t.same({ ...new TickDecoder().decode(old) }, tick);
  const barBuf = encode(schema('bar'), bar);
  t.equal(barBuf.readUInt32BE(1), wireId(schema('bar')));
  t.same({ ...decode<Bar>(schema('bar'), barBuf) }, bar);
  // Our fixed ids mean nothing once the registry's are in use.
  const fixed = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), schema('tick').type.toBuffer(tick)]);
  t.throws(() => decode(schema('tick'), fixed), { code: 'TE_DECODE', message: /schema id 7 is not the tick schema \(id 1001 or 1002\)/ });
  t.throws(() => new TickDecoder().decode(fixed), { code: 'TE_DECODE', message: /schema id 7 is not the tick schema/ });
});

/** A registry a writer registered every subject in, and this process then prepared as a reader of it. */
async function readerAfterWriter(t: Test): Promise<ToyRegistry> {
  const reg = await startToyRegistry();
  t.teardown(() => reg.close());
  const cfg = config(reg.url);
  await prepareSchemaRegistry(cfg, { log, role: 'writer' });
  resetWireIds();
  await prepareSchemaRegistry(cfg, { log, role: 'reader' });
  return reg;
}

t.test('a reader only looks ids up; an id met later is fetched once and matched by canonical form', async (t) => {
  const reg = await readerAfterWriter(t);
  t.notOk(
    reg.requests.slice(reg.requests.lastIndexOf('POST /subjects/quotes-value/versions') + 1).some((r) => r.endsWith('/versions')),
    'the reader registered nothing',
  );
  t.throws(() => wireId(schema('tick')), { code: 'TE_INTERNAL' }, 'a reader has no ids to write with');
  t.equal(schemaByWireId(1001), schema('tick'));

  // Another producer registered bar version 1 elsewhere, formatted differently and without docs: the same canonical form.
  const v1 = schema('bar', { version: 1 }).json;
  const otherId = reg.putSchema(JSON.stringify({ fields: v1.fields, type: v1.type, namespace: v1.namespace, name: v1.name }, null, 2));
  const foreignId = reg.putSchema(JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'a', type: 'int' }] }));
  const v1Bar = { ...bar } as Partial<Bar>;
  delete v1Bar.complete;
  const rec = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), schema('bar', { version: 1 }).type.toBuffer(v1Bar)]);
  rec.writeUInt32BE(otherId, 1);
  t.throws(() => decode(schema('bar'), rec), { code: 'TE_DECODE' }, 'unknown before it is resolved');
  await resolveWireIds([rec, rec, null]);
  await resolveWireIds([rec]);
  t.equal(reg.requests.filter((r) => r === `GET /schemas/ids/${otherId}`).length, 1, 'fetched once, then cached');
  t.same({ ...decode<Bar>(schema('bar'), rec) }, { ...bar, complete: null }, 'matched to bar version 1 and resolved into version 2');
  const foreign = Buffer.from(rec);
  foreign.writeUInt32BE(foreignId, 1);
  await resolveWireIds([foreign]);
  t.throws(
    () => decode(schema('bar'), foreign),
    { code: 'TE_DECODE', message: new RegExp(`schema id ${foreignId} is not the bar schema`) },
    'not ours: still refused',
  );
});

t.test('the own fetch path resolves ids met later in values where they lie (one buffer, no Buffer per value)', async (t) => {
  const reg = await readerAfterWriter(t);
  // Tick version 1, registered by another producer with its keys in another order: a new id, the same canonical form.
  const v1 = schema('tick', { version: 1 });
  const { name, namespace, type, fields } = v1.json as { name: string; namespace: string; type: string; fields: unknown };
  const otherId = reg.putSchema(JSON.stringify({ fields, name, namespace, type }));
  t.notOk(schemaByWireId(otherId), 'not known before');
  const body = v1.type.toBuffer({ ...tick });
  const rec = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
  rec.writeUInt32BE(otherId, 1);
  // A response's layout: a prefix, the record, a short value, the record again; a null value has length -1.
  const data = Buffer.concat([Buffer.from('prefix'), rec, Buffer.from([0, 1]), rec]);
  const run = { data, starts: Int32Array.of(6, 0, 6 + rec.length, 8 + rec.length), lengths: Int32Array.of(rec.length, -1, 2, rec.length) };
  t.throws(() => new TickDecoder().decode(rec), { code: 'TE_DECODE' }, 'refused before it is resolved');
  await resolveWireIdsInPlace(run);
  await resolveWireIdsInPlace(run);
  t.equal(reg.requests.filter((r) => r === `GET /schemas/ids/${otherId}`).length, 1, 'fetched once, then cached');
  t.equal(schemaByWireId(otherId), v1, 'matched to tick version 1');
  const read = new TickDecoder().decode(data.subarray(8 + rec.length, 8 + 2 * rec.length));
  t.equal(read.price, tick.price, 'the record now decodes');
  t.equal(read.symbol, tick.symbol);
});

t.test('an incompatible schema (409) is a typed error naming the subject, not retried', async (t) => {
  const reg = await startToyRegistry();
  t.teardown(() => reg.close());
  reg.incompatible.add('x.bars-value');
  await t.rejects(prepareSchemaRegistry(config(reg.url), { log, role: 'writer' }), {
    code: 'TE_SCHEMA_INCOMPATIBLE',
    name: 'SchemaIncompatibleError',
    subject: 'x.bars-value',
    message: /subject x\.bars-value as incompatible/,
  });
  t.equal(reg.requests.filter((r) => r === 'POST /subjects/x.bars-value/versions').length, 1, 'asked once');
});

t.test('registry down at start-up: retried with backoff, reported down, then up once it answers', async (t) => {
  const port = await freePort();
  const downs: unknown[] = [];
  let ups = 0;
  const prepared = prepareSchemaRegistry(config(`http://127.0.0.1:${port}`), {
    log,
    role: 'writer',
    retryMaxMs: 200,
    onDown: (err) => downs.push(err),
    onUp: () => ups++,
  });
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(downs.length >= 3, `${downs.length} failed attempts in 1 s`);
  t.match(downs[0], { code: 'TE_SCHEMA_REGISTRY', message: /did not answer POST \/subjects\/x\.ticks-value\/versions/ });
  t.equal(ups, 0);
  const reg = await startToyRegistry({ port });
  t.teardown(() => reg.close());
  await prepared;
  t.equal(ups, 1, 'up once it answered');
  t.equal(wireId(schema('tick')), 1001);
});
