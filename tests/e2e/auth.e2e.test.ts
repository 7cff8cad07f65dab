// Auth, limits and CORS at the gateway on the real pipeline, with live data flowing. HS256 and RS256 JWTs and API
// keys reach REST and WebSocket data for the symbols they are entitled to and no others; every rejected request
// answers with nothing but {code, message} and every refused upgrade likewise, with no upgrade (no data byte
// first); limits on connections, subscriptions and requests per second hold; CORS answers allowed origins only;
// tick_engine_auth_failures_total counts each rejection once, by reason.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { runCli, startEngine } from '../helpers/cli.js';
import { freePort, liveEnv } from '../helpers/env.js';
import { scrapeMetrics } from '../helpers/metrics.js';
import { waitFor } from '../helpers/stores.js';

const AUDIENCE = 'tick-engine-e2e';
const ISSUER = 'https://issuer.e2e.test';
const ALLOWED_ORIGIN = 'https://app.example.com';
const OTHER_ORIGIN = 'https://evil.example.net';
/** The simulator's first ten symbols (TE_SIM_SYMBOLS=10). */
const SIM_SYMBOLS = ['ADA-USD', 'AVAX-USD', 'BTC-USD', 'DOGE-USD', 'DOT-USD', 'ETH-USD', 'LINK-USD', 'LTC-USD', 'SOL-USD', 'XRP-USD'];
/** How long a client listens while data flows, to see what does (and does not) arrive. */
const LISTEN_MS = 3000;

/** How a client presents a credential: headers and/or query parameters (the browser way). */
interface Cred {
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

interface Msg {
  type: string;
  id?: string;
  code?: string;
  message?: string;
  channel?: string;
  symbol?: string;
  trade?: { symbol: string };
  bar?: { symbol: string };
  signal?: { symbol: string };
  trades?: { symbol: string }[];
  bars?: { symbol: string }[];
  open?: { symbol: string } | null;
}

interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
}

interface Client {
  msgs: Msg[];
  send(m: object): void;
  /** The first message answering request `id` (ack or error). */
  reply(id: string): Promise<Msg>;
  close(): void;
}

interface Refusal {
  status: number;
  type: string | undefined;
  body: string;
  opened: boolean;
  messages: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bearer = (jwt: string): Cred => ({ headers: { authorization: `Bearer ${jwt}` } });

function withQuery(url: string, c: Cred): string {
  return c.query ? `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(c.query).toString()}` : url;
}

async function request(url: string, cred: Cred = {}, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpReply> {
  const res = await fetch(withQuery(url, cred), { method: init.method ?? 'GET', headers: { ...cred.headers, ...init.headers }, body: init.body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function parse<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Every symbol a server message carries, wherever it carries one. */
function symbolsOf(m: Msg): string[] {
  const all = [m.symbol, m.trade?.symbol, m.bar?.symbol, m.signal?.symbol, m.open?.symbol, ...(m.trades ?? []), ...(m.bars ?? [])];
  return all.map((x) => (typeof x === 'object' ? x?.symbol : x)).filter((s): s is string => typeof s === 'string');
}

/** A rejection is exactly {code, message}: no data field before or beside it, and not the credential it refused. */
function bareError(t: Test, text: string, code: string, label: string, secret?: string): void {
  const body = parse<unknown>(text);
  const obj = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  t.strictSame(Object.keys(obj).sort(), ['code', 'message'], `${label}: body is only {code, message}`);
  t.equal(obj.code, code, `${label}: ${code}`);
  t.ok(typeof obj.message === 'string' && obj.message.length > 0, `${label}: has a message`);
  if (secret) t.notOk(text.includes(secret), `${label}: credential not echoed`);
}

function connect(url: string, cred: Cred = {}, opts: WebSocket.ClientOptions = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(withQuery(url, cred), { ...opts, headers: cred.headers });
    const msgs: Msg[] = [];
    ws.on('message', (data) => msgs.push(JSON.parse(String(data)) as Msg));
    ws.once('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      req.destroy();
      reject(new Error(`upgrade refused with ${res.statusCode}`));
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        msgs,
        send: (m) => ws.send(JSON.stringify(m)),
        reply: async (id) => {
          const m = await waitFor(
            async () => msgs.find((x) => x.id === id),
            (x) => x !== undefined,
            5000,
            20,
          );
          if (!m) throw new Error(`no reply to request ${id}`);
          return m;
        },
        close: () => ws.close(),
      }),
    );
  });
}

/** An upgrade expected to be refused: the status and whole body, and whether 'open' or 'message' ever fired. */
function refusedUpgrade(url: string, cred: Cred = {}, opts: WebSocket.ClientOptions = {}): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(withQuery(url, cred), { ...opts, headers: cred.headers });
    let opened = false;
    let messages = 0;
    ws.on('message', () => messages++);
    ws.on('open', () => {
      opened = true;
      // Give a leaked frame time to arrive before reporting the (wrong) success.
      setTimeout(() => {
        ws.terminate();
        resolve({ status: 101, type: undefined, body: '', opened, messages });
      }, 250);
    });
    ws.on('error', (err) => reject(err));
    ws.once('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        // Linger: an 'open' or a message after the refusal would be a leak.
        setTimeout(() => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8'), opened, messages });
        }, 250),
      );
    });
  });
}

function checkRefusal(t: Test, r: Refusal, status: number, code: string, label: string, secret?: string): void {
  t.equal(r.status, status, `${label}: upgrade refused with ${status}`);
  t.equal(r.type, 'application/json', `${label}: JSON body`);
  bareError(t, r.body, code, label, secret);
  t.notOk(r.opened, `${label}: no 'open'`);
  t.equal(r.messages, 0, `${label}: no message`);
}

/** tick_engine_auth_failures_total by reason. */
async function authFailures(base: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [k, v] of await scrapeMetrics(base)) {
    const m = /^tick_engine_auth_failures_total\{reason="([^"]+)"\}$/.exec(k);
    if (m) out.set(m[1]!, v);
  }
  return out;
}

async function gauge(base: string, name: string): Promise<number> {
  return (await scrapeMetrics(base)).get(name) ?? NaN;
}

t.test('gateway auth, entitlements, limits and CORS with live data', async (t) => {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'te-auth-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  // Credentials: an HS256 secret, an RS256 key pair (public half in an SPKI file), an API keys file.
  const secret = randomBytes(32).toString('hex');
  const hsKey = new TextEncoder().encode(secret);
  const rs = await generateKeyPair('RS256');
  const otherRs = await generateKeyPair('RS256');
  const rsFile = join(dir, 'rs256.pem');
  await writeFile(rsFile, await exportSPKI(rs.publicKey));
  const newKey = (id: string) => `${id}-${randomBytes(16).toString('hex')}`;
  const keys = { reader: newKey('reader'), all: newKey('all'), conn: newKey('conn'), subs: newKey('subs'), rps: newKey('rps') };
  const keysFile = join(dir, 'api-keys.json');
  await writeFile(
    keysFile,
    JSON.stringify([
      { id: 'reader', key: keys.reader, symbols: ['BTC-*'] },
      { id: 'all', sha256: createHash('sha256').update(keys.all).digest('hex'), symbols: ['*'] },
      { id: 'conn', key: keys.conn, symbols: ['*'], limits: { maxConnections: 2 } },
      { id: 'subs', key: keys.subs, symbols: ['*'], limits: { maxSubscriptions: 3 } },
      { id: 'rps', key: keys.rps, symbols: ['*'], limits: { requestsPerSecond: 5 } },
    ]),
  );
  type SignKey = Parameters<SignJWT['sign']>[0];
  const now = () => Math.floor(Date.now() / 1000);
  const jwt = (alg: string, key: SignKey, claims: Record<string, unknown>) =>
    new SignJWT({ aud: AUDIENCE, iss: ISSUER, iat: now(), exp: now() + 600, ...claims }).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);

  const port = await freePort();
  const env = liveEnv({
    TE_SIM_RATE: '300',
    TE_SIM_SYMBOLS: '10',
    TE_INTERVALS: '1s,1m',
    TE_SINKS: 'postgres',
    TE_GATEWAY_PORT: String(port),
    TE_AUTH: 'true',
    TE_JWT_HS256_SECRET: secret,
    TE_JWT_RS256_PUBLIC_KEY_FILE: rsFile,
    TE_JWT_AUDIENCE: AUDIENCE,
    TE_JWT_ISSUER: ISSUER,
    TE_API_KEYS_FILE: keysFile,
    TE_LIMIT_CONNECTIONS: '20',
    TE_LIMIT_SUBSCRIPTIONS: '100',
    TE_LIMIT_RPS: '200',
    TE_CORS_ORIGINS: ALLOWED_ORIGIN,
  });
  await startEngine(t, env, port);
  const base = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  const before = await authFailures(base);
  /** Rejections made on purpose, by reason: the metric must grow by exactly these. */
  const expected = new Map<string, number>();
  const count = (reason: string, n = 1) => expected.set(reason, (expected.get(reason) ?? 0) + n);

  const ingest = runCli(['ingest'], env);
  t.teardown(() => ingest.stop());

  const hsJwt = await jwt('HS256', hsKey, { sub: 'hs-user', symbols: ['BTC-*'] });
  const rsJwt = await jwt('RS256', rs.privateKey, { sub: 'rs-user', symbols: ['BTC-*'] });
  const hs = bearer(hsJwt);
  const all: Cred = { headers: { 'x-api-key': keys.all } };

  // Data flowing: bars of every symbol stored and every symbol known to the gateway.
  const stored = await waitFor(
    () => request(`${base}/api/v1/bars/BTC-USD?interval=1s`, hs),
    (r) => r.status === 200 && (parse<{ bars: unknown[] }>(r.text)?.bars.length ?? 0) >= 2,
    60_000,
    500,
  );
  const known = await waitFor(
    async () => parse<{ symbols: string[] }>((await request(`${base}/api/v1/instruments`, all)).text)?.symbols ?? [],
    (s) => s.length >= SIM_SYMBOLS.length,
    30_000,
    250,
  );
  if (!t.equal(stored.status, 200, 'BTC-USD bars reach the store') || !t.strictSame(known, SIM_SYMBOLS, 'all ten symbols flow')) {
    t.comment(ingest.output().slice(-4000));
    return;
  }

  await t.test('HS256 JWT, RS256 JWT and API key: REST and WS data for entitled symbols only', async (t) => {
    const principals: { name: string; rest: Cred; ws: Cred }[] = [
      { name: 'HS256', rest: hs, ws: hs },
      { name: 'RS256', rest: bearer(rsJwt), ws: { query: { token: rsJwt } } },
      { name: 'API key', rest: { headers: { authorization: `ApiKey ${keys.reader}` } }, ws: { query: { apikey: keys.reader } } },
    ];
    for (const p of principals) {
      const inst = parse<{ symbols: string[] }>((await request(`${base}/api/v1/instruments`, p.rest)).text);
      t.strictSame(inst?.symbols, ['BTC-USD'], `${p.name}: instruments filtered to BTC-*`);
      const bars = await request(`${base}/api/v1/bars/BTC-USD?interval=1s`, p.rest);
      const page = parse<{ bars: { symbol: string; interval: string }[] }>(bars.text);
      t.equal(bars.status, 200, `${p.name}: bars 200`);
      t.ok((page?.bars.length ?? 0) > 0, `${p.name}: bars returned`);
      t.ok(
        page?.bars.every((b) => b.symbol === 'BTC-USD' && b.interval === '1s'),
        `${p.name}: BTC-USD 1s bars`,
      );
      const quote = await request(`${base}/api/v1/quote/BTC-USD`, p.rest);
      t.equal(quote.status, 200, `${p.name}: quote 200`);
      t.equal(parse<{ lastTrade: { symbol: string } | null }>(quote.text)?.lastTrade?.symbol, 'BTC-USD', `${p.name}: quote has a BTC-USD trade`);
      const quotes = await request(`${base}/api/v1/quotes`, p.rest, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ symbols: ['BTC-USD'] }),
      });
      t.strictSame(
        parse<{ quotes: { symbol: string }[] }>(quotes.text)?.quotes.map((q) => q.symbol),
        ['BTC-USD'],
        `${p.name}: POST quotes`,
      );
    }
    // Every connection subscribes to all trades; the '*'-entitled key shows what an unfiltered stream holds.
    const clients = await Promise.all([...principals.map((p) => connect(wsUrl, p.ws)), connect(wsUrl, all)]);
    for (const c of clients) c.send({ op: 'subscribe', id: 'all-trades', channel: 'trades', symbols: ['*'] });
    for (const [i, c] of clients.entries()) t.equal((await c.reply('all-trades')).type, 'subscribed', `${principals[i]?.name ?? 'key *'}: subscribed`);
    await sleep(LISTEN_MS);
    for (const c of clients) c.close();
    for (const [i, p] of principals.entries()) {
      const msgs = clients[i]!.msgs;
      t.ok(msgs.filter((m) => m.type === 'trade').length > 0, `${p.name}: trades arrive`);
      t.strictSame(
        msgs.flatMap(symbolsOf).filter((s) => s !== 'BTC-USD'),
        [],
        `${p.name}: only BTC-USD arrives`,
      );
    }
    const unfiltered = new Set(clients[3]!.msgs.filter((m) => m.type === 'trade').map((m) => m.trade!.symbol));
    t.ok(unfiltered.size >= 5, `key *: trades of ${unfiltered.size} symbols`);
  });

  await t.test('rejected credentials: 401 {code, message} on REST, upgrade refused', async (t) => {
    const iat = now();
    const expired = await jwt('HS256', hsKey, { sub: 'late', symbols: ['*'], iat: iat - 3600, exp: iat - 120 });
    const forgedHs = await jwt('HS256', new TextEncoder().encode(randomBytes(32).toString('hex')), { sub: 'forger', symbols: ['*'] });
    const forgedRs = await jwt('RS256', otherRs.privateKey, { sub: 'forger', symbols: ['*'] });
    const wrongAud = await jwt('HS256', hsKey, { sub: 'aud', symbols: ['*'], aud: 'someone-else' });
    const wrongIss = await jwt('HS256', hsKey, { sub: 'iss', symbols: ['*'], iss: 'https://other-issuer.test' });
    const hs512 = await jwt('HS512', hsKey, { sub: 'alg', symbols: ['*'] });
    const unknown = newKey('unknown');
    const cases: { name: string; reason: string; cred: Cred; secret?: string }[] = [
      { name: 'no credentials', reason: 'missing', cred: {} },
      { name: 'expired', reason: 'expired', cred: { query: { token: expired } }, secret: expired },
      { name: 'HS256 wrong signature', reason: 'bad_signature', cred: bearer(forgedHs), secret: forgedHs },
      { name: 'RS256 wrong signature', reason: 'bad_signature', cred: { query: { token: forgedRs } }, secret: forgedRs },
      { name: 'wrong audience', reason: 'bad_audience', cred: bearer(wrongAud), secret: wrongAud },
      { name: 'wrong issuer', reason: 'bad_issuer', cred: bearer(wrongIss), secret: wrongIss },
      { name: 'HS512', reason: 'unsupported_alg', cred: bearer(hs512), secret: hs512 },
      { name: 'malformed JWT', reason: 'malformed', cred: bearer('not.a.jwt') },
      { name: 'unknown key header', reason: 'unknown_key', cred: { headers: { 'x-api-key': unknown } }, secret: unknown },
      { name: 'unknown key query', reason: 'unknown_key', cred: { query: { apikey: unknown } }, secret: unknown },
    ];
    for (const c of cases) {
      for (const path of ['/api/v1/bars/BTC-USD?interval=1s', '/api/v1/quote/BTC-USD']) {
        const r = await request(`${base}${path}`, c.cred);
        const label = `${c.name} ${path.split('?')[0]}`;
        t.equal(r.status, 401, `${label}: 401`);
        t.equal(r.headers.get('content-type'), 'application/json', `${label}: JSON`);
        bareError(t, r.text, 'TE_UNAUTHORIZED', label, c.secret);
      }
      count(c.reason, 2);
    }
    const refusals = await Promise.all(cases.map((c) => refusedUpgrade(wsUrl, c.cred)));
    for (const [i, c] of cases.entries()) {
      checkRefusal(t, refusals[i]!, 401, 'TE_UNAUTHORIZED', `${c.name} /ws`, c.secret);
      count(c.reason);
    }
  });

  await t.test('not entitled: REST 403, WS subscribe error and nothing subscribed', async (t) => {
    const eth = bearer(await jwt('HS256', hsKey, { sub: 'eth-user', symbols: ['ETH-*'] }));
    const none = bearer(await jwt('RS256', rs.privateKey, { sub: 'no-symbols' })); // no symbols claim: entitled to nothing
    for (const [name, cred, path] of [
      ['ETH-* bars', eth, '/api/v1/bars/BTC-USD?interval=1s'],
      ['ETH-* quote', eth, '/api/v1/quote/BTC-USD'],
      ['no symbols quote', none, '/api/v1/quote/BTC-USD'],
    ] as const) {
      const r = await request(`${base}${path}`, cred);
      t.equal(r.status, 403, `${name}: 403`);
      bareError(t, r.text, 'TE_FORBIDDEN', name);
      count('not_entitled');
    }
    const mixed = await request(`${base}/api/v1/quotes`, hs, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ symbols: ['BTC-USD', 'ETH-USD'] }),
    });
    t.equal(mixed.status, 403, 'BTC-* POST quotes with ETH-USD: 403');
    bareError(t, mixed.text, 'TE_FORBIDDEN', 'BTC-* POST quotes with ETH-USD');
    count('not_entitled');
    const ethQuote = await request(`${base}/api/v1/quote/ETH-USD`, eth);
    t.equal(parse<{ symbol: string }>(ethQuote.text)?.symbol, 'ETH-USD', 'ETH-* quote of ETH-USD: served');
    t.strictSame(parse<{ symbols: string[] }>((await request(`${base}/api/v1/instruments`, none)).text)?.symbols, [], 'no symbols: no instruments');

    const c = await connect(wsUrl, eth);
    c.send({ op: 'subscribe', id: 'deny', channel: 'trades', symbols: ['BTC-USD'] });
    c.send({ op: 'subscribe', id: 'mixed', channel: 'trades', symbols: ['ETH-USD', 'BTC-USD'] });
    c.send({ op: 'subscribe', id: 'pattern', channel: 'trades', symbols: ['BTC-*'] });
    c.send({ op: 'subscribe', id: 'ok', channel: 'bars', interval: '1s', symbols: ['ETH-USD'] });
    for (const id of ['deny', 'mixed']) {
      const e = await c.reply(id);
      t.strictSame(Object.keys(e).sort(), ['code', 'id', 'message', 'type'], `${id}: bare error`);
      t.equal(e.type, 'error', `${id}: error`);
      t.equal(e.code, 'TE_FORBIDDEN', `${id}: TE_FORBIDDEN`);
      count('not_entitled');
    }
    t.equal((await c.reply('pattern')).type, 'subscribed', 'BTC-* pattern: subscribed');
    t.equal((await c.reply('ok')).type, 'subscribed', 'ETH-USD bars: subscribed');
    await sleep(LISTEN_MS);
    c.close();
    t.equal(c.msgs.filter((m) => m.type === 'error').length, 2, 'two errors, nothing else failed');
    t.equal(
      c.msgs.filter((m) => m.type === 'trade' || (m.type === 'snapshot' && m.channel === 'trades')).length,
      0,
      'no trade or trade snapshot (mixed request subscribed nothing)',
    );
    t.strictSame(
      c.msgs.flatMap(symbolsOf).filter((s) => s !== 'ETH-USD'),
      [],
      'no BTC-USD byte',
    );
    t.ok(c.msgs.filter((m) => m.type === 'bar' || m.type === 'update').length > 0, 'ETH-USD bars arrive meanwhile');
  });

  await t.test('limits: connections, subscriptions, requests per second', async (t) => {
    // Connections: the third concurrent upgrade of a key limited to two is refused; closing one frees a slot.
    const conn: Cred = { headers: { 'x-api-key': keys.conn } };
    const c1 = await connect(wsUrl, conn);
    const c2 = await connect(wsUrl, conn);
    checkRefusal(t, await refusedUpgrade(wsUrl, conn), 429, 'TE_RATE_LIMITED', 'third connection');
    count('over_limit');
    const open = await gauge(base, 'tick_engine_ws_connections');
    c1.close();
    t.equal(
      await waitFor(
        () => gauge(base, 'tick_engine_ws_connections'),
        (n) => n === open - 1,
        5000,
        50,
      ),
      open - 1,
      'server saw the close',
    );
    const c3 = await connect(wsUrl, conn);
    t.pass('a connection after one closed is admitted');
    c2.close();
    c3.close();

    // Subscriptions: at most three per connection; the request past it subscribes nothing.
    const s = await connect(wsUrl, { headers: { 'x-api-key': keys.subs } });
    s.send({ op: 'subscribe', id: 's1', channel: 'trades', symbols: ['BTC-USD', 'ETH-USD'] });
    t.equal((await s.reply('s1')).type, 'subscribed', 'two subscriptions');
    s.send({ op: 'subscribe', id: 's2', channel: 'trades', symbols: ['XRP-USD', 'ADA-USD'] });
    const over = await s.reply('s2');
    t.equal(over.type, 'error', 'fourth subscription: error');
    t.equal(over.code, 'TE_RATE_LIMITED', 'fourth subscription: TE_RATE_LIMITED');
    count('over_limit');
    s.send({ op: 'subscribe', id: 's3', channel: 'trades', symbols: ['SOL-USD'] });
    t.equal((await s.reply('s3')).type, 'subscribed', 'third subscription: admitted');
    await sleep(LISTEN_MS);
    s.close();
    const seen = new Set(s.msgs.flatMap(symbolsOf));
    t.strictSame([...seen].sort(), ['BTC-USD', 'ETH-USD', 'SOL-USD'], 'only the admitted subscriptions deliver');
    t.ok(s.msgs.filter((m) => m.type === 'trade').length > 0, 'trades arrive');

    // Requests per second (burst 5): REST past the bucket is 429 with nothing but the error.
    const rps: Cred = { headers: { 'x-api-key': keys.rps } };
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request(`${base}${i % 2 ? '/api/v1/quote/BTC-USD' : '/api/v1/bars/BTC-USD?interval=1s'}`, rps)),
    );
    const ok = burst.filter((r) => r.status === 200);
    const limited = burst.filter((r) => r.status === 429);
    t.ok(ok.length >= 5 && ok.length <= 7, `${ok.length} of 20 admitted (burst 5)`);
    t.equal(ok.length + limited.length, 20, 'the rest 429');
    for (const r of limited) bareError(t, r.text, 'TE_RATE_LIMITED', 'REST over rps');
    count('over_limit', limited.length);

    // WS messages draw on the same bucket: after it refills, the upgrade takes one token and pings the rest.
    await sleep(1500);
    const w = await connect(wsUrl, rps);
    for (let i = 0; i < 20; i++) w.send({ op: 'ping', id: `p${i}` });
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => w.reply(`p${i}`)));
    w.close();
    const pongs = replies.filter((m) => m.type === 'pong').length;
    const errors = replies.filter((m) => m.type === 'error' && m.code === 'TE_RATE_LIMITED').length;
    t.ok(pongs >= 4 && pongs <= 6, `${pongs} of 20 pings answered (4 tokens left after the upgrade)`);
    t.equal(pongs + errors, 20, 'the rest TE_RATE_LIMITED');
    count('over_limit', errors);
  });

  await t.test('CORS: allowed origin answered, other origins not; WS upgrade from another origin 403', async (t) => {
    const preflight = (origin: string) =>
      request(
        `${base}/api/v1/quotes`,
        {},
        {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
        },
      );
    const pre = await preflight(ALLOWED_ORIGIN);
    t.equal(pre.status, 204, 'preflight 204');
    t.equal(pre.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN, 'preflight allows the origin');
    t.match(pre.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/, 'preflight allows POST');
    t.match(pre.headers.get('access-control-allow-headers') ?? '', /\bauthorization\b.*\bx-api-key\b/, 'preflight allows the auth headers');
    t.equal((await preflight(OTHER_ORIGIN)).headers.get('access-control-allow-origin'), null, 'preflight of another origin: no allow-origin');

    const get = (origin: string) => request(`${base}/api/v1/quote/BTC-USD`, hs, { headers: { origin } });
    const allowed = await get(ALLOWED_ORIGIN);
    t.equal(allowed.status, 200, 'GET from the allowed origin: 200');
    t.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN, 'GET from the allowed origin: allow-origin');
    t.match(allowed.headers.get('vary') ?? '', /\bOrigin\b/, 'GET from the allowed origin: vary Origin');
    t.equal((await get(OTHER_ORIGIN)).headers.get('access-control-allow-origin'), null, 'GET from another origin: no allow-origin');

    checkRefusal(t, await refusedUpgrade(wsUrl, hs, { origin: OTHER_ORIGIN }), 403, 'TE_FORBIDDEN', 'WS from another origin', hsJwt);
    count('origin');
    for (const origin of [ALLOWED_ORIGIN, `http://127.0.0.1:${port}`]) {
      const c = await connect(wsUrl, hs, { origin });
      c.send({ op: 'ping', id: 'o' });
      t.equal((await c.reply('o')).type, 'pong', `WS from ${origin}: open`);
      c.close();
    }
  });

  await t.test('tick_engine_auth_failures_total counts each rejection once, by reason', async (t) => {
    const after = await authFailures(base);
    for (const reason of new Set([...expected.keys(), ...after.keys()])) {
      const delta = (after.get(reason) ?? 0) - (before.get(reason) ?? 0);
      t.equal(delta, expected.get(reason) ?? 0, `${reason} +${expected.get(reason) ?? 0}`);
    }
    t.ok(expected.size >= 10, `${expected.size} reasons exercised`);
  });

  t.equal(await ingest.stop(), 0, 'feed stops cleanly');
  t.comment(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
