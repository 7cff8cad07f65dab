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

export function createKafka(config: Config, role: string): Kafka {
  const log = logger('kafkajs');
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
        log[LEVEL[level] ?? 'info']({ ...rest, role }, message);
      },
  });
}
