// Ticks deleted before they were aggregated: the aggregator's committed checkpoint points below the log's start
// (retention, or an operator's delete-records, removed what it had not read yet). On either read path the log says
// so and the aggregator goes on from the log's start; the bars of the ticks still in the log are exact. Before,
// the own fetch path (TE_AGG_READ_PATH=fetch) retried the fetch at the deleted offset forever: the partition stalled.
import t from 'tap';
import { createKafka } from '../../src/stream/kafka.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { runCli } from '../helpers/cli.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { diffBars, offlineBars } from '../helpers/oracle.js';
import { readPgBars, readTopic, waitFor, withPg } from '../helpers/stores.js';
import { readTicks } from '../helpers/verify-run.js';

/** The offset committed for the aggregators' group: below what is deleted. */
const CHECKPOINT = 10;

for (const readPath of ['kafkajs', 'fetch'] as const)
  t.test(`${readPath} read path: a checkpoint below the log start goes on from the log start, loudly`, async (t) => {
    const env = testEnv({
      TE_SIM_START: '2024-04-03T00:00:00Z',
      TE_SIM_SPEED: '0',
      TE_SIM_DURATION_S: '20',
      TE_SIM_RATE: '200',
      TE_SIM_SYMBOLS: '3',
      TE_TICKS_PARTITIONS: '1',
      TE_INTERVALS: '1s,1m',
      TE_SINKS: 'postgres',
      TE_IDLE_CLOSE_MS: '1000',
      TE_AGG_READ_PATH: readPath,
    });
    const config = testConfig(env);
    const kafka = createKafka(config, 'retention-test');
    await ensureTopics(kafka, config);
    t.equal(await runCli(['ingest'], env).exited, 0, 'ticks ingested');
    const admin = kafka.admin();
    await admin.connect();
    t.teardown(() => admin.disconnect());
    const [before] = await admin.fetchTopicOffsets(config.topicTicks);
    const high = Number(before!.high);
    const deleteBelow = Math.floor(high / 2);
    // A checkpoint (no state snapshot) the aggregators' group committed, then the log cut above it.
    await admin.setOffsets({ groupId: config.aggGroupId, topic: config.topicTicks, partitions: [{ partition: 0, offset: String(CHECKPOINT) }] });
    await admin.deleteTopicRecords({ topic: config.topicTicks, partitions: [{ partition: 0, offset: String(deleteBelow) }] });
    const [after] = await admin.fetchTopicOffsets(config.topicTicks);
    t.equal(Number(after!.low), deleteBelow, `the log starts at ${deleteBelow} of ${high}; the checkpoint is ${CHECKPOINT}`);

    const ticks = await readTicks(kafka, config.topicTicks);
    t.ok(ticks.length > 1000 && ticks.every((x) => x.offset >= deleteBelow), `${ticks.length} ticks left, all at or after the log start`);
    const expected = offlineBars(ticks, { intervals: config.intervals, maxOutOfOrder: config.maxOutOfOrderMs * 1000 }).finalBars;

    const aggregator = runCli(['aggregate'], env);
    t.teardown(() => aggregator.stop());
    const pgCount = () => withPg(config.pgUrl, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${config.barsTable}`)).rows[0].n)).catch(() => 0);
    const n = await waitFor(pgCount, (n) => n >= expected.length || aggregator.child.exitCode !== null, 60_000, 500);
    if (n < expected.length) t.comment(aggregator.output().slice(-4000));
    t.equal(aggregator.child.exitCode, null, 'the aggregator is still running');
    t.same(diffBars(await readPgBars(config.pgUrl, config.barsTable), expected), [], `the ${expected.length} bars of the ticks left, exact`);
    // kafkajs says it in its own words (and commits the offset it reset to, so the aggregator never sees the jump).
    const said =
      readPath === 'fetch' ? /the ticks below the log start were deleted before they were aggregated/ : /Offset out of range, resetting to default offset/;
    t.match(aggregator.output(), said, 'the log says the checkpoint was out of range');
    t.equal((await readTopic(kafka, config.topicDlq)).length, 0, 'nothing dead-lettered');
    t.equal(await aggregator.stop(), 0, 'stops cleanly');
  });
