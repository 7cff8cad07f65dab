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

/** Environment for the test stack with topics, table and consumer group of its own. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const id = uniqueName('t');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(stackEnv())) if (k.startsWith('TE_') && v !== undefined) env[k] = v;
  return {
    ...env,
    TE_TOPIC_TICKS: `${id}.ticks`,
    TE_TOPIC_BARS: `${id}.bars`,
    TE_TOPIC_BARS_LIVE: `${id}.bars.live`,
    TE_TOPIC_DLQ: `${id}.dlq`,
    TE_TOPIC_SIGNALS: `${id}.signals`,
    TE_TOPIC_STATE: `${id}.state`,
    TE_TOPIC_FEED_EVENTS: `${id}.feed.events`,
    TE_TOPIC_INGEST_PROGRESS: `${id}.ingest.progress`,
    TE_TOPIC_QUOTES: `${id}.quotes`,
    TE_BARS_TABLE: `bars_${id}`,
    TE_AGG_GROUP: `${id}-agg`,
    TE_TICKS_TABLE: `ticks_${id}`,
    TE_ARCHIVE_GROUP: `${id}-archive`,
    TE_ARCHIVE_METRICS_PORT: '0',
    TE_GATEWAY_PORT: '0',
    TE_METRICS_PORT: '0',
    TE_FEED_METRICS_PORT: '0',
    ...overrides,
  };
}

/** testEnv for live mode, as in the demo: the feed on the wall clock, quiet partitions closed by the idle timer. */
export function liveEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return testEnv({ TE_SIM_START: 'now', TE_SIM_SPEED: '1', TE_IDLE_CLOSE_MS: '1000', ...overrides });
}

/** The validated config for a test environment. */
export function testConfig(env: Record<string, string> = testEnv()): Config {
  return loadConfig({ env });
}

/** A port nothing listens on right now (for child processes that need a fixed one). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
