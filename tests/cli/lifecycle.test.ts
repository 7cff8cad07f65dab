// The shutdown sequence as an operator meets it: SIGTERM stops the parts in reverse order and exits 0; a part
// that never stops (a stop waiting on a hung dependency) does not keep the process alive past the watchdog.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/paths.js';

interface Run {
  code: number | null;
  output: string;
  ms: number;
}

/** A child process that registers `parts` (name → whether its stop hangs) and reports when it is ready for SIGTERM. */
function runChild(parts: [string, boolean][], timeoutMs: number): Promise<Run> {
  const lifecycle = join(projectRoot(), 'dist/src/cli/lifecycle.js');
  const log = join(projectRoot(), 'dist/src/log.js');
  const script = `
    const { onShutdown } = await import(${JSON.stringify(lifecycle)});
    const { logger } = await import(${JSON.stringify(log)});
    const parts = ${JSON.stringify(parts)}.map(([name, hangs]) => ({
      name,
      stop: () => (hangs ? new Promise(() => setInterval(() => {}, 1000)) : new Promise((r) => setTimeout(() => { process.stdout.write('stopped ' + name + '\\n'); r(); }, 20))),
    }));
    const keepAlive = setInterval(() => {}, 1000);
    const done = onShutdown(logger('lifecycle-test'), parts, undefined, ${timeoutMs});
    process.stdout.write('ready\\n');
    await done;
    clearInterval(keepAlive);
  `;
  const started = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TE_LOG_LEVEL: 'info' },
  });
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
    if (output.includes('ready\n') && !child.killed) child.kill('SIGTERM');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, output, ms: Date.now() - started });
    }),
  );
}

t.test('SIGTERM stops every part in reverse order and exits 0', async (t) => {
  const run = await runChild(
    [
      ['first', false],
      ['second', false],
      ['third', false],
    ],
    10_000,
  );
  t.equal(run.code, 0, 'exit code 0', { output: run.output });
  const order = [...run.output.matchAll(/stopped (\w+)/g)].map((m) => m[1]);
  t.same(order, ['third', 'second', 'first']);
});

t.test('a part that never stops: the watchdog names it and exits 1 after the timeout', async (t) => {
  const run = await runChild(
    [
      ['store', false],
      ['aggregator', true],
    ],
    500,
  );
  t.equal(run.code, 1, 'exit code 1', { output: run.output });
  t.match(run.output, /aggregator did not stop within 500 ms/);
  t.notMatch(run.output, /stopped store/, 'the parts after the hung one are not reached');
  t.ok(run.ms < 15_000, `exited after ${run.ms} ms`);
});
