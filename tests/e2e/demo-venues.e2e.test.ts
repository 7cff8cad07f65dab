// The demo with venue stand-ins (TE_DEMO_VENUES): local Binance and OKX stand-ins fed by the simulator, read by real
// `ingest --feed` child processes, give final bars of both venues' symbols through the gateway's WebSocket; SIGTERM
// stops the demo and its children (exit 0, no child left); a child that dies stops the demo with exit code 1, named.
// The demo's tick archive answers REST trades of a venue symbol.
// The demo here reuses the running test stack and leaves it running (--keep-stack).
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { freePort, testEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/stores.js';

const VENUE_SYMBOLS = { binance: ['BTC-USDT', 'ETH-USDT'], okx: ['DOGE-USDT', 'LINK-USDT'] };

async function startDemo(t: Test): Promise<{ demo: CliProcess; port: number; children: Map<string, number> }> {
  const port = await freePort();
  const env = testEnv({ TE_GATEWAY_PORT: String(port), TE_DEMO_VENUES: 'binance,okx', TE_STANDIN_RATE: '30', TE_LOG_LEVEL: 'info' });
  const demo = runCli(['demo', '--keep-stack'], env);
  t.teardown(() => demo.stop());
  await waitFor(
    async () => demo.output(),
    (out) => out.includes('tick-engine demo is running') || demo.child.exitCode !== null,
    120_000,
    250,
  );
  t.match(demo.output(), /tick-engine demo is running/, 'the demo started');
  t.match(demo.output(), /Venue stand-ins \(binance, okx\) trade BTC-USDT, ETH-USDT, DOGE-USDT, LINK-USDT/, 'it names the venues and their symbols');
  const children = new Map<string, number>();
  // The log lines may reach the output after the banner.
  await waitFor(
    async () => [...demo.output().matchAll(/"child":"ingest --feed (\w+)","pid":(\d+),"msg":"demo child started"/g)],
    (found) => found.length >= 2 || demo.child.exitCode !== null,
    10_000,
    100,
  ).then((found) => found.forEach((m) => children.set(m[1]!, Number(m[2]))));
  t.same([...children.keys()].sort(), ['binance', 'okx'], 'one ingest --feed process per venue');
  return { demo, port, children };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('demo with Binance and OKX stand-ins: both venues’ bars through the gateway; SIGTERM stops every child', async (t) => {
  const { demo, port, children } = await startDemo(t);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  t.teardown(() => ws.close());
  const seen = new Set<string>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { type: string; bar?: { symbol: string; final: boolean; count: number } };
    if (m.type === 'bar' && m.bar!.final) seen.add(m.bar!.symbol);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ op: 'subscribe', channel: 'bars', interval: '1s', symbols: '*' }));
  const venuesSeen = () =>
    Object.entries(VENUE_SYMBOLS)
      .filter(([, symbols]) => symbols.some((s) => seen.has(s)))
      .map(([v]) => v);
  await waitFor(
    async () => venuesSeen(),
    (v) => v.length === 2 || demo.child.exitCode !== null,
    60_000,
    250,
  );
  t.same(venuesSeen(), ['binance', 'okx'], `final 1s bars of both venues' symbols: ${[...seen].sort().join(', ')}`);
  t.same(
    [...seen].filter((s) => !Object.values(VENUE_SYMBOLS).flat().includes(s)),
    [],
    'no other symbols (the plain simulated feed is off)',
  );
  // The demo archives ticks too: the REST trades of a venue symbol come from the archive table.
  type Trade = { venue: string; symbol: string; price: number; size: number };
  const trades = await waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/trades/BTC-USDT?limit=5`);
      return res.ok ? ((await res.json()) as { trades: Trade[] }).trades : [];
    },
    (found) => found.length > 0 || demo.child.exitCode !== null,
    30_000,
    500,
  );
  t.ok(trades.length > 0, `REST trades of BTC-USDT from the tick archive: ${trades.length}`);
  t.same(
    trades.filter((x) => x.symbol !== 'BTC-USDT' || !/binance/i.test(x.venue) || !(x.price > 0 && x.size > 0)),
    [],
    "each one Binance's, with a price and a size",
  );
  t.equal(await demo.stop(), 0, 'exit code 0 after SIGTERM');
  t.same(
    [...children].filter(([, pid]) => alive(pid)).map(([v]) => v),
    [],
    'no ingest process left running',
  );
});

t.test('an ingest --feed child that dies stops the demo with exit code 1, naming it', async (t) => {
  const { demo, children } = await startDemo(t);
  process.kill(children.get('okx')!, 'SIGKILL');
  const code = await Promise.race([demo.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000).unref())]);
  t.equal(code, 1, 'exit code 1');
  t.match(demo.output(), /tick-engine: ingest --feed okx failed: ingest --feed okx exited \(SIGKILL\)/, 'says which child died, and how');
  t.notOk(alive(children.get('binance')!), 'the other child was stopped');
});
