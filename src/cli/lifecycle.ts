// Runs long-lived components until SIGINT/SIGTERM, then stops them in reverse order, once.
import type { Logger } from '../log.js';

export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/**
 * How long a shutdown may take before the process exits anyway (code 1). A stop waits for the writes in flight;
 * with a dependency hung it could wait for ever, and an operator's SIGTERM must end the process. Nothing is lost
 * by exiting: what was not committed is re-read from the checkpoint on restart.
 */
export const SHUTDOWN_TIMEOUT_MS = 20_000;

export function onShutdown(log: Logger, parts: Stoppable[], after?: () => Promise<void>, timeoutMs = SHUTDOWN_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    let current = '';
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal, timeoutMs }, 'shutting down');
      const watchdog = setTimeout(() => {
        log.error({ part: current, timeoutMs }, `${current} did not stop within ${timeoutMs} ms; exiting (uncommitted input is re-read on restart)`);
        process.exit(1);
      }, timeoutMs).unref();
      void (async () => {
        let failed = false;
        for (const p of [...parts].reverse()) {
          current = p.name;
          try {
            await p.stop();
          } catch (err) {
            failed = true;
            log.error({ err, component: p.name }, 'stop failed');
          }
        }
        // The hook (stopping the local stack) runs its own processes, with their own time limits.
        clearTimeout(watchdog);
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
