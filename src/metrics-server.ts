// A bare /metrics, /health and /ready endpoint (node:http) for processes without the gateway: the aggregator, the feed.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { clientError, InternalError, NotFoundError } from './errors.js';
import { registry } from './metrics.js';

function reply(res: ServerResponse, err: unknown): void {
  const e = clientError(err);
  res.writeHead(e.status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: e.code, message: e.message }));
}

/** What /ready answers: 200 when ready, else 503 with what the process waits for. */
export type Readiness = () => { ready: boolean; waitingFor?: unknown };

/** What /health answers: 200 when healthy, else 503 with what is wrong (a message, and any details). */
export type Health = () => { healthy: boolean; message?: string; [detail: string]: unknown };

export interface MetricsServerOptions {
  readiness?: Readiness;
  /** Default: always healthy (the process answers). */
  health?: Health;
}

export async function startMetricsServer(
  host: string,
  port: number,
  { readiness, health }: MetricsServerOptions = {},
): Promise<{ port: number; stop(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => reply(res, new InternalError(`metrics could not be collected: ${String(err)}`)),
      );
    } else if (req.url === '/health') {
      const { healthy, ...detail } = health?.() ?? { healthy: true };
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: healthy ? 'ok' : 'unhealthy', ...detail }));
    } else if (req.url === '/ready') {
      const r = readiness?.() ?? { ready: true };
      res
        .writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(r.ready ? { status: 'ready' } : { status: 'waiting', waitingFor: r.waitingFor }));
    } else {
      reply(res, new NotFoundError(`no route for ${req.method} ${req.url}`));
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
