// A fake Kafka broker for the engine's own fetch path's unit tests: a local TCP server that hands each complete
// request frame (v1 header) to a callback with a reply function. Replies are split into 3-byte pieces sent apart,
// so a reader's framing cannot depend on how the bytes arrive.
import { createServer, type Server, type Socket } from 'node:net';

/** A server that hands each complete request frame to `onRequest` with a reply function. */
export async function fakeBroker(
  onRequest: (
    req: { apiKey: number; version: number; correlationId: number; clientId: string; body: Buffer },
    reply: (body: Buffer) => void,
    socket: Socket,
  ) => void,
): Promise<Server> {
  const server = createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const idLength = frame.readInt16BE(8);
        const req = {
          apiKey: frame.readInt16BE(0),
          version: frame.readInt16BE(2),
          correlationId: frame.readInt32BE(4),
          clientId: frame.toString('utf8', 10, 10 + idLength),
          body: frame.subarray(10 + idLength),
        };
        onRequest(
          req,
          (body) => {
            const out = Buffer.alloc(8 + body.length);
            out.writeInt32BE(4 + body.length, 0);
            out.writeInt32BE(req.correlationId, 4);
            body.copy(out, 8);
            // Split into 3-byte pieces, sent apart: framing must not depend on how the bytes arrive.
            for (let i = 0; i < out.length; i += 3) setTimeout(() => socket.write(out.subarray(i, i + 3)), 0);
          },
          socket,
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

export const portOf = (s: Server) => (s.address() as { port: number }).port;
