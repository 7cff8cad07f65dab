// The store sinks named in the configuration (TE_SINKS).
import { ConfigError } from '../errors.js';
import { parseDuration } from '../contracts/retention.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { PostgresSink } from './postgres/postgres-sink.js';
import { QuestDbSink } from './questdb/questdb-sink.js';
import type { BarSink } from './sink.js';

/** `timeoutMs` replaces TE_STORE_TIMEOUT_MS (migrate and maintain wait much longer than a write). */
export function createSinks(config: Config, log: Logger, opts: { timeoutMs?: number } = {}): BarSink[] {
  const timeoutMs = opts.timeoutMs ?? config.storeTimeoutMs;
  return config.sinks.map((name) => {
    switch (name) {
      case 'postgres':
        return new PostgresSink({
          name,
          url: config.pgUrl,
          table: config.barsTable,
          log,
          idleCloseMs: config.pgIdleCloseMs,
          timeoutMs,
          partitionsAhead: config.partitionsAhead,
        });
      case 'timescaledb':
        return new PostgresSink({
          name,
          url: config.tsdbUrl,
          table: config.barsTable,
          log,
          idleCloseMs: config.pgIdleCloseMs,
          timeoutMs,
          chunkIntervalUs: parseDuration(config.chunkInterval),
        });
      case 'questdb':
        return new QuestDbSink({ httpUrl: config.questdbHttp, table: config.barsTable, log, timeoutMs });
      default:
        throw new ConfigError('TE_SINKS', `unknown sink ${name}`);
    }
  });
}
