// Storage policies on QuestDB (tick-engine maintain): a table TTL, QuestDB's own partition-wise retention. One table
// holds every interval and QuestDB cannot delete rows, so a TTL is set only when every interval expires, at the
// longest retention (whole days: the tables are partitioned by day); otherwise none (the bars are kept).
import type { Logger } from '../../log.js';
import { emptyReport, type MaintainPolicy, type MaintainReport } from '../maintenance.js';
import { setQuestDbTtl } from './questdb-exec.js';

const DAY_US = 86_400_000_000;

export async function maintainQuestDb(opts: {
  httpUrl: string;
  table: string;
  policy: MaintainPolicy;
  timeoutMs: number;
  log: Logger;
}): Promise<MaintainReport> {
  const { table, policy } = opts;
  const report = emptyReport('questdb', table, 'jobs');
  const longest = policy.retention.longest;
  const days = longest === null ? 0 : Math.ceil(longest / DAY_US);
  for (const t of [table, `${table}_signals`]) {
    report.settings.push(await setQuestDbTtl(opts.httpUrl, t, days, opts.timeoutMs));
  }
  if (longest === null && policy.retention.finite.length > 0)
    opts.log.warn(
      { table, retention: Object.fromEntries(policy.retention.finite) },
      'QuestDB keeps every interval: one table holds them all and a TTL would drop the intervals kept for ever',
    );
  opts.log.info({ ...report }, 'storage policies applied');
  return report;
}
