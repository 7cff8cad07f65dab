// The bench's CPU accounting (bench/cpu-share.ts) against CPU this test burns itself, measured independently with
// process.cpuUsage(), and against a child process whose command line names a Kafka perf tool.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { coresLine, coresUsed, cpuSeconds, exitedChildrenCpuSeconds, sampleCpu, totalCores } from '../../bench/cpu-share.js';

/** Spin until this process has used `ms` more milliseconds of CPU; the CPU seconds process.cpuUsage() counted. */
function burn(ms: number): number {
  const c0 = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 100_000; i++) x += Math.sqrt(i);
    const c = process.cpuUsage(c0);
    if ((c.user + c.system) / 1000 >= ms) return x > 0 ? (c.user + c.system) / 1e6 : 0;
  }
}

t.test("this process's CPU, by its name, in seconds and in cores", async (t) => {
  const named = new Map([[process.pid, 'me']]);
  const before = sampleCpu(named);
  const used = burn(400);
  const after = sampleCpu(named);
  const seconds = cpuSeconds(before, after);
  // /proc counts in 10 ms ticks: within 0.05 s of what the process itself measured.
  t.ok(Math.abs(seconds.me! - used) <= 0.05, `${seconds.me} s from /proc, ${used.toFixed(3)} s from process.cpuUsage()`);
  const cores = coresUsed(before, after);
  const wall = (after.at - before.at) / 1000;
  t.ok(Math.abs(cores.me! - seconds.me! / wall) <= 0.011, `${cores.me} cores = ${seconds.me} s over ${wall.toFixed(3)} s`);
  t.ok(cores.me! <= 1.05, 'one thread uses at most one core');
});

t.test('groups sort by share; the total and the line agree with them', async (t) => {
  const cores = { b: 0.25, a: 0.5, c: 0.01 };
  t.equal(totalCores(cores), 0.76);
  t.equal(coresLine({ a: 0.5, b: 0.25 }), 'a 0.5, b 0.25');
  const named = new Map([[process.pid, 'me']]);
  const before = sampleCpu(named);
  burn(50);
  const used = coresUsed(before, sampleCpu(named));
  const values = Object.values(used);
  t.ok('me' in used);
  t.same(
    values,
    [...values].sort((x, y) => y - x),
    'largest first',
  );
});

t.test("a Kafka perf tool is its own group, and an exited child's CPU is counted", async (t) => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)', 'org.apache.kafka.tools.ProducerPerformance'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  try {
    const sample = sampleCpu(new Map());
    t.equal(sample.cpu.get(child.pid!)?.group, 'kafka perf tool');
  } finally {
    child.kill();
  }
  const c0 = exitedChildrenCpuSeconds();
  const r = spawnSync(process.execPath, ['-e', 'const t = process.hrtime.bigint(); while (process.cpuUsage().user < 300000) {} void t']);
  t.equal(r.status, 0);
  const spent = exitedChildrenCpuSeconds() - c0;
  // The child spun until 0.3 s of user time, plus its start-up.
  t.ok(spent >= 0.29 && spent < 5, `${spent.toFixed(2)} s of the exited child's CPU`);
});
