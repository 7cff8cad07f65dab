// The local TimescaleDB endpoint (deploy/local/timescaledb-server.mjs) serves several sessions at once on its one
// PGlite instance: each session's exchanges and transactions run whole, in turn, never interleaved with another's.
// With one backend, an interleaved statement would run *inside* the other session's transaction: a reader would see
// its uncommitted rows, and a writer's COMMIT would commit them. This test starts its own endpoint (a free port, a
// temporary data directory; never the stack's) and checks, with real `pg` clients: a long transaction with two
// others working beside it, a client killed inside a transaction, named statements of the same name in two sessions,
// an extended-protocol exchange held open across a Flush, the idle-in-transaction warning and timeout, cancel
// requests, and 10 clients × 50 queries.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { projectRoot } from '../../src/paths.js';
import { freePort } from '../helpers/env.js';
import { message, startup } from '../helpers/pg-wire.js';

const IDLE_WARN_MS = 1000;
const IDLE_IN_TX_MS = 5000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The endpoint under test, with its log (stdout and stderr) collected. */
async function startEndpoint(): Promise<{ url: string; child: ChildProcess; log: () => string; dataDir: string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'te-tsdb-sessions-'));
  const child = spawn(process.execPath, [join(projectRoot(), 'deploy/local/timescaledb-server.mjs')], {
    env: {
      ...process.env,
      TE_TSDB_PORT: String(port),
      TE_TSDB_DATA: dataDir,
      TE_TSDB_IDLE_WARN_MS: String(IDLE_WARN_MS),
      TE_TSDB_IDLE_IN_TX_MS: String(IDLE_IN_TX_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!out.includes('listening')) {
    if (child.exitCode !== null) throw new Error(`the endpoint exited (${child.exitCode}): ${out}`);
    if (Date.now() > deadline) throw new Error(`the endpoint did not listen within 120 s: ${out}`);
    await sleep(100);
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, child, log: () => out, dataDir };
}

const endpoint = await startEndpoint();
// Never left behind: tap ends a test that runs out of time with SIGTERM, and teardowns do not run then.
process.once('exit', () => endpoint.child.kill('SIGKILL'));
process.once('SIGTERM', () => {
  endpoint.child.kill('SIGKILL');
  rmSync(endpoint.dataDir, { recursive: true, force: true });
  process.exit(143);
});
t.teardown(async () => {
  const exited = new Promise((resolve) => endpoint.child.once('exit', resolve));
  endpoint.child.kill('SIGTERM');
  await exited;
  rmSync(endpoint.dataDir, { recursive: true, force: true });
});

const clients: pg.Client[] = [];
/** A connected client; every query fails after 30 s instead of waiting for ever. */
async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: endpoint.url, query_timeout: 30_000, connectionTimeoutMillis: 10_000 });
  c.on('error', () => undefined); // a session the endpoint ends reports it on its next query
  await c.connect();
  clients.push(c);
  return c;
}
t.teardown(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
});

async function count(c: pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  return (await c.query<{ n: number }>(sql, params)).rows[0]!.n;
}

t.test('three clients: one in a long transaction, two beside it never run inside it', async (t) => {
  const [long, reader, writer] = [await client(), await client(), await client()];
  await long.query('CREATE TABLE three (who text, i int)');
  const events: string[] = [];
  const longRows = (c: pg.Client): Promise<number> => count(c, "SELECT count(*)::int AS n FROM three WHERE who = 'long'");

  // Round 1: the long transaction commits.
  await long.query('BEGIN');
  for (let i = 0; i < 5; i++) await long.query("INSERT INTO three VALUES ('long', $1)", [i]);
  events.push('long: 5 rows in');
  // While the long transaction is idle between its statements, the others' statements are sent; they wait.
  const seen: number[] = [];
  const readerDone = (async () => {
    for (let k = 0; k < 3; k++) {
      seen.push(await longRows(reader));
      events.push(`reader: saw ${seen[seen.length - 1]}`);
    }
  })();
  const writerDone = (async () => {
    for (let k = 0; k < 3; k++) {
      await writer.query('BEGIN');
      await writer.query("INSERT INTO three VALUES ('writer', $1)", [k]);
      await writer.query('COMMIT');
      events.push(`writer: committed ${k}`);
    }
  })();
  await sleep(1500);
  for (let i = 5; i < 10; i++) await long.query("INSERT INTO three VALUES ('long', $1)", [i]);
  await sleep(1500);
  t.same(events, ['long: 5 rows in'], 'nothing of the others ran while the long transaction was open (idle 3 s between statements)');
  t.equal(await longRows(long), 10, 'the long transaction sees its own 10 rows');
  events.push('long: COMMIT sent');
  await long.query('COMMIT');
  await Promise.all([readerDone, writerDone]);
  t.equal(events[0], 'long: 5 rows in');
  t.equal(events[1], 'long: COMMIT sent', "the others' first statements completed only after the COMMIT");
  t.same(seen, [10, 10, 10], 'the reader never saw the long transaction half done: all 10 rows, after its COMMIT');
  t.equal(await count(reader, "SELECT count(*)::int AS n FROM three WHERE who = 'writer'"), 3, "the writer's 3 transactions committed");

  // Round 2: the long transaction rolls back. Had the writer's COMMIT run inside it, its rows would be committed.
  await long.query('BEGIN');
  await long.query("INSERT INTO three SELECT 'long2', g FROM generate_series(1, 7) g");
  const writer2 = (async () => {
    await writer.query('BEGIN');
    await writer.query("INSERT INTO three VALUES ('writer2', 1)");
    await writer.query('COMMIT');
  })();
  const reader2 = count(reader, "SELECT count(*)::int AS n FROM three WHERE who = 'long2'");
  await sleep(1000);
  await long.query("INSERT INTO three VALUES ('long2', 8)");
  await long.query('ROLLBACK');
  await writer2;
  t.equal(await reader2, 0, 'the reader waited and saw none of the rolled-back rows');
  t.equal(await count(reader, "SELECT count(*)::int AS n FROM three WHERE who = 'long2'"), 0, 'the rolled-back rows are gone');
  t.equal(await count(reader, "SELECT count(*)::int AS n FROM three WHERE who = 'writer2'"), 1, "the writer's own transaction committed");
});

t.test('a client killed inside a transaction: its work is rolled back and the others go on', async (t) => {
  const other = await client();
  await other.query('CREATE TABLE killed (i int)');
  // A separate process, so that it can be killed outright (no Terminate message, no ROLLBACK of its own).
  const script = `import pg from 'pg';
const c = new pg.Client(process.env.URL);
await c.connect();
await c.query('BEGIN');
await c.query('INSERT INTO killed SELECT generate_series(1, 100)');
process.stdout.write('inside\\n');
setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: projectRoot(),
    env: { ...process.env, URL: endpoint.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('inside') && resolve());
    child.once('exit', (code) => reject(new Error(`the client exited (${code}) before its transaction was open`)));
  });
  let answered = false;
  const waiting = count(other, 'SELECT count(*)::int AS n FROM killed').then((n) => {
    answered = true;
    return n;
  });
  await sleep(1000);
  t.notOk(answered, "the other session's query waits while the transaction is open");
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  t.equal(await waiting, 0, 'then it runs, and sees none of the killed client’s rows');
  await other.query('BEGIN');
  await other.query('INSERT INTO killed VALUES (1)');
  await other.query('COMMIT');
  t.equal(await count(await client(), 'SELECT count(*)::int AS n FROM killed'), 1, 'a new transaction of another session commits');
});

t.test('named prepared statements: the same name in two sessions does not collide, and is closed when its session ends', async (t) => {
  const a = await client();
  const b = await client();
  t.equal((await a.query({ name: 'same', text: 'SELECT 1::int AS v' })).rows[0].v, 1);
  t.equal((await b.query({ name: 'same', text: 'SELECT 2::int AS v' })).rows[0].v, 2, "b's 'same' is its own");
  t.equal((await a.query({ name: 'same', text: 'SELECT 1::int AS v' })).rows[0].v, 1, "a's 'same' is still its own");
  const names = async (c: pg.Client): Promise<string[]> =>
    (await c.query<{ name: string }>("SELECT name FROM pg_prepared_statements WHERE name LIKE '%same' ORDER BY name")).rows.map((r) => r.name);
  t.equal((await names(a)).length, 2, 'two statements on the one backend');
  await a.end();
  clients.splice(clients.indexOf(a), 1);
  await sleep(300);
  t.equal((await names(b)).length, 1, "a's statement was closed when a ended");
  const c = await client();
  t.equal((await c.query({ name: 'same', text: 'SELECT 3::int AS v' })).rows[0].v, 3, "a new session's 'same' is created afresh (no 'already exists')");
});

/** A raw protocol session: sends bytes, collects whole backend messages. */
class RawSession {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  readonly closed: Promise<void>;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => (this.buf = Buffer.concat([this.buf, d])));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', () => undefined);
  }
  /** Waits until the backend messages received end with one of type `until` (or fails after 10 s); returns their types, notices left out. */
  async read(until: string): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const types: string[] = [];
      let at = 0;
      while (at + 5 <= this.buf.length) {
        const len = this.buf.readInt32BE(at + 1);
        if (at + 1 + len > this.buf.length) break;
        const type = String.fromCharCode(this.buf[at]!);
        // PGlite sends DEBUG notices (N) for Parse and Bind: not part of the exchange.
        if (type !== 'N') types.push(type);
        at += 1 + len;
        if (types[types.length - 1] === until) {
          this.buf = this.buf.subarray(at);
          return types.join('');
        }
      }
      if (Date.now() > deadline) throw new Error(`no '${until}' within 10 s; got ${types.join('')}`);
      await sleep(20);
    }
  }
  received(): number {
    return this.buf.length;
  }
}
const port = Number(new URL(endpoint.url).port);
async function rawSession(): Promise<RawSession> {
  const s = new RawSession(port);
  s.socket.write(Buffer.concat([startup(), message('p', Buffer.from('x\0'))]));
  await s.read('Z');
  return s;
}
/** Parse (unnamed) `sql`, Bind, Describe, Execute: an extended exchange without its Sync. */
function extended(sql: string): Buffer {
  return Buffer.concat([
    message('P', Buffer.concat([Buffer.from(`\0${sql}\0`), Buffer.alloc(2)])),
    message('B', Buffer.alloc(8)),
    message('D', Buffer.from('P\0')),
    message('E', Buffer.alloc(5)),
  ]);
}

t.test('an extended-protocol exchange runs up to its Sync as a unit, across a Flush', async (t) => {
  const s = await rawSession();
  const other = await client();
  // Parse … Execute, then Flush: answered at once; the unnamed statement and portal are this session's until Sync.
  s.socket.write(Buffer.concat([extended('SELECT 41 + 1 AS v'), message('H', Buffer.alloc(0))]));
  t.equal(await s.read('C'), '12TDC', 'ParseComplete, BindComplete, RowDescription, DataRow, CommandComplete after the Flush');
  let answered = false;
  const theirs = other.query('SELECT 7::int AS v').then((r) => ((answered = true), r.rows[0].v));
  await sleep(800);
  t.notOk(answered, "another session's query waits for this exchange's Sync");
  s.socket.write(Buffer.concat([message('E', Buffer.alloc(5)), message('S', Buffer.alloc(0))]));
  t.equal(await s.read('Z'), 'CZ', 'the same portal executes again (nothing else ran in between), then Sync');
  t.equal(await theirs, 7, 'then the other query runs');

  // A session that dies half-way through an exchange: the next one goes on.
  const dying = await rawSession();
  dying.socket.write(extended('SELECT 1'));
  await dying.read('C');
  dying.socket.destroy();
  t.equal((await other.query('SELECT 8::int AS v')).rows[0].v, 8, 'a half-done exchange of a closed session is ended for it');
  s.socket.destroy();
});

t.test('a session idle inside a transaction: reported, then ended after TE_TSDB_IDLE_IN_TX_MS', async (t) => {
  const idle = await client();
  const other = await client();
  await other.query('CREATE TABLE idle_tx (i int)');
  const ended = new Promise<Error>((resolve) => idle.once('error', resolve));
  await idle.query('BEGIN');
  await idle.query('INSERT INTO idle_tx VALUES (1)');
  const t0 = Date.now();
  const waited = count(other, 'SELECT count(*)::int AS n FROM idle_tx');
  t.equal(await waited, 0, 'the waiting query ran once the idle session was ended, without its rows');
  const took = Date.now() - t0;
  t.ok(took >= IDLE_IN_TX_MS - 1000 && took < IDLE_IN_TX_MS + 10_000, `it waited about TE_TSDB_IDLE_IN_TX_MS (${took} ms)`);
  t.match((await ended).message, /idle-in-transaction timeout/, 'the idle client got FATAL 25P03');
  t.match(endpoint.log(), /session \d+ .* has been idle for \d+ ms inside a transaction or an unfinished exchange; 1 session\(s\) wait for it/);
  t.match(endpoint.log(), /idle in a transaction for \d+ ms \(TE_TSDB_IDLE_IN_TX_MS=5000\): ended/);
  await t.rejects(idle.query('SELECT 1'), 'the ended session is closed');
});

t.test('cancel requests are taken without breaking anything', async (t) => {
  const busy = await client();
  const { processID, secretKey } = busy as unknown as { processID: number; secretKey: number };
  t.ok(processID > 0, 'each session has a BackendKeyData of its own');
  const running = busy.query('SELECT pg_sleep(1), 5::int AS v');
  await sleep(200);
  for (const [pid, key] of [
    [processID, secretKey],
    [processID, secretKey + 1],
    [123, 456],
  ] as const) {
    const c = net.connect(port, '127.0.0.1');
    const req = Buffer.alloc(16);
    req.writeInt32BE(16, 0);
    req.writeInt32BE(80877102, 4);
    req.writeInt32BE(pid, 8);
    req.writeInt32BE(key, 12);
    let got = 0;
    c.on('data', (d: Buffer) => (got += d.length));
    c.write(req);
    await new Promise((resolve) => c.once('close', resolve));
    t.equal(got, 0, 'the cancel connection is closed without an answer');
  }
  t.equal((await running).rows[0].v, 5, 'the statement ran to its end (PGlite cannot interrupt it)');
  t.equal((await busy.query('SELECT 6::int AS v')).rows[0].v, 6, 'and its session goes on');
});

t.test('10 clients × 50 queries, each with its own transactions and named statements: every answer right', async (t) => {
  const setup = await client();
  await setup.query('CREATE TABLE many (c int, k int)');
  const N = 10;
  const Q = 50;
  const results = await Promise.all(
    Array.from({ length: N }, async (_, c) => {
      const cl = await client();
      let inserted = 0;
      let wrong = 0;
      for (let k = 0; k < Q; k++) {
        if (k % 10 === 9) {
          // A short transaction: its own count inside it must be exact.
          await cl.query('BEGIN');
          await cl.query('INSERT INTO many VALUES ($1, $2)', [c, k]);
          inserted++;
          if ((await count(cl, 'SELECT count(*)::int AS n FROM many WHERE c = $1', [c])) !== inserted) wrong++;
          await cl.query('COMMIT');
        } else if (k % 2 === 0) {
          // The same statement name in every session, with a different text in each.
          const r = await cl.query({ name: 'plus', text: `SELECT $1::int + ${c} AS v`, values: [k] });
          if (r.rows[0].v !== k + c) wrong++;
        } else {
          const r = await cl.query('SELECT $1::int * $2::int AS v, $3::text AS who', [c, k, `c${c}`]);
          if (r.rows[0].v !== c * k || r.rows[0].who !== `c${c}`) wrong++;
        }
      }
      return { inserted, wrong };
    }),
  );
  t.same(
    results.map((r) => r.wrong),
    Array(N).fill(0),
    'no wrong answer in any client',
  );
  const rows = (await setup.query<{ c: number; n: number }>('SELECT c, count(*)::int AS n FROM many GROUP BY c ORDER BY c')).rows;
  t.same(
    rows,
    results.map((r, c) => ({ c, n: r.inserted })),
    'every client’s committed rows, no more',
  );
});
