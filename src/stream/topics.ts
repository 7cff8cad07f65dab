// Creates the engine's topics if missing (idempotent), with the configured partition count; and, for file backfill
// only, its compacted progress topic.
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { retriedLookup } from './retried-lookup.js';

function topicConfig(topic: string, config: Config): { name: string; value: string }[] {
  // In-progress updates are superseded within seconds: keep an hour, not the broker's week.
  if (topic === config.topicBarsLive) return [{ name: 'retention.ms', value: '3600000' }];
  // State snapshots: only the latest per key matters; hourly segments let compaction drop superseded ones.
  if (topic === config.topicState)
    return [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'segment.ms', value: '3600000' },
    ];
  return [];
}

/**
 * Create the engine's topics that are missing, and return once the broker serves metadata for all of them. Every
 * process calls this at start, so several may create the same topics at once on a broker that has just started. Until
 * a new topic's metadata has spread, kafkajs fails requests for it with a retriable error ("This server does not host
 * this topic-partition") that it does not retry itself: in the wait for leaders of its own create, and in a consumer's
 * subscribe or a producer's first send of a process that found the topics already listed. The process would stop at
 * start. So the whole check is retried (retried-lookup.ts): a retry lists the topics again and creates only those
 * still missing, and it ends by fetching every topic's metadata.
 */
export async function ensureTopics(kafka: Kafka, config: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await retriedLookup(() => createMissing(admin, config));
  } finally {
    await admin.disconnect();
  }
}

async function createMissing(admin: ReturnType<Kafka['admin']>, config: Config): Promise<void> {
  const existing = new Set(await admin.listTopics());
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
  const wanted = all.filter((t) => !existing.has(t));
  if (wanted.length > 0) await create(admin, config, wanted);
  await admin.fetchTopicMetadata({ topics: all });
}

async function create(admin: ReturnType<Kafka['admin']>, config: Config, wanted: string[]): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: wanted.map((topic) => ({
      topic,
      numPartitions: topic === config.topicDlq ? 1 : config.ticksPartitions,
      replicationFactor: 1,
      configEntries: topicConfig(topic, config),
    })),
  });
}

/**
 * The file backfill's progress topic (TE_TOPIC_INGEST_PROGRESS), if missing: compacted, since only the latest
 * marker of each file matters, and one partition, so a file's latest marker is simply the last one read.
 */
export async function ensureProgressTopic(kafka: Kafka, config: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await retriedLookup(async () => {
      if ((await admin.listTopics()).includes(config.topicIngestProgress)) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: config.topicIngestProgress, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      });
    });
  } finally {
    await admin.disconnect();
  }
}
