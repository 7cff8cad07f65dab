// The aggregator's own fetch read path reports each partition's reading in /ready (waitingFor) and stops reporting it
// when the partition is no longer read here: a failure of an assignment that ended must not keep the process unready
// (before, `kafka:fetch` and `kafka:offsets` could stay down for good after a broker restart). No broker: the hooks
// and the admin are fakes, and nothing gets as far as a fetch.
import type { Admin } from 'kafkajs';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { logger } from '../../src/log.js';
import { DependencyHealth } from '../../src/runtime/dependency-health.js';
import { FetchReadPath, followMaxBytes, type FollowHooks } from '../../src/runtime/fetch-read-path.js';

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
