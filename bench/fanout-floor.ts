// The floor under fan-out: what a bare server costs per message delivered with nothing of the gateway around it —
// no Kafka, no series book, no outbox — so that the gateway's figures in bench/fanout.ts can be read against it.
// Modes, one after the other: `uws-send` (a uWebSockets.js server calling ws.send for each subscriber, corked),
// `uws-publish` (one app.publish per message), `ws-send` (the `ws` library, each socket corked for its messages).
// Clients: plain `ws` clients in a child process (this file run with --clients). Every 100 ms the server sends
// RATE/10 messages, each to the clients of one of TOPICS topics (each client on one topic, or with
// BENCH_FLOOR_ALL=1 on every topic, so a write carries several messages). Prints CPU (user and system) per
// message received and saves bench/results/fanout-floor-<date>.json.
// Knobs: BENCH_FLOOR_CLIENTS (5000), BENCH_FLOOR_TOPICS (50), BENCH_FLOOR_RATE (150 messages/s before fan-out),
//        BENCH_FLOOR_S (15 measured seconds per mode), BENCH_FLOOR_ALL (0), BENCH_FLOOR_MODES (uws-send,uws-publish,ws-send).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { loadUws } from '../src/gateway/uws.js';
import { projectRoot } from '../src/paths.js';

const num = (k: string, d: number) => Number(process.env[k] ?? d);
const CLIENTS = num('BENCH_FLOOR_CLIENTS', 5000);
const TOPICS = num('BENCH_FLOOR_TOPICS', 50);
const RATE = num('BENCH_FLOOR_RATE', 150);
const SECONDS = num('BENCH_FLOOR_S', 15);
const ALL = process.env.BENCH_FLOOR_ALL === '1';
const MODES = (process.env.BENCH_FLOOR_MODES ?? 'uws-send,uws-publish,ws-send').split(',');

if (process.argv[2] === '--clients') await clients(Number(process.argv[3]), Number(process.argv[4]));
else await main();

/** The child: connect, count what arrives, report on request. */
async function clients(n: number, port: number): Promise<void> {
  let received = 0;
  const open: WebSocket[] = [];
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    ws.on('message', () => received++);
    ws.on('error', () => {});
    open.push(ws);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
  }
  process.on('message', (m: string) => {
    if (m === 'reset') received = 0;
    if (m === 'report') process.send!({ received });
    if (m === 'stop') {
      for (const ws of open) ws.terminate();
      process.exit(0);
    }
  });
  process.send!({ ready: true });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function ask(child: ChildProcess, m: string): Promise<{ received: number }> {
  return new Promise((resolve) => {
    child.once('message', (r) => resolve(r as { received: number }));
    child.send(m);
  });
}

interface Sock {
  topics: number[];
  send(msgs: string[]): void;
}

async function main(): Promise<void> {
  const results = [];
  for (const mode of MODES) {
    const port = await freePort();
    const socks: Sock[] = [];
    const topicsOf = (i: number) => (ALL ? Array.from({ length: TOPICS }, (_, t) => t) : [i % TOPICS]);
    let publish: ((topic: number, msg: string) => void) | undefined;
    let close: () => void;
    if (mode === 'ws-send') {
      const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });
      wss.on('connection', (ws) => {
        const sock = (ws as unknown as { _socket: import('node:net').Socket })._socket;
        socks.push({
          topics: topicsOf(socks.length),
          send: (msgs) => {
            sock.cork();
            for (const m of msgs) ws.send(m);
            sock.uncork();
          },
        });
      });
      close = () => wss.close();
    } else {
      const uws = loadUws();
      let listen: unknown;
      const app = uws
        .App()
        .ws('/ws', {
          compression: 0,
          maxBackpressure: 0,
          open: (ws) => {
            const topics = topicsOf(socks.length);
            if (mode === 'uws-publish') for (const t of topics) ws.subscribe(`t${t}`);
            socks.push({ topics, send: (msgs) => ws.cork(() => msgs.forEach((m) => ws.send(m, false, false))) });
          },
        })
        .listen('127.0.0.1', port, (s) => {
          listen = s;
        });
      if (mode === 'uws-publish') publish = (t, m) => app.publish(`t${t}`, m, false, false);
      close = () => uws.us_listen_socket_close(listen as never);
    }
    const child = fork(fileURLToPath(import.meta.url), ['--clients', String(CLIENTS), String(port)], { stdio: 'inherit' });
    await new Promise((r) => child.once('message', r));
    while (socks.length < CLIENTS) await new Promise((r) => setTimeout(r, 100));
    const byTopic = Array.from({ length: TOPICS }, () => [] as Sock[]);
    for (const s of socks) for (const t of s.topics) byTopic[t]!.push(s);
    let seq = 0;
    const timer = setInterval(() => {
      const round = new Map<Sock, string[]>();
      for (let i = 0; i < RATE / 10; i++) {
        const t = seq % TOPICS;
        const m = JSON.stringify({
          type: 'update',
          seq: seq++,
          ts: Date.now(),
          bar: { symbol: `S${t}`, open: 1.2345, high: 1.3, low: 1.1, close: 1.25, volume: 123.45 },
        });
        if (publish) publish(t, m);
        else
          for (const s of byTopic[t]!) {
            let q = round.get(s);
            if (!q) round.set(s, (q = []));
            q.push(m);
          }
      }
      for (const [s, q] of round) s.send(q);
    }, 100);
    await new Promise((r) => setTimeout(r, 3000)); // warm-up
    child.send('reset');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const { received } = await ask(child, 'report');
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - t0) / 1000;
    clearInterval(timer);
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
    close();
    const r = {
      mode,
      clients: CLIENTS,
      messagesPerS: Math.round(received / wall),
      cpuPercent: +(((cpu.user + cpu.system) / 1e4 / wall) as number).toFixed(1),
      systemShare: +(cpu.system / (cpu.user + cpu.system)).toFixed(2),
      usPerMessage: +((cpu.user + cpu.system) / Math.max(1, received)).toFixed(2),
    };
    results.push(r);
    process.stdout.write(
      `${mode.padEnd(12)} ${r.messagesPerS.toLocaleString('en-US')} msg/s received, server CPU ${r.cpuPercent} % of a core ` +
        `(${Math.round(r.systemShare * 100)} % system), ${r.usPerMessage} µs per message\n`,
    );
  }
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fanout-floor-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { date: new Date().toISOString(), loadAverage: loadavg(), clients: CLIENTS, topics: TOPICS, rate: RATE, all: ALL, seconds: SECONDS, results },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(`saved ${file}\n`);
  process.exit(0);
}
