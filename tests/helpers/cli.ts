// Runs `tick-engine <command>` as a real child process, as a user would, with its output kept for diagnostics.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/paths.js';

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /**
   * SIGTERM (graceful), then wait for exit; a process still running after STOP_KILL_MS is killed (SIGKILL: the exit
   * code is then null, which a test that expects 0 reports) and a line says so, rather than the test hanging.
   */
  stop(): Promise<number | null>;
}

/** Longer than the engine's own shutdown limit (SHUTDOWN_TIMEOUT_MS, 20 s) and exit grace. */
const STOP_KILL_MS = 60_000;

export function cliEnv(config: Record<string, unknown>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])) };
}

/**
 * Node options for every child, from TE_CHILD_NODE_ARGS (space-separated; e.g. `--cpu-prof --cpu-prof-dir=DIR` to
 * profile each process of a benchmark: node refuses --cpu-prof in NODE_OPTIONS).
 */
function childNodeArgs(): string[] {
  return (process.env.TE_CHILD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [...childNodeArgs(), '--enable-source-maps', join(projectRoot(), 'dist/src/cli/main.js'), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout!.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => chunks.join(''),
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        process.stderr.write(`tick-engine ${args[0]} did not exit within ${STOP_KILL_MS} ms of SIGTERM: killed\n${chunks.join('').slice(-3000)}\n`);
        child.kill('SIGKILL');
      }, STOP_KILL_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Wait until `url` answers 200, or fail with the process output. */
export async function waitHttpOk(url: string, proc: CliProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}) before ${url} was ready:\n${proc.output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${proc.output()}`);
}

/** Start `gateway` and `aggregate` processes, stopped when the test ends; resolves once the gateway is ready. */
export async function startEngine(
  t: { teardown(fn: () => Promise<unknown>): void },
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<{ gateway: CliProcess; aggregator: CliProcess }> {
  const gateway = runCli(['gateway'], env);
  const aggregator = runCli(['aggregate'], env);
  t.teardown(async () => {
    await aggregator.stop();
    await gateway.stop();
  });
  await waitHttpOk(`http://127.0.0.1:${port}/ready`, gateway);
  return { gateway, aggregator };
}
