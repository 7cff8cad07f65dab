// Creates the engine's topics if missing (idempotent), with the configured partition count.
import type { Kafka } from 'kafkajs';
import type { Config } from '../config.js';

export async function ensureTopics(kafka: Kafka, config: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [config.topicTicks, config.topicBars, config.topicBarsLive, config.topicSignals, config.topicDlq].filter((t) => !existing.has(t));
    if (wanted.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: wanted.map((topic) => ({
        topic,
        numPartitions: topic === config.topicDlq ? 1 : config.ticksPartitions,
        replicationFactor: 1,
        // In-progress updates are superseded within seconds: keep an hour, not the broker's week.
        configEntries: topic === config.topicBarsLive ? [{ name: 'retention.ms', value: '3600000' }] : [],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
