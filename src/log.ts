// pino loggers: one root logger, a child per component.
import { pino, type Logger } from 'pino';

let root: Logger | undefined;

export function rootLogger(level = process.env.TE_LOG_LEVEL ?? 'info'): Logger {
  root ??= pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
  return root;
}

export function logger(component: string): Logger {
  return rootLogger().child({ component });
}

export type { Logger };
