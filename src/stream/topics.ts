// Creates the engine's topics if missing (idempotent), with the configured partition count; and, for file backfill
// only, its compacted progress topic.
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.js';

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

export async function ensureTopics(kafka: Kafka, config: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      config.topicTicks,
      config.topicBars,
      config.topicBarsLive,
      config.topicSignals,
      config.topicDlq,
      config.topicState,
      config.topicFeedEvents,
      config.topicQuotes,
    ].filter((t) => !existing.has(t));
    if (wanted.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: wanted.map((topic) => ({
        topic,
        numPartitions: topic === config.topicDlq ? 1 : config.ticksPartitions,
        replicationFactor: 1,
        configEntries: topicConfig(topic, config),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * The file backfill's progress topic (TE_TOPIC_INGEST_PROGRESS), if missing: compacted, since only the latest
 * marker of each file matters, and one partition, so a file's latest marker is simply the last one read.
 */
export async function ensureProgressTopic(kafka: Kafka, config: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(config.topicIngestProgress)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: config.topicIngestProgress, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
  } finally {
    await admin.disconnect();
  }
}
