// The demo's venues (TE_DEMO_VENUES): per venue, a local stand-in fed by the simulator (in this process) and a real
// `tick-engine ingest --feed <venue>` process reading it through TE_FEED_URL and TE_FEED_REST_URL — the adapter,
// connection, sequencing and gap-filling code that would read the real venue. The children get the demo's own
// environment and flags; each is stopped with SIGTERM on the demo's shutdown (SIGKILL after a grace), and one that
// exits while the demo runs is reported and stops the demo (exit code 1), as a failed component of its own does.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Config } from '../config.js';
import { InternalError } from '../errors.js';
import { logger, type Logger } from '../log.js';
import { LiveStandin, standinVenue } from '../standins/live-standin.js';
import { fatal, type Stoppable } from './lifecycle.js';

/** How long a child may take to stop after SIGTERM before it is killed. */
const CHILD_STOP_MS = 15_000;

export interface DemoVenues {
  /** In start order: the stand-ins, then the ingest processes (stopped in reverse). */
  parts: Stoppable[];
  /** The engine symbols the venues trade, in venue order. */
  symbols: string[];
}

/** Starts a stand-in and an `ingest --feed` process per venue; `flags`: the demo's configuration flags, by env name. */
export async function startDemoVenues(config: Config, flags: Readonly<Record<string, string>>, log: Logger): Promise<DemoVenues> {
  const parts: Stoppable[] = [];
  const symbols: string[] = [];
  const children: Stoppable[] = [];
  try {
    for (const name of config.demoVenues) {
      const venue = standinVenue(name);
      const live = await LiveStandin.start({ venue, rate: config.standinRate, seed: config.simSeed + symbols.length, log: logger('standin') });
      parts.push({ name: `${venue} stand-in`, stop: () => live.stop() });
      symbols.push(...live.symbols);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...flags,
        TE_FEED: venue,
        TE_FEED_SYMBOLS: live.symbols.join(','),
        TE_FEED_URL: live.url,
        TE_FEED_REST_URL: live.restUrl,
        // Five feeds cannot share one metrics port; the demo's gateway has the engine's metrics.
        TE_FEED_METRICS_PORT: '0',
      };
      // The configuration trace (tests/cli/help.int.test.ts) is the demo's own record.
      delete env.TE_CONFIG_TRACE;
      children.push(spawnIngest(venue, env, log));
    }
  } catch (err) {
    for (const p of [...children, ...parts].reverse()) await p.stop().catch(() => undefined);
    throw err;
  }
  return { parts: [...parts, ...children], symbols };
}

function spawnIngest(venue: string, env: NodeJS.ProcessEnv, log: Logger): Stoppable {
  const name = `ingest --feed ${venue}`;
  const script = process.argv[1];
  if (script === undefined) throw new InternalError('the demo runs without a script path: cannot start its ingest processes');
  // A process group of its own: Ctrl-C in a terminal reaches the demo only, which stops the children in order (a
  // child that got the terminal's SIGINT too would take the demo's SIGTERM as a second signal and exit at once).
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, script, 'ingest', '--feed', venue], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  let stopping = false;
  let ended = (): void => undefined;
  const exited = new Promise<void>((resolve) => (ended = resolve));
  child.once('exit', (code, signal) => {
    ended();
    if (stopping) return log.info({ child: name, code, signal }, 'demo child stopped');
    log.error({ child: name, pid: child.pid, code, signal }, `${name} exited while the demo runs`);
    fatal(log, name)(new InternalError(`${name} exited (${signal ?? `code ${String(code)}`})`));
  });
  child.once('error', (err) => {
    ended();
    fatal(log, name)(err);
  });
  log.info({ child: name, pid: child.pid }, 'demo child started');
  return {
    name,
    stop: async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}
