// pino loggers: one root logger, a child per component.
import { pino, type Logger } from 'pino';

let root: Logger | undefined;

/** `fd`: where the log lines go, standard output (1, the default) or, for a command whose output is data, standard error (2). */
export function rootLogger(level = process.env.TE_LOG_LEVEL ?? 'info', opts: { fd?: 1 | 2 } = {}): Logger {
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  root ??= opts.fd === 2 ? pino(options, pino.destination({ fd: 2, sync: true })) : pino(options);
  return root;
}

export function logger(component: string): Logger {
  return rootLogger().child({ component });
}

export type { Logger };
