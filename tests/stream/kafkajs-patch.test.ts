// kafkajs 2.2.4 groups a send's messages by partition with one array copy per message — quadratic in the messages
// per partition, a tenth of the ingest process's CPU at 5,000-message sends. patches/kafkajs+2.2.4.patch (applied
// by patch-package on every npm install / npm ci) makes it one push per message. This checks the installed copy is
// the patched one, and that it still groups as kafkajs did: every message once, in order, under its partition.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import t from 'tap';

const require = createRequire(import.meta.url);
const path = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
const group = require(path) as (a: {
  topic: string;
  partitionMetadata: { partitionId: number }[];
  messages: { key: string; n: number }[];
  partitioner: (a: { message: { key: string; n: number } }) => number;
}) => Record<string, { key: string; n: number }[]>;

t.test('the installed kafkajs has the linear grouping (npm install applied the patch)', async (t) => {
  t.match(readFileSync(path, 'utf8'), /tick-engine patch: linear/, path);
});

t.test('grouping: every message once, in order, under the partition the partitioner names', async (t) => {
  const messages = Array.from({ length: 30_000 }, (_, n) => ({ key: `S${n % 7}`, n }));
  const partitionOf = (m: { key: string }) => Number(m.key.slice(1)) % 3;
  const got = group({
    topic: 'x',
    partitionMetadata: [0, 1, 2].map((partitionId) => ({ partitionId })),
    messages,
    partitioner: ({ message }) => partitionOf(message),
  });
  const want: Record<string, number[]> = {};
  for (const m of messages) (want[String(partitionOf(m))] ??= []).push(m.n);
  t.same(Object.fromEntries(Object.entries(got).map(([p, ms]) => [p, ms.map((m) => m.n)])), want);
  t.same(group({ topic: 'x', partitionMetadata: [], messages, partitioner: () => 0 }), {}, 'no partitions known: nothing (as kafkajs)');
});
