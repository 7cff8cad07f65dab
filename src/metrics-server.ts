// A bare /metrics, /health and /ready endpoint (node:http) for processes without the gateway: the aggregator, the feed.
import { createServer, type Server } from 'node:http';
import { registry } from './metrics.js';

/** What /ready answers: 200 when ready, else 503 with what the process waits for. */
export type Readiness = () => { ready: boolean; waitingFor?: unknown };

export async function startMetricsServer(host: string, port: number, readiness?: Readiness): Promise<{ port: number; stop(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'TE_METRICS', message: String(err) })),
      );
    } else if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/ready') {
      const r = readiness?.() ?? { ready: true };
      res
        .writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(r.ready ? { status: 'ready' } : { status: 'waiting', waitingFor: r.waitingFor }));
    } else {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 'TE_NOT_FOUND', message: `no route for ${req.method} ${req.url}` }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
