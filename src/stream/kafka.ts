// kafkajs client factory, with kafkajs' own logs routed into pino.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Config } from '../config.js';
import { logger } from '../log.js';

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A repeated kafkajs message is logged at most once per this window (with how many were left out). */
const REPEAT_WINDOW_MS = 60_000;

/**
 * kafkajs logs every failed attempt of its retries: while the broker is down that is a line per connection per
 * retry (over a hundred for a 10 s restart). Each distinct message is logged once per minute instead, the next
 * one saying how many were suppressed; the engine's own health logs say when the broker went and came back.
 */
function onceInAWhile(): (message: string) => number | undefined {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (message) => {
    const now = Date.now();
    const s = seen.get(message);
    if (s && now - s.at < REPEAT_WINDOW_MS) {
      s.suppressed++;
      return undefined;
    }
    if (seen.size > 1000) seen.clear();
    seen.set(message, { at: now, suppressed: 0 });
    return s?.suppressed ?? 0;
  };
}

export function createKafka(config: Config, role: string): Kafka {
  const log = logger('kafkajs');
  const admit = onceInAWhile();
  // kafkajs's default-partitioner notice is not actionable for us: we set the partitioner explicitly.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka({
    clientId: `${config.kafkaClientId}-${role}`,
    brokers: config.kafkaBrokers,
    connectionTimeout: 10_000,
    // Retries back off to at most 2 s: after a broker restart every client is back within seconds (kafkajs'
    // 30 s default left a feed idle long after the broker had returned). Callers that must not give up retry
    // around kafkajs' retries themselves.
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const suppressed = admit(message);
        if (suppressed === undefined) return;
        log[LEVEL[level] ?? 'info'](suppressed ? { ...rest, role, suppressedRepeats: suppressed } : { ...rest, role }, message);
      },
  });
}
