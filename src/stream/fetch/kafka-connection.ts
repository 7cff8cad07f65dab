// A bare Kafka protocol connection: framed requests and responses over one plain TCP socket, matched by
// correlation id. Replay's fetch path uses it to read record batches as bytes (kafkajs makes an object per
// record, which caps a replay at ~200k ticks/s here). Everything else talks to Kafka through kafkajs.
import { connect, type Socket } from 'node:net';
import { KafkaReadError } from '../../errors.js';

/** Request header v1 (every non-flexible request version): api key, version, correlation id, client id. */
function header(apiKey: number, version: number, correlationId: number, clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const b = Buffer.allocUnsafe(10 + id.length);
  b.writeInt16BE(apiKey, 0);
  b.writeInt16BE(version, 2);
  b.writeInt32BE(correlationId, 4);
  b.writeInt16BE(id.length, 8);
  id.copy(b, 10);
  return b;
}

interface Pending {
  correlationId: number;
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
}

export const API_FETCH = 1;
export const API_VERSIONS = 18;

export class KafkaConnection {
  private readonly socket: Socket;
  private readonly pending: Pending[] = [];
  private nextId = 1;
  /** Received bytes not yet framed: chunks kept as they came, joined once a whole response is in. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the response being received (its 4-byte length prefix read), or -1. */
  private expected = -1;
  private failure: Error | undefined;
  private readonly ready: Promise<void>;
  /** Rejects `ready` (nothing once it resolved): a connection that fails or is closed before it connects. */
  private rejectReady: (err: Error) => void = () => undefined;

  /**
   * @param timeoutMs how long the broker may stay silent while a request is pending (an idle connection,
   *   e.g. while replay writes out what it read, never times out).
   */
  constructor(
    readonly host: string,
    readonly port: number,
    private readonly clientId: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.setTimeout(timeoutMs); // connecting counts as waiting
    this.ready = new Promise((resolve, reject) => {
      this.rejectReady = reject;
      this.socket.once('connect', () => {
        if (this.pending.length === 0) this.socket.setTimeout(0);
        resolve();
      });
      this.socket.once('error', (err) => reject(new KafkaReadError(`cannot connect to ${host}:${port}: ${err.message}`, { cause: err })));
    });
    this.ready.catch(() => undefined);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('timeout', () => this.fail(new KafkaReadError(`no answer from ${host}:${port} in ${timeoutMs} ms`)));
    this.socket.on('error', (err) => this.fail(new KafkaReadError(`connection to ${host}:${port} failed: ${err.message}`, { cause: err })));
    this.socket.on('close', () => this.fail(new KafkaReadError(`connection to ${host}:${port} closed`)));
  }

  /** Send a request; resolves with the response body (after the correlation id). */
  async request(apiKey: number, version: number, body: Buffer): Promise<Buffer> {
    await this.ready;
    if (this.failure) throw this.failure;
    const correlationId = this.nextId++;
    const head = header(apiKey, version, correlationId, this.clientId);
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(head.length + body.length, 0);
    return new Promise<Buffer>((resolve, reject) => {
      if (this.pending.length === 0) this.socket.setTimeout(this.timeoutMs);
      this.pending.push({ correlationId, resolve, reject });
      this.socket.write(Buffer.concat([size, head, body]));
    });
  }

  close(): void {
    this.failure ??= new KafkaReadError('connection closed by the reader');
    this.rejectReady(this.failure);
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    // A connect that timed out emits no 'error', only 'close': a request waiting for it must not wait for ever.
    this.rejectReady(this.failure);
    for (const p of this.pending.splice(0)) p.reject(this.failure);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) return;
        const head = this.take(4);
        this.expected = head.readInt32BE(0);
      }
      if (this.buffered < this.expected) return;
      const frame = this.take(this.expected);
      this.expected = -1;
      const correlationId = frame.readInt32BE(0);
      const p = this.pending[0];
      if (!p || p.correlationId !== correlationId) {
        this.fail(new KafkaReadError(`response with correlation id ${correlationId} from ${this.host}:${this.port} was not expected`));
        return;
      }
      this.pending.shift();
      if (this.pending.length === 0) this.socket.setTimeout(0);
      p.resolve(frame.subarray(4));
    }
  }

  /** The first n buffered bytes (n ≤ buffered), as one buffer. */
  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
