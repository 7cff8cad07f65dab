// `tick-engine venue-standin` as a user runs it (the built CLI, a child process, 127.0.0.1 only, no stack): its flags
// are validated (exit 2 for an unknown flag; a TE_ code naming the problem for a bad value), --help lists its options,
// and a running one serves the venue's REST history from the trades it sent — ids consecutive per symbol — and stops
// with exit code 0 on SIGTERM. TE_DEMO_VENUES is validated like any list.
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/env.js';
import { waitFor } from '../helpers/stores.js';

const env = cliEnv({ TE_LOG_LEVEL: 'info' });

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = runCli(['venue-standin', ...args], env);
  const code = await p.exited;
  return { code, out: p.output() };
}

t.test('flags are validated before anything listens', async (t) => {
  const cases: [string[], number, RegExp][] = [
    [[], 1, /TE_CONFIG: invalid configuration --venue: is required/],
    [['--venue', 'ftx'], 1, /TE_INVALID_ARG: unknown venue 'ftx': one of binance, coinbase, kraken, bybit, okx/],
    [['--venue', 'okx', '--rate', '0'], 1, /TE_CONFIG: invalid configuration --standin-rate: must be >= 0.01/],
    [['--venue', 'okx', '--rate', 'fast'], 1, /TE_CONFIG: invalid configuration --standin-rate: must be a number/],
    [['--venue', 'okx', '--port', '70000'], 1, /TE_CONFIG: invalid configuration --standin-port: must be <= 65535/],
    [['--venue', 'kraken', '--symbols', 'BTCUSD'], 1, /TE_INVALID_ARG: symbol "BTCUSD" is not BASE-QUOTE/],
    [['--venue', 'okx', '--speed', '3'], 2, /Unknown option '--speed'/],
  ];
  for (const [args, code, message] of cases) {
    const got = await run(args);
    t.equal(got.code, code, `${args.join(' ') || '(no flags)'}: exit ${code}`);
    t.match(got.out, message, got.out.trim().split('\n')[0]!);
  }
});

t.test('--help lists its options', async (t) => {
  const { code, out } = await run(['--help']);
  t.equal(code, 0);
  for (const s of ['--venue VALUE', '--port VALUE', '--symbols VALUE', '--rate VALUE', 'env TE_STANDIN_RATE', 'env TE_STANDIN_PORT', 'env TE_SIM_SEED'])
    t.ok(out.includes(s), s);
});

t.test('a running stand-in: REST history of what it sent, consecutive ids; SIGTERM → exit 0', async (t) => {
  const port = await freePort();
  const p = runCli(['venue-standin', '--venue', 'binance', '--port', String(port), '--rate', '200', '--symbols', 'BTC-USDT,SOL-USDT'], env);
  t.teardown(() => p.stop());
  await waitFor(
    async () => p.output(),
    (out) => out.includes('venue stand-in listening') || p.child.exitCode !== null,
    20_000,
    100,
  );
  t.match(p.output(), new RegExp(`TE_FEED_URL=ws://127\\.0\\.0\\.1:${port}/ TE_FEED_REST_URL=http://127\\.0\\.0\\.1:${port}`), 'prints the URLs to use');
  await new Promise((r) => setTimeout(r, 1500));
  for (const symbol of ['BTCUSDT', 'SOLUSDT']) {
    const trades = (await (await fetch(`http://127.0.0.1:${port}/api/v3/historicalTrades?symbol=${symbol}&limit=1000`)).json()) as {
      id: number;
      price: string;
      time: number;
    }[];
    t.ok(trades.length > 5, `${symbol}: ${trades.length} trades in the history`);
    t.ok(
      trades.every((x, i) => x.id === trades[0]!.id + i),
      `${symbol}: ids consecutive from ${trades[0]?.id}`,
    );
    t.ok(
      trades.every((x) => x.time <= Date.now() + 1000 && x.time > Date.now() - 60_000),
      `${symbol}: times are now`,
    );
  }
  t.equal(await p.stop(), 0, 'exit 0 on SIGTERM');
  t.match(p.output(), /"msg":"venue stand-in stopped"/);
});

t.test('TE_DEMO_VENUES: known venues only; empty is the plain simulator', async (t) => {
  t.same(loadConfig({ env: {} }).demoVenues, ['binance', 'coinbase', 'kraken', 'bybit', 'okx'], 'all five by default');
  t.same(loadConfig({ env: { TE_DEMO_VENUES: '' } }).demoVenues, []);
  t.throws(() => loadConfig({ env: { TE_DEMO_VENUES: 'binance,ftx' } }), ConfigError);
  t.throws(() => loadConfig({ env: { TE_FEED_RESUME_SCAN: '-1' } }), ConfigError);
});
