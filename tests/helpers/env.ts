// Test configuration: the private stack started by scripts/test.sh, with names unique to each test.
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';

/** Fails loudly (never skips) when the test stack is not there. */
export function stackEnv(): NodeJS.ProcessEnv {
  for (const k of ['TE_KAFKA_BROKERS', 'TE_PG_URL', 'TE_TSDB_URL', 'TE_QUESTDB_HTTP', 'TE_QUESTDB_PG_URL']) {
    if (!process.env[k]) throw new Error(`${k} is not set: integration tests need the stack that 'npm test' (scripts/test.sh) starts`);
  }
  return process.env;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** A config on the test stack with its own topics, table and consumer group. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const id = uniqueName('t');
  return loadConfig({
    env: {
      ...stackEnv(),
      TE_TOPIC_TICKS: `${id}.ticks`,
      TE_TOPIC_BARS: `${id}.bars`,
      TE_TOPIC_DLQ: `${id}.dlq`,
      TE_BARS_TABLE: `bars_${id}`,
      TE_AGG_GROUP: `${id}-agg`,
      TE_GATEWAY_PORT: '0',
      ...overrides,
    },
  });
}
