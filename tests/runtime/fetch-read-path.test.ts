// The aggregator's own fetch read path reports each partition's reading in /ready (waitingFor) and stops reporting it
// when the partition is no longer read here: a failure of an assignment that ended must not keep the process unready
// (before, `kafka:fetch` and `kafka:offsets` could stay down for good after a broker restart). No broker: the hooks
// and the admin are fakes, and nothing gets as far as a fetch.
import type { Admin } from 'kafkajs';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { logger } from '../../src/log.js';
import { DependencyHealth } from '../../src/runtime/dependency-health.js';
import { FetchReadPath, type FollowHooks } from '../../src/runtime/fetch-read-path.js';

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
