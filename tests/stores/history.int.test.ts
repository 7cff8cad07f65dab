// REST history against each real store: paginated with a cursor, every bar exact, bad input answered 400.
import t from 'tap';
import type { Bar } from '../../src/contracts/bar.js';
import { createSinks } from '../../src/stores/create-sinks.js';
import { Gateway } from '../../src/gateway/server.js';
import { logger } from '../../src/log.js';
import { createKafka } from '../../src/stream/kafka.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { diffBars } from '../helpers/oracle.js';
import { questDbCount, waitFor } from '../helpers/stores.js';

const M = 60_000_000;
const t0 = Date.parse('2024-05-01T00:00:00Z') * 1000;

function sample(): Bar[] {
  const out: Bar[] = [];
  for (let i = 0; i < 2500; i++) {
    for (const [symbol, interval] of [
      ['A/B', '1m'],
      ['C', '1m'],
      ['A/B', '1s'],
    ] as const) {
      const open = 100 + Math.sin(i) + 1 / 3;
      out.push({
        symbol,
        interval,
        bucketStart: t0 + i * M,
        open,
        high: open + 0.7,
        low: open - 0.3,
        close: open + 0.1,
        volume: 1 + i / 7,
        quoteVolume: (1 + i / 7) * open,
        vwap: open,
        tradeCount: i + 1,
        buyVolume: i / 11,
        firstEventTime: t0 + i * M + 3,
        lastEventTime: t0 + i * M + 59_000_001,
        revision: i % 3,
        final: true,
        // Bar schema version 2: unknown, complete and incomplete bars, read back as they were.
        complete: [null, true, false][i % 3]!,
      });
    }
  }
  return out;
}

for (const store of ['postgres', 'timescaledb', 'questdb'] as const) {
  t.test(`history from ${store}`, async (t) => {
    const config = testConfig(testEnv({ TE_HISTORY_STORE: store, TE_SINKS: store, TE_PG_IDLE_CLOSE_MS: '0' }));
    const all = sample();
    const [sink] = createSinks(config, logger('test'));
    await sink!.init();
    await sink!.write(all);
    await sink!.close();
    if (store === 'questdb')
      await waitFor(
        () => questDbCount(config.questdbHttp, config.barsTable),
        (n) => n === all.length,
        30_000,
      );
    const gw = new Gateway(config, createKafka(config, 'test'), logger('test'));
    await gw.start();
    t.teardown(() => gw.stop());
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${gw.port}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    // Page through [from, to) with a cursor.
    const from = new Date((t0 + 100 * M) / 1000).toISOString();
    const to = String(t0 + 2300 * M); // µs form
    const got: Bar[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(`/api/v1/bars/${encodeURIComponent('A/B')}?interval=1m&from=${from}&to=${to}&limit=700${cursor ? `&cursor=${cursor}` : ''}`);
      t.equal(r.status, 200);
      got.push(...(r.body.bars as Bar[]));
      cursor = r.body.next as string | null;
      pages++;
    } while (cursor && pages < 10);
    const want = all.filter((b) => b.symbol === 'A/B' && b.interval === '1m' && b.bucketStart >= t0 + 100 * M && b.bucketStart < t0 + 2300 * M);
    t.equal(pages, 4, '2,200 bars in pages of 700');
    t.same(diffBars(got, want), [], 'every bar in range, once, every field exact');
    t.same(
      got.map((b) => b.bucketStart),
      [...got.map((b) => b.bucketStart)].sort((a, b) => a - b),
      'ascending',
    );

    // Bad input: 400 with a code and a message, never a 5xx.
    for (const [q, re] of [
      ['', /interval is required/],
      ['?interval=2h', /interval must be one of/],
      ['?interval=1m&limit=0', /limit/],
      ['?interval=1m&limit=99999', /limit/],
      ['?interval=1m&limit=ten', /limit/],
      ['?interval=1m&from=2024-06-01&to=2024-05-01', /from must be before to/],
      ['?interval=1m&from=yesterday', /from must be/],
      ['?interval=1m&cursor=bm9wZQ', /cursor/],
      ['?interval=1m&sort=desc', /unknown parameter 'sort'/],
    ] as const) {
      const r = await get(`/api/v1/bars/C${q}`);
      t.equal(r.status, 400, `400 for ${q || '(no parameters)'}`);
      t.equal(r.body.code, 'TE_BAD_REQUEST');
      t.match(r.body.message as string, re);
    }
    const missing = await get('/api/v1/nothing');
    t.equal(missing.status, 404);
    t.equal(missing.body.code, 'TE_NOT_FOUND');
  });
}
