// The image's HEALTHCHECK (dist/src/cli/healthcheck.js): the /health URL it finds for each command line and
// environment, and its exit code against a real metrics server (in process) that is healthy, unhealthy or gone.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { engineCommand, healthUrl } from '../../src/cli/health-url.js';
import { startMetricsServer } from '../../src/metrics-server.js';
import { projectRoot } from '../../src/paths.js';

const run = promisify(execFile);
const script = join(projectRoot(), 'dist/src/cli/healthcheck.js');
const cli = ['node', '--enable-source-maps', 'dist/src/cli/main.js'];
/** The image's environment (Dockerfile ENV): every process listens on all addresses. */
const image = { TE_GATEWAY_HOST: '0.0.0.0', TE_PUSH_HOST: '0.0.0.0' };

t.test('the command of a command line: after main.js, behind node and any init', async (t) => {
  t.same(engineCommand([...cli, 'aggregate', '--metrics-port', '1']), { command: 'aggregate', args: ['--metrics-port', '1'] });
  t.same(engineCommand(['/sbin/docker-init', '--', ...cli, 'gateway']), { command: 'gateway', args: [] });
  t.equal(engineCommand(['node', 'other.js', 'gateway']), undefined);
  t.equal(engineCommand(cli), undefined);
});

t.test("each process's /health: its command's port key, flags over env, wildcard addresses by loopback", async (t) => {
  const url = (args: string[], env: Record<string, string> = {}) => healthUrl([...cli, ...args], { ...image, ...env });
  // The defaults of src/config.ts, written out: gateway 8088, aggregate 9464, ingest --feed 9465, push-gateway 8089.
  t.equal(url(['gateway']), 'http://127.0.0.1:8088/health');
  t.equal(url(['aggregate']), 'http://127.0.0.1:9464/health');
  t.equal(url(['push-gateway']), 'http://127.0.0.1:8089/health');
  t.equal(url(['ingest'], { TE_FEED: 'binance', TE_FEED_SYMBOLS: 'BTC-USDT' }), 'http://127.0.0.1:9465/health');
  t.equal(url(['ingest']), undefined, 'the simulator serves nothing');
  t.equal(url(['ingest', '--file', 'ticks.csv'], { TE_FEED: 'binance', TE_FEED_SYMBOLS: 'BTC-USDT' }), undefined, 'nor does a file ingest');
  t.equal(url(['aggregate'], { TE_METRICS_PORT: '0' }), undefined, 'metrics off');
  t.equal(url(['gateway'], { TE_GATEWAY_PORT: '0' }), undefined, 'any free port: unknown');
  t.equal(url(['replay']), undefined);
  t.equal(url(['aggregate'], { TE_METRICS_PORT: '9500' }), 'http://127.0.0.1:9500/health');
  t.equal(url(['aggregate', '--metrics-port', '9501'], { TE_METRICS_PORT: '9500' }), 'http://127.0.0.1:9501/health', 'a flag wins, as in the CLI');
  t.equal(url(['aggregate', '--metrics-port=9502']), 'http://127.0.0.1:9502/health');
  t.equal(url(['gateway'], { TE_GATEWAY_HOST: '10.1.2.3' }), 'http://10.1.2.3:8088/health');
  t.equal(url(['gateway'], { TE_GATEWAY_HOST: '::' }), 'http://[::1]:8088/health');
  t.throws(() => url(['aggregate'], { TE_METRICS_PORT: 'x' }), { code: 'TE_CONFIG' });
});

t.test('the script: exit 0 on 200, 1 on 503 or nothing listening, 0 for a process with no endpoint', async (t) => {
  let healthy = true;
  const server = await startMetricsServer('127.0.0.1', 0, { health: () => (healthy ? { healthy } : { healthy, message: 'stale' }) });
  const env = { ...process.env, TE_GATEWAY_HOST: '127.0.0.1', TE_METRICS_PORT: String(server.port) };
  const check = async (args: string[]) =>
    run('node', [script, ...cli, ...args], { env }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
    );
  t.same(await check(['aggregate']), { code: 0, stdout: `http://127.0.0.1:${server.port}/health: 200 {"status":"ok"}\n` });
  healthy = false;
  t.same(await check(['aggregate']), { code: 1, stdout: `http://127.0.0.1:${server.port}/health: 503 {"status":"unhealthy","message":"stale"}\n` });
  await server.stop();
  t.match(await check(['aggregate']), { code: 1, stdout: /fetch failed/ });
  t.same(await check(['ingest']), { code: 0, stdout: 'healthy: node --enable-source-maps dist/src/cli/main.js ingest serves no /health\n' });
  t.match(await check(['aggregate', '--metrics-port', 'x']), { code: 1, stdout: /^unhealthy: invalid configuration --metrics-port/ });
});
