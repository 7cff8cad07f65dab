// TE_MAINTAIN_EVERY_S: a running aggregator applies the storage policies on its own, through its store connections.
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { stackEnv, testEnv } from '../helpers/env.js';
import { logger } from '../../src/log.js';
import { PostgresSink } from '../../src/stores/postgres/postgres-sink.js';
import { waitFor, withPg } from '../helpers/stores.js';

const env = stackEnv();

t.test('an aggregator with TE_MAINTAIN_EVERY_S drops the expired partitions and creates the ones ahead', async (t) => {
  const e = testEnv({ TE_SINKS: 'postgres', TE_RETENTION: '*=30d', TE_MAINTAIN_EVERY_S: '2', TE_PARTITIONS_AHEAD: '1', TE_LOG_LEVEL: 'info' });
  // TE_LOG_LEVEL: the report is an info line, and the test command runs with warn.
  const table = e.TE_BARS_TABLE!;
  // Partitions of 2024 (old bars' days), made before the aggregator starts.
  const sink = new PostgresSink({ name: 'postgres', url: env.TE_PG_URL!, table, log: logger('test'), idleCloseMs: 10_000 });
  await sink.init();
  const old = ['20240601', '20240602'].map((d) => `${table}_p${d}`);
  await withPg(env.TE_PG_URL!, async (c) => {
    for (const d of ['2024-06-01', '2024-06-02'])
      await c.query(
        `CREATE TABLE ${table}_p${d.replace(/-/g, '')} PARTITION OF ${table} FOR VALUES FROM ('${d}') TO ('${d.slice(0, 8)}${String(Number(d.slice(8)) + 1).padStart(2, '0')}')`,
      );
  });
  await sink.close();
  const partitions = () =>
    withPg(env.TE_PG_URL!, async (c) =>
      (
        await c.query<{ p: string }>(
          `SELECT c.relname AS p FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`,
          [table],
        )
      ).rows.map((r) => r.p),
    );
  t.same((await partitions()).slice(0, 2), old, 'the old partitions are there');

  const agg = runCli(['aggregate'], e);
  t.teardown(() => agg.stop());
  const left = await waitFor(partitions, (ps) => !ps.some((p) => old.includes(p)), 60_000, 500);
  t.same(
    left.filter((p) => old.includes(p)),
    [],
    'the aggregator dropped the partitions of 2024 (older than 30 days)',
  );
  const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  t.same(left, [`${table}_p${today}`, `${table}_p${tomorrow}`], "today's partition and one ahead remain");
  await waitFor(
    async () => agg.output(),
    (out) => out.includes('storage policies applied'),
    10_000,
  );
  t.match(agg.output(), /"dropped":\[[^\]]*_p20240601/, 'its log reports what it dropped');
});
