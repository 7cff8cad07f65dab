// Progress markers against the real broker: the latest committed marker of a file is found even when it was
// committed after another file's transaction that is still open (it waits for that one rather than stopping at
// the last stable offset, where it would find an older marker — and republish what the newer one covers); markers
// of aborted transactions do not count; a transaction that stays open past the wait is an error, not a guess.
import t, { type Test } from 'tap';
import type { Kafka } from 'kafkajs';
import { KafkaReadError } from '../../src/errors.js';
import { markerMessage, readLatestMarker, type ProgressMarker } from '../../src/stream/ingest-progress.js';
import { createKafka } from '../../src/stream/kafka.js';
import { ensureProgressTopic } from '../../src/stream/topics.js';
import { testConfig } from '../helpers/env.js';

const marker = (key: string, records: number, done = false): ProgressMarker => ({
  v: 1,
  key,
  file: `${key}.csv`,
  sha256: '0'.repeat(64),
  format: 'binance-trades',
  topic: 'ticks',
  position: { records, line: records, byte: records * 70 },
  produced: records,
  rejected: 0,
  done,
  at: new Date(0).toISOString(),
});

async function txProducer(t: Test, kafka: Kafka, id: string) {
  const p = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  t.teardown(() => p.disconnect());
  return p;
}

t.test('the latest committed marker, past another file’s open transaction, ignoring aborted ones', async (t) => {
  const config = testConfig();
  const kafka = createKafka(config, 'test');
  await ensureProgressTopic(kafka, config);
  const topic = config.topicIngestProgress;
  const read = (key: string, waitMs = 20_000) => readLatestMarker(kafka, 'test', topic, key, waitMs);

  t.equal(await read('file-a'), undefined, 'a file never started has no marker');

  const a = await txProducer(t, kafka, `${topic}-a`);
  const b = await txProducer(t, kafka, `${topic}-b`);
  const first = await a.transaction();
  await first.send({ topic, messages: [markerMessage(marker('file-a', 100))] });
  await first.commit();

  // b opens a transaction (another file's run, still publishing) …
  const open = await b.transaction();
  await open.send({ topic, messages: [markerMessage(marker('file-b', 5))] });
  // … and a commits its next marker after it: the last stable offset now lies before a's newest marker.
  const second = await a.transaction();
  await second.send({ topic, messages: [markerMessage(marker('file-a', 200))] });
  await second.commit();
  // A marker of an aborted transaction (a run killed mid-way, its transaction aborted by the next run's fence).
  const killed = await a.transaction();
  await killed.send({ topic, messages: [markerMessage(marker('file-a', 300))] });
  await killed.abort();

  await t.rejects(read('file-a', 500), KafkaReadError, 'an open transaction that outlasts the wait is an error, not an older answer');

  const reading = read('file-a');
  setTimeout(() => void open.commit(), 1000);
  const started = Date.now();
  const latest = await reading;
  t.equal(latest?.position.records, 200, 'the newest committed marker: not 100 (stopped at the open transaction), not 300 (aborted)');
  t.ok(Date.now() - started >= 900, 'it waited for the open transaction to be decided');
  t.equal((await read('file-b'))?.position.records, 5, "the other file's marker, once committed");

  const last = await a.transaction();
  await last.send({ topic, messages: [markerMessage(marker('file-a', 250, true))] });
  await last.commit();
  t.match(await read('file-a'), { done: true, position: { records: 250 } }, 'the end-of-file marker');
});
