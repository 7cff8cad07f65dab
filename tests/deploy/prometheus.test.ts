// deploy/prometheus: the scrape configuration and the alert rules are valid for Prometheus's own checker
// (`promtool check config`, `promtool check rules`), every alert fires when and only when its unit tests say
// (`promtool test rules alerts.test.yml`), and every metric and label an alert reads is one the engine exports —
// a rule about a metric that does not exist would never fire, silently.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { registry } from '../../src/metrics.js';
import { projectRoot } from '../../src/paths.js';

const run = promisify(execFile);
const dir = join(projectRoot(), 'deploy', 'prometheus');
/** Debian's promtool (scripts/test.sh installs the `prometheus` package); TE_PROMTOOL overrides. */
const promtool = process.env.TE_PROMTOOL ?? '/usr/bin/promtool';

async function check(args: string[]): Promise<string> {
  const { stdout, stderr } = await run(promtool, args, { cwd: dir });
  return stdout + stderr;
}

t.test('promtool: the scrape configuration and the rules are valid', async (t) => {
  t.match(await check(['check', 'config', 'prometheus.yml']), /SUCCESS: prometheus\.yml is valid/);
  t.match(await check(['check', 'rules', 'alerts.yml']), /SUCCESS: \d+ rules found/);
});

t.test('promtool test rules: each alert fires on its series, at its time, and not on the ones beside it', async (t) => {
  t.match(await check(['test', 'rules', 'alerts.test.yml']), /SUCCESS/);
});

t.test('every metric an alert reads is exported by the engine, and every label it groups by is one of its labels', async (t) => {
  const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
  const exprs = [...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);
  t.ok(exprs.length >= 10, `${exprs.length} alert expressions`);
  const labelsOf = new Map<string, string[]>();
  for (const m of await registry.getMetricsAsJSON()) labelsOf.set(m.name, []);
  for (const name of labelsOf.keys()) {
    const metric = registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined;
    labelsOf.set(name, metric?.labelNames ?? []);
  }
  const problems: string[] = [];
  for (const expr of exprs) {
    for (const [, name] of expr.matchAll(/\b(tick_engine_[a-z_]+)\b/g)) if (!labelsOf.has(name!)) problems.push(`${name} is not exported (in: ${expr})`);
    // `agg by (labels) (… metric …)`: each label must be the metric's, or one Prometheus adds (job, instance).
    for (const [, labels, body] of expr.matchAll(/by \(([^)]*)\) \(([^)]*\)?)/g)) {
      const metric = /tick_engine_[a-z_]+/.exec(body!)?.[0];
      if (!metric || !labelsOf.has(metric)) continue;
      for (const label of labels!.split(',').map((l) => l.trim()))
        if (!['job', 'instance', ...labelsOf.get(metric)!].includes(label)) problems.push(`${metric} has no label ${label} (in: ${expr})`);
    }
  }
  t.same(problems, []);
});

t.test('every alert names a runbook section that docs/operations.md has', async (t) => {
  const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
  const ops = readFileSync(join(projectRoot(), 'docs', 'operations.md'), 'utf8');
  const anchors = new Set(
    [...ops.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1]!
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  const runbooks = [...rules.matchAll(/runbook: docs\/operations\.md#([a-z0-9-]+)/g)].map((m) => m[1]!);
  t.equal(runbooks.length, [...rules.matchAll(/- alert: /g)].length, 'one runbook per alert');
  t.same(
    runbooks.filter((a) => !anchors.has(a)),
    [],
    'each runbook anchor is a heading of docs/operations.md',
  );
});
