// ensureTopics at start-up against a broker that has just started (a unit test: the admin client is faked): a
// retriable error while waiting for the new topics' leaders is retried, listing the topics again and creating only
// those still missing; any other error stops the start at once.
import t from 'tap';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../src/config.js';
import { ensureTopics } from '../../src/stream/topics.js';

function fakeKafka(opts: { failures: Error[]; existing?: string[]; metadataFailures?: number }) {
  const topics = new Set(opts.existing ?? []);
  const calls: string[][] = [];
  let disconnected = 0;
  let metadataFailures = opts.metadataFailures ?? 0;
  const metadataAsked: string[][] = [];
  const admin = {
    connect: async () => undefined,
    disconnect: async () => void disconnected++,
    listTopics: async () => [...topics],
    fetchTopicMetadata: async (req: { topics: string[] }) => {
      metadataAsked.push(req.topics);
      if (metadataFailures-- > 0 || req.topics.some((x) => !topics.has(x))) throw retriable();
      return { topics: req.topics.map((name) => ({ name, partitions: [] })) };
    },
    createTopics: async (req: { topics: { topic: string }[] }) => {
      calls.push(req.topics.map((x) => x.topic));
      // The broker creates the topics, then the wait for their leaders fails.
      for (const x of req.topics) topics.add(x.topic);
      const err = opts.failures.shift();
      if (err) throw err;
      return true;
    },
  };
  return { kafka: { admin: () => admin } as unknown as Kafka, calls, disconnected: () => disconnected, topics, metadataAsked };
}

const retriable = () => Object.assign(new Error('This server does not host this topic-partition'), { retriable: true, type: 'UNKNOWN_TOPIC_OR_PARTITION' });

t.test('a retriable failure while waiting for leaders is retried; the retry creates only what is still missing', async (t) => {
  const config = loadConfig({ env: {} });
  const k = fakeKafka({ failures: [retriable()], existing: [config.topicTicks] });
  await ensureTopics(k.kafka, config);
  t.equal(k.calls.length, 1, 'one create: the retry finds every topic there');
  t.notOk(k.calls[0]!.includes(config.topicTicks), 'an existing topic is not created');
  t.ok(k.topics.has(config.topicBars) && k.topics.has(config.topicDlq), 'the missing topics were created');
  t.equal(k.disconnected(), 1, 'the admin client is closed');
});

t.test('a retriable failure of the create itself is retried until it succeeds', async (t) => {
  const config = loadConfig({ env: {} });
  const k = fakeKafka({ failures: [] });
  let fails = 2;
  const admin = k.kafka.admin() as unknown as { createTopics: (req: { topics: { topic: string }[] }) => Promise<boolean> };
  const create = admin.createTopics;
  admin.createTopics = async (req) => {
    if (fails-- > 0) throw retriable(); // before the broker created anything
    return create(req);
  };
  await ensureTopics(k.kafka, config);
  t.equal(k.calls.length, 1);
  t.ok(k.topics.has(config.topicTicks));
});

t.test('topics another process created: nothing created, but it waits until the broker serves their metadata', async (t) => {
  const config = loadConfig({ env: {} });
  const all = [
    config.topicTicks,
    config.topicBars,
    config.topicBarsLive,
    config.topicSignals,
    config.topicDlq,
    config.topicState,
    config.topicFeedEvents,
    config.topicQuotes,
  ];
  const k = fakeKafka({ failures: [], existing: all, metadataFailures: 3 });
  await ensureTopics(k.kafka, config);
  t.equal(k.calls.length, 0, 'nothing created');
  t.equal(k.metadataAsked.length, 4, 'metadata asked until served (3 retriable failures)');
  t.strictSame(k.metadataAsked.at(-1), all, 'for every topic');
});

t.test('a non-retriable failure stops at once, and the admin client is still closed', async (t) => {
  const config = loadConfig({ env: {} });
  const k = fakeKafka({ failures: [Object.assign(new Error('Topic authorization failed'), { retriable: false })] });
  await t.rejects(ensureTopics(k.kafka, config), /Topic authorization failed/);
  t.equal(k.calls.length, 1, 'not retried');
  t.equal(k.disconnected(), 1);
});
