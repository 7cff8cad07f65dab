// The writer on the real broker when a write fails: a send whose records the broker wrote but whose
// acknowledgement never arrived (simulated in the client: the real send, then an error) leaves the writer in doubt;
// before the next batch it reads the topics back, so the client's retry writes nothing twice. A send that failed
// before reaching the broker is written by the retry. Nothing is done to the broker itself.
import t from 'tap';
import kafkajs, { type Producer, type ProducerConfig } from 'kafkajs';
import type { Tick } from '../../src/contracts/tick.js';
import { logger } from '../../src/log.js';
import { PushWriter } from '../../src/push/writer.js';
import { createKafka } from '../../src/stream/kafka.js';
import { schema } from '../../src/stream/schemas.js';
import { decode } from '../../src/stream/serde.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { readTopic } from '../helpers/stores.js';

const { KafkaJSError } = kafkajs;
const config = testConfig(testEnv());
const kafka = createKafka(config, 'test');

/** 'after': the send reaches the broker, then fails (a lost acknowledgement); 'before': it fails without sending. */
let failNext: 'before' | 'after' | undefined;
const realProducer = kafka.producer.bind(kafka);
kafka.producer = (opts?: ProducerConfig): Producer => {
  const p = realProducer(opts);
  const send = p.send.bind(p);
  p.send = async (record) => {
    const mode = failNext;
    failNext = undefined;
    if (mode === 'before') throw new KafkaJSError('connection lost before the request (simulated)');
    const res = await send(record);
    if (mode === 'after') throw new KafkaJSError('request timed out; the broker wrote it (simulated)');
    return res;
  };
  return p;
};

const t0 = (Date.now() - 60_000) * 1000;
const tick = (id: number): Tick => ({
  venue: 'BRK',
  symbol: 'XAUUSD',
  eventTime: t0 + id,
  price: 2000 + id,
  size: 1,
  side: 'BUY',
  tradeId: String(id),
  ingestTime: t0 + 1000,
});

t.test('a lost acknowledgement is read back; a send that never left is written by the retry', async (t) => {
  const writer = await PushWriter.open(config, kafka, () => true, logger('test'));
  t.teardown(() => writer.close());
  const a = [tick(1), tick(2), tick(3)];
  failNext = 'after';
  await t.rejects(writer.write({ trades: a, quotes: [], letters: [] }), { name: 'KafkaJSError' });
  const retryA = await writer.write({ trades: a, quotes: [], letters: [] });
  t.same(retryA.trades, { written: 0, duplicates: 3 }, 'the retry finds all three written');

  const b = [tick(4), tick(5)];
  failNext = 'before';
  await t.rejects(writer.write({ trades: b, quotes: [], letters: [] }));
  const retryB = await writer.write({ trades: [...b, tick(1)], quotes: [], letters: [] });
  t.same(retryB.trades, { written: 2, duplicates: 1 }, 'the retry writes the two that never reached the broker');

  const ids = (await readTopic(kafka, config.topicTicks)).map((r) => decode<Tick>(schema('tick'), r.message.value).tradeId).sort();
  t.same(ids, ['1', '2', '3', '4', '5'], 'each trade once on the ticks topic');
});
