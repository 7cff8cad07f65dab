// The bare /metrics, /health and /ready endpoint of the processes without the gateway (aggregate, ingest --feed): what
// each answers by default and when the process says it is unhealthy or not ready.
import t from 'tap';
import { startMetricsServer } from '../src/metrics-server.js';

async function get(base: string, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

t.test('by default: /health 200 ok, /ready 200, /metrics in the Prometheus text format, anything else 404 TE_NOT_FOUND', async (t) => {
  const server = await startMetricsServer('127.0.0.1', 0);
  t.teardown(() => server.stop());
  const base = `http://127.0.0.1:${server.port}`;
  t.same(await get(base, '/health'), { status: 200, body: '{"status":"ok"}', type: 'application/json' });
  t.same(await get(base, '/ready'), { status: 200, body: '{"status":"ready"}', type: 'application/json' });
  const metrics = await get(base, '/metrics');
  t.equal(metrics.status, 200);
  t.match(metrics.body, /^# HELP tick_engine_feed_trades_in_total /m, 'the feed metrics are registered');
  t.match(metrics.body, /^# TYPE tick_engine_feed_trade_lag_seconds histogram$/m);
  t.match(await get(base, '/nope'), { status: 404, body: /"code":"TE_NOT_FOUND"/ });
});

t.test('health and readiness from the process: 503 with what is wrong, 200 again once it is right', async (t) => {
  let healthy = false;
  let ready = false;
  const server = await startMetricsServer('127.0.0.1', 0, {
    health: () => (healthy ? { healthy } : { healthy, message: 'BINANCE#0 (2 symbols) has received nothing for 61.0 s', stale: [{ connection: 'BINANCE#0' }] }),
    readiness: () => (ready ? { ready } : { ready, waitingFor: 'venue connections' }),
  });
  t.teardown(() => server.stop());
  const base = `http://127.0.0.1:${server.port}`;
  const h = await get(base, '/health');
  t.equal(h.status, 503);
  t.same(JSON.parse(h.body), { status: 'unhealthy', message: 'BINANCE#0 (2 symbols) has received nothing for 61.0 s', stale: [{ connection: 'BINANCE#0' }] });
  t.same(await get(base, '/ready'), { status: 503, body: '{"status":"waiting","waitingFor":"venue connections"}', type: 'application/json' });
  healthy = ready = true;
  t.equal((await get(base, '/health')).status, 200);
  t.equal((await get(base, '/ready')).status, 200);
});
