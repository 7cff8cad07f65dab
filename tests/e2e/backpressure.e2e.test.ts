// A client that stops reading is disconnected once its buffer passes the hard limit — never silently
// skipped — while a client that keeps reading still gets every bar with consecutive sequence numbers.
import t from 'tap';
import WebSocket from 'ws';
import { runCli, startEngine } from '../helpers/cli.js';
import { freePort, testEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/stores.js';

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

t.test('slow client closed past the hard limit, fast client gapless', async (t) => {
  const port = await freePort();
  const env = testEnv({
    TE_SIM_START: '2024-02-01T00:00:00Z',
    TE_SIM_SPEED: '20',
    TE_SIM_DURATION_S: '1200', // up to a minute of heavy flow: loopback socket buffers hold megabytes first
    TE_SIM_RATE: '600',
    TE_INTERVALS: '1s,1m',
    TE_SINKS: 'postgres',
    TE_WS_MAX_BUFFER_BYTES: '65536',
    TE_GATEWAY_PORT: String(port),
  });
  await startEngine(t, env, port);

  const open = (subscribe: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.once('open', () => {
        ws.send(subscribe);
        resolve(ws);
      });
      ws.once('error', reject);
    });
  const fast = await open('{"op":"subscribe","channel":"bars","interval":"1s","symbols":"*"}');
  const expect = new Map<string, number>();
  let gaps = 0;
  let received = 0;
  fast.on('message', (data) => {
    const m = JSON.parse(String(data)) as { type: string; seq?: number; bar?: { symbol: string } };
    if (m.type !== 'bar') return;
    const k = m.bar!.symbol;
    if (expect.has(k) && expect.get(k) !== m.seq) gaps++;
    expect.set(k, m.seq! + 1);
    received++;
  });
  const slow = await open('{"op":"subscribe","channel":"bars","interval":"1s","symbols":"*"}');
  // Stop reading: the kernel buffers fill, then the gateway's buffer for this client grows.
  (slow as unknown as { _socket: { pause(): void } })._socket.pause();
  t.equal(await metric(port, 'tick_engine_ws_connections'), 2, 'two clients connected');

  const ingest = runCli(['ingest'], env);
  const closed = await waitFor(
    () => metric(port, 'tick_engine_ws_closed_total'),
    (n) => n >= 1,
    60_000,
    500,
  );
  t.equal(closed, 1, 'the gateway closed the client that stopped reading');
  t.equal(await metric(port, 'tick_engine_ws_connections'), 1, 'the reading client is still connected');
  await new Promise((r) => setTimeout(r, 2000)); // the reading client keeps receiving afterwards
  t.equal(await ingest.stop(), 0, 'feed stops cleanly');
  await new Promise((r) => setTimeout(r, 2000));
  t.ok(received > 3000, `the reading client received ${received} bars`);
  t.equal(gaps, 0, 'with consecutive sequence numbers on every stream');
  fast.close();
  slow.terminate();
});
