// The container's HEALTHCHECK (Dockerfile): asks the /health of the engine process the container runs, on the port its
// configuration gives it; exit 0 healthy, 1 not. `node dist/src/cli/healthcheck.js [command line]`: without arguments
// the command line is PID 1's (the image's ENTRYPOINT, or an init before it), and the environment is the container's.
import { readFileSync } from 'node:fs';
import { healthUrl } from './health-url.js';

const TIMEOUT_MS = 3000;

async function check(cmdline: string[]): Promise<number> {
  const url = healthUrl(cmdline, process.env);
  if (!url) {
    // Nothing to ask (the simulated feed, a file ingest, metrics off): the process running is all there is to check.
    process.stdout.write(`healthy: ${cmdline.join(' ')} serves no /health\n`);
    return 0;
  }
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = await res.text();
    process.stdout.write(`${url}: ${res.status} ${body}\n`);
    return res.status === 200 ? 0 : 1;
  } catch (err) {
    process.stdout.write(`${url}: ${(err as Error).message}\n`);
    return 1;
  }
}

const given = process.argv.slice(2);
const cmdline = given.length > 0 ? given : readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
check(cmdline).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    // An invalid configuration: the process itself could not have started with it.
    process.stdout.write(`unhealthy: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
