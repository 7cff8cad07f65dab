// When a partition counts as quiet for the idle close: caught up with the broker for the whole idle period,
// nothing new processed, and no disturbance (outage, stall) within the recovery period.
import t from 'tap';
import { QuietPartitions } from '../../src/runtime/quiet-partitions.js';

t.test('caught up for the idle period', async (t) => {
  const q = new QuietPartitions(1000, 5000);
  q.observe(0, 100, 100, 0);
  t.notOk(q.quiet(0, 100, 999), 'not yet a full period');
  q.observe(0, 100, 100, 500);
  t.ok(q.quiet(0, 100, 1000), 'a full period since first seen caught up');
  t.notOk(q.quiet(0, 101, 1000), 'a record processed since: not quiet');
  t.notOk(q.quiet(1, 100, 5000), 'a partition never observed is never quiet');
});

t.test('behind the broker, or new records, start the clock again', async (t) => {
  const q = new QuietPartitions(1000, 5000);
  q.observe(0, 100, 100, 0);
  q.observe(0, 100, 120, 600); // the broker has more: a backlog, not silence
  q.observe(0, 100, 100, 700);
  t.notOk(q.quiet(0, 100, 1500), 'the clock restarted at 700');
  t.ok(q.quiet(0, 100, 1700));
  q.observe(0, 130, 130, 1800); // caught up again, but at a new offset: records arrived
  t.notOk(q.quiet(0, 130, 2700));
  t.ok(q.quiet(0, 130, 2800));
  q.forget(0);
  t.notOk(q.quiet(0, 130, 10_000), 'forgotten while busy');
});

t.test('a disturbance holds every partition for the recovery period', async (t) => {
  const q = new QuietPartitions(1000, 5000);
  q.observe(0, 100, 100, 0);
  q.observe(1, 7, 7, 0);
  q.disturb(2000); // e.g. the broker did not answer, or the process was stalled
  q.observe(0, 100, 100, 2100);
  q.observe(1, 7, 7, 2100);
  t.notOk(q.quiet(0, 100, 6999), 'held until 7000 even though caught up since 2100');
  t.ok(q.quiet(0, 100, 7000));
  t.ok(q.quiet(1, 7, 7000));
});
