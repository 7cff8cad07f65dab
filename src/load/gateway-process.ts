// A gateway process the load run owns: `tick-engine gateway` (or any command that serves the same protocol, such as
// the ws reference gateway of bench/), started on a port of its own, waited for until /ready, stopped and
// restarted on cue.
import { spawn, type ChildProcess } from 'node:child_process';
import { ListenError } from '../errors.js';

export interface GatewayCommand {
  /** Arguments after the node executable. */
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  /** Path answering 200 once the gateway serves (default /ready). */
  readyPath?: string;
}

export class GatewayProcess {
  private child: ChildProcess | undefined;
  private output: string[] = [];

  constructor(private readonly cmd: GatewayCommand) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get httpBase(): string {
    return `http://127.0.0.1:${this.cmd.port}`;
  }

  /** The last lines the process wrote (for a failure's message). */
  tail(): string {
    return this.output.join('').split('\n').slice(-20).join('\n');
  }

  async start(timeoutMs = 60_000): Promise<number | undefined> {
    this.output = [];
    const child = spawn(process.execPath, this.cmd.args, { env: this.cmd.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output.push(d.toString());
      if (this.output.length > 200) this.output.splice(0, 100);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    const url = `${this.httpBase}${this.cmd.readyPath ?? '/ready'}`;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new ListenError(`the gateway exited (${child.exitCode}) before it was ready:\n${this.tail()}`);
      try {
        if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return child.pid;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new ListenError(`the gateway was not ready at ${url} within ${timeoutMs} ms:\n${this.tail()}`);
  }

  /** SIGTERM, and wait for the exit (SIGKILL after 10 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async restart(downS: number): Promise<number | undefined> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downS * 1000));
    return this.start();
  }
}
