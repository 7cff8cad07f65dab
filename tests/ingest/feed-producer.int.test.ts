// The feed against the real broker: what lands in `ticks` is the simulator's output, Avro in the wire
// format, keyed by symbol, one partition per symbol, in feed order within each partition.
import { readFileSync } from 'node:fs';
import t from 'tap';
import avro from 'avsc';
import { FeedProducer } from '../../src/ingest/feed-producer.js';
import { FeedSimulator } from '../../src/ingest/simulator.js';
import { logger } from '../../src/log.js';
import { projectRoot } from '../../src/paths.js';
import { createKafka } from '../../src/stream/kafka.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { readTopic } from '../helpers/stores.js';

t.test('produced ticks equal the simulator output, keyed and partitioned by symbol', async (t) => {
  const config = testConfig(
    testEnv({ TE_SIM_START: '2024-05-01T00:00:00Z', TE_SIM_SPEED: '0', TE_SIM_DURATION_S: '20', TE_SIM_RATE: '500', TE_SIM_SEED: '77' }),
  );
  const kafka = createKafka(config, 'test');
  const feed = new FeedProducer(config, kafka, logger('test'));
  await feed.start();
  const summary = await feed.run();
  await feed.stop();

  const expected = new FeedSimulator({
    symbols: config.simSymbols,
    rate: config.simRate,
    seed: config.simSeed,
    start: Date.parse('2024-05-01T00:00:00Z') * 1000,
    jitter: config.simJitterMs * 1000,
    venue: config.simVenue,
  });
  const end = Date.parse('2024-05-01T00:00:20Z') * 1000;
  const want: Record<string, unknown>[] = [];
  for (;;) {
    const x = expected.next();
    if (expected.now >= end) break;
    want.push({ ...x });
  }
  const type = avro.Type.forSchema(JSON.parse(readFileSync(`${projectRoot()}/schemas/tick-v2.avsc`, 'utf8')));
  const records = await readTopic(kafka, config.topicTicks);
  t.equal(records.length, summary.produced, 'every produced tick is in the topic');
  t.equal(records.length, want.length, 'as many as the simulator generates for 20 s');
  const partitionOf = new Map<string, Set<number>>();
  let badHeaders = 0;
  const got = records
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    .map((r) => {
      const key = r.message.key!.toString();
      const set = partitionOf.get(key) ?? new Set();
      set.add(r.partition);
      partitionOf.set(key, set);
      if (r.message.value![0] !== 0 || r.message.value!.readUInt32BE(1) !== 7) badHeaders++;
      const v = { ...(type.fromBuffer(r.message.value!.subarray(5)) as Record<string, unknown>) };
      if (v.symbol !== key) t.fail(`key ${key} != symbol ${String(v.symbol)}`);
      return v;
    });
  t.equal(badHeaders, 0, 'every record has magic byte 0 and the id of tick schema version 2');
  t.ok(
    [...partitionOf.values()].every((s) => s.size === 1),
    'each symbol lives in exactly one partition',
  );
  t.equal(new Set([...partitionOf.values()].map((s) => [...s][0])).size, config.ticksPartitions, 'symbols spread over every partition');
  // Within a symbol (one partition), order is the feed's order; compare ignoring ingestTime.
  // The simulator knows no venue symbol or trade-id sequence: tick schema version 2's fields are null.
  const strip = (x: Record<string, unknown>) => JSON.stringify({ ...x, ingestTime: 0, venueSymbol: x.venueSymbol ?? null, sequence: x.sequence ?? null });
  const bySymbol = (xs: Record<string, unknown>[]) => {
    const m = new Map<string, string[]>();
    for (const x of xs) m.set(String(x.symbol), [...(m.get(String(x.symbol)) ?? []), strip(x)]);
    return m;
  };
  const g = bySymbol(got);
  const w = bySymbol(want);
  let same = g.size === w.size;
  for (const [sym, list] of w) if (JSON.stringify(g.get(sym)) !== JSON.stringify(list)) same = false;
  t.ok(same, 'per symbol, the topic holds exactly the simulated ticks in feed order');
  t.ok(
    got.every((x) => (x.ingestTime as number) > Date.parse('2026-01-01') * 1000),
    'ingest time stamped from the wall clock',
  );
});
