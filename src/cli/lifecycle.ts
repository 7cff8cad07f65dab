// Runs long-lived components until SIGINT/SIGTERM, then stops them in reverse order, once.
import type { Logger } from '../log.js';

export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export function onShutdown(log: Logger, parts: Stoppable[], after?: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      void (async () => {
        let failed = false;
        for (const p of [...parts].reverse()) {
          try {
            await p.stop();
          } catch (err) {
            failed = true;
            log.error({ err, component: p.name }, 'stop failed');
          }
        }
        if (after) await after();
        if (failed) process.exitCode = 1;
        resolve();
      })();
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
}

/** A component failed for good: log which and why, exit non-zero after the normal shutdown. */
let failed = false;

export function fatal(log: Logger, component: string): (err: Error) => void {
  return (err) => {
    if (failed) return log.error({ err, component }, `${component} failed too`);
    failed = true;
    log.fatal({ err, component }, `${component} failed; shutting down`);
    process.stderr.write(`tick-engine: ${component} failed: ${err?.message ?? String(err)}\n`);
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  };
}
