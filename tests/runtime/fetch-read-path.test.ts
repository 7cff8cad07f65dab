// The aggregator's own fetch read path reports each partition's reading in /ready (waitingFor) and stops reporting it
// when the partition is no longer read here: a failure of an assignment that ended must not keep the process unready
// (before, `kafka:fetch` and `kafka:offsets` could stay down for good after a broker restart); a partition the broker
// refuses to serve stops the process once, not in a loop. No real broker: the hooks, the admin and the broker
// (tests/helpers/fake-broker.ts) are fakes.
import type { Admin } from 'kafkajs';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { logger } from '../../src/log.js';
import { KafkaReadError } from '../../src/errors.js';
import { DependencyHealth } from '../../src/runtime/dependency-health.js';
import { FetchReadPath, followMaxBytes, type FollowHooks } from '../../src/runtime/fetch-read-path.js';
import { API_FETCH, API_VERSIONS } from '../../src/stream/fetch/kafka-connection.js';
import { fakeBroker, portOf } from '../helpers/fake-broker.js';

const log = logger('test');
const config = loadConfig({ env: { TE_RETRY_MAX_MS: '100' } });

t.test('a partition whose state cannot be restored is reported down, and up again once it is not read here', async (t) => {
  const health = new DependencyHealth(log, []);
  const path = new FetchReadPath(config, {} as Admin, health, log);
  let reading = true;
  let attempts = 0;
  const hooks: FollowHooks<never> = {
    state: () => {
      attempts++;
      return Promise.reject(new Error('offsets of the group: the broker did not answer'));
    },
    resumeFrom: () => undefined,
    holds: () => true,
    process: () => Promise.resolve(),
    drop: () => undefined,
  };
  const following = path.follow(7, () => reading, hooks);
  while (attempts < 2) await new Promise((r) => setTimeout(r, 10));
  t.notOk(health.ready, 'not ready while the restore fails');
  t.same(
    health.problems().map((p) => [p.dependency, p.error]),
    [['kafka:restore:7', 'offsets of the group: the broker did not answer']],
    'waiting for that partition, with the reason',
  );
  reading = false; // the assignment ends (a rebalance, a consumer restart, stop)
  await following;
  t.ok(health.ready, 'ready again: the partition is no longer read here');
  t.same(health.problems(), []);
});

t.test('the partitions a member reads share one fetch budget (10 MiB, as kafkajs), 64 KiB to 2 MiB each', async (t) => {
  const MiB = 1024 * 1024;
  t.equal(followMaxBytes(0), 2 * MiB, 'no partition yet: the most');
  t.equal(followMaxBytes(3), 2 * MiB, 'the default 3 partitions: 2 MiB each, as before');
  t.equal(followMaxBytes(5), 2 * MiB);
  t.equal(followMaxBytes(8), Math.floor((10 * MiB) / 8));
  t.equal(followMaxBytes(48), Math.floor((10 * MiB) / 48));
  t.equal(followMaxBytes(1024), 64 * 1024, 'many: 64 KiB each, no less');
  for (const n of [1, 2, 7, 16, 100, 160, 161, 500])
    t.ok(n * followMaxBytes(n) <= Math.max(10 * MiB, n * 64 * 1024), `${n} partitions ask for ${n * followMaxBytes(n)} bytes at once`);
});

/** A Fetch v4 response for one partition of `topic` with the broker error `error` and no records. */
function fetchError(topic: string, partition: number, error: number): Buffer {
  const name = Buffer.from(topic);
  const b = Buffer.alloc(4 + 4 + 2 + name.length + 4 + 4 + 2 + 8 + 8 + 4 + 4);
  let p = b.writeInt32BE(0, 0); // throttle
  p = b.writeInt32BE(1, p);
  p = b.writeInt16BE(name.length, p);
  p += name.copy(b, p);
  p = b.writeInt32BE(1, p);
  p = b.writeInt32BE(partition, p);
  p = b.writeInt16BE(error, p);
  p = b.writeBigInt64BE(0n, p); // high watermark
  p = b.writeBigInt64BE(0n, p); // last stable offset
  p = b.writeInt32BE(0, p); // aborted transactions
  b.writeInt32BE(0, p); // record bytes
  return b;
}

t.test('a partition the broker will not serve (TOPIC_AUTHORIZATION_FAILED) stops the process once, and the follow ends', async (t) => {
  const topic = config.topicTicks;
  let fetches = 0;
  const broker = await fakeBroker((req, reply) => {
    if (req.apiKey === API_VERSIONS) {
      const b = Buffer.alloc(2 + 4 + 6);
      b.writeInt32BE(1, 2);
      b.writeInt16BE(API_FETCH, 6);
      b.writeInt16BE(0, 8);
      b.writeInt16BE(11, 10);
      reply(b);
    } else if (req.apiKey === API_FETCH) {
      fetches++;
      reply(fetchError(topic, 0, 29));
    }
  });
  t.teardown(() => broker.close());
  const admin = {
    fetchTopicOffsets: async () => [{ partition: 0, offset: '0', low: '0', high: '0' }],
    fetchTopicMetadata: async () => ({ topics: [{ name: topic, partitions: [{ partitionId: 0, leader: 1 }] }] }),
    describeCluster: async () => ({ brokers: [{ nodeId: 1, host: '127.0.0.1', port: portOf(broker) }], controller: 1, clusterId: 'x' }),
  } as unknown as Admin;
  const fatal: Error[] = [];
  const path = new FetchReadPath(config, admin, new DependencyHealth(log, []), log, (err) => fatal.push(err));
  const hooks: FollowHooks<object> = {
    state: async () => ({}),
    resumeFrom: () => undefined,
    holds: () => true,
    process: () => Promise.reject(new Error('nothing may be processed')),
    drop: () => undefined,
  };
  // The assignment goes on (current() stays true): only the fatal error may end the follow.
  const ended = await Promise.race([
    path.follow(0, () => true, hooks).then(() => 'ended'),
    new Promise<string>((r) => setTimeout(() => r('still following after 3 s'), 3000).unref()),
  ]);
  path.closeAll();
  t.equal(ended, 'ended', 'the follow ends');
  t.equal(fatal.length, 1, 'the process is told once');
  t.ok(fatal[0] instanceof KafkaReadError && fatal[0].fatal, 'a fatal KafkaReadError');
  t.match(fatal[0]?.message, /broker error 29/, 'naming the broker error');
  t.equal(fetches, 1, 'one fetch, not retried');
});
