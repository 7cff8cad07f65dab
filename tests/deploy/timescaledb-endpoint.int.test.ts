// The local TimescaleDB endpoint (deploy/local/timescaledb-server.mjs) answers every extended-protocol query,
// whatever its size. PGlite drops a message that starts at a multiple of 8192 bytes into one input, so a batch
// upsert whose Sync landed there was executed but never answered: the aggregator's retry of the same statement waited
// for ever (issue 11). The endpoint splits its input there; this test sends queries of exactly those sizes.
import net from 'node:net';
import t from 'tap';
import { testEnv } from '../helpers/env.js';
import { message, startup } from '../helpers/pg-wire.js';

/** Parse, Bind, Describe, Execute, Sync of `SELECT n` padded with a comment so that the batch is exactly `total` bytes. */
function extendedQuery(n: number, total: number): Buffer {
  const tail = [message('B', Buffer.alloc(8)), message('D', Buffer.from('P\0')), message('E', Buffer.alloc(5)), message('S', Buffer.alloc(0))];
  const tailLength = tail.reduce((s, b) => s + b.length, 0);
  const sql = `SELECT ${n} AS n /*`;
  // P = type + length + '\0' (unnamed) + sql + pad + '*/\0' + int16 0 (no parameter types)
  const pad = total - tailLength - (5 + 1 + sql.length + 3 + 2);
  const parse = message('P', Buffer.concat([Buffer.from(`\0${sql}${'x'.repeat(pad)}*/\0`), Buffer.alloc(2)]));
  return Buffer.concat([parse, ...tail]);
}

/** A raw session: sends bytes, collects whole backend messages. */
class Session {
  private readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  readonly opened: Promise<void>;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.opened = new Promise((resolve, reject) => this.socket.once('connect', resolve).once('error', reject));
    this.socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
  }
  /** Sends `bytes` and resolves with the backend messages' types and bodies up to the next ReadyForQuery. */
  async exchange(bytes: Buffer, timeoutMs = 10_000): Promise<{ type: string; body: Buffer }[]> {
    this.socket.write(bytes);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got: { type: string; body: Buffer }[] = [];
      let at = 0;
      while (at + 5 <= this.buf.length) {
        const len = this.buf.readInt32BE(at + 1);
        if (at + 1 + len > this.buf.length) break;
        got.push({ type: String.fromCharCode(this.buf[at]!), body: this.buf.subarray(at + 5, at + 1 + len) });
        at += 1 + len;
        if (got[got.length - 1]!.type === 'Z') {
          this.buf = this.buf.subarray(at);
          return got;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ReadyForQuery within ${timeoutMs} ms; got ${got.map((m) => m.type).join('')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }
  close(): void {
    this.socket.destroy();
  }
}

t.test('an extended query is answered whatever its size, 8 KiB boundaries included', async (t) => {
  const port = Number(new URL(testEnv().TE_TSDB_URL!).port);
  const s = new Session(port);
  t.teardown(() => s.close());
  await s.opened;
  // Startup: the endpoint asks for a password (any is taken), then says ReadyForQuery.
  s.send(startup());
  await s.exchange(message('p', Buffer.from('postgres\0')));
  // The sizes PGlite got wrong (a message starting at 8192·k), and ordinary ones around them.
  const sizes = [1000, 8191, 8192, 8197, 8202, 8207, 8214, 8227, 16389, 24581, 65541, 100_000];
  for (const [i, total] of sizes.entries()) {
    const q = extendedQuery(i + 1, total);
    t.equal(q.length, total, `the query is ${total} bytes`);
    const reply = await s.exchange(q);
    t.same(
      // Notices (N) may come too; they are not part of the exchange.
      reply
        .map((m) => m.type)
        .filter((type) => type !== 'N')
        .join(''),
      '12TDCZ',
      `${total} bytes: ParseComplete, BindComplete, RowDescription, DataRow, CommandComplete, ReadyForQuery`,
    );
    const row = reply.find((m) => m.type === 'D')!;
    // DataRow: int16 column count, int32 length, the text value.
    t.equal(row.body.subarray(6).toString(), String(i + 1), `${total} bytes: the row is the query's own`);
  }
});
