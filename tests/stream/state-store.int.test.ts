// State snapshots against the real broker: a snapshot larger than one record comes back byte for byte, even
// with other partitions' snapshots written in between; a missing one is a clear error; drop tombstones it.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { StateRestoreError } from '../../src/errors.js';
import { createKafka } from '../../src/stream/kafka.js';
import { StateStore } from '../../src/stream/state-store.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { testConfig } from '../helpers/env.js';
import { readTopic } from '../helpers/stores.js';

t.test('save, load and drop snapshots in the compacted state topic', async (t) => {
  const config = testConfig();
  const kafka = createKafka(config, 'test');
  await ensureTopics(kafka, config);
  const admin = kafka.admin();
  await admin.connect();
  const [desc] = (await admin.describeConfigs({ resources: [{ type: 2, name: config.topicState }], includeSynonyms: false })).resources;
  await admin.disconnect();
  t.equal(desc!.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue, 'compact', 'the state topic is compacted');

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const store = new StateStore(kafka, producer, config.topicState, config.aggGroupId);
  const other = new StateStore(kafka, producer, config.topicState, 'another-group');

  const big = randomBytes(1_300_000); // three chunks
  const small = randomBytes(1000);
  const refBig = await store.save(1, big);
  await other.save(1, randomBytes(600_000)); // another group's snapshot of the same partition, in between
  const refSmall = await store.save(1, small);
  const refOther = await store.save(2, Buffer.from('partition two'));
  t.equal(refBig.chunks, 3, 'a 1.3 MB snapshot is written in 3 chunks');
  t.ok(Buffer.from(await store.load(1, refBig)).equals(big), 'the big snapshot reads back byte for byte');
  t.ok(Buffer.from(await store.load(1, refSmall)).equals(small), 'the later one too, not mixed up with the other group');
  t.equal((await store.load(2, refOther)).toString(), 'partition two', 'another partition’s');

  await t.rejects(store.load(1, { ...refSmall, id: 'nope' }), StateRestoreError, 'an unknown snapshot is a StateRestoreError');
  await t.rejects(store.load(1, { ...refBig, chunks: 4 }), { code: 'TE_STATE_RESTORE', message: /3 of 4 chunks/ }, 'an incomplete one names what is missing');

  await store.drop(1, refBig);
  const records = await readTopic(kafka, config.topicState);
  const tombstones = records.filter((r) => r.message.value === null).map((r) => r.message.key!.toString());
  t.same(
    tombstones.sort(),
    [0, 1, 2].map((i) => `${config.aggGroupId}/1/${refBig.id}/${i}`),
    'drop writes one tombstone per chunk of that snapshot only',
  );
});
