// The live chart page in headless Chromium against the real live pipeline: candles appear and the last one changes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { chromium } from 'playwright-core';
import { projectRoot } from '../../src/paths.js';
import { runCli, waitHttpOk } from '../helpers/cli.js';
import { freePort, liveEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/stores.js';

const CHROMIUM = process.env.TE_CHROMIUM ?? '/usr/bin/chromium';

t.test('candles draw and update as ticks flow; signal markers; scrolling back loads history', async (t) => {
  const port = await freePort();
  // Live mode, as in the demo: the feed runs on the wall clock; quiet partitions close on the idle timer.
  const env = liveEnv({
    TE_SIM_RATE: '300',
    TE_SIM_SYMBOLS: '10',
    TE_GATEWAY_PORT: String(port),
    TE_SINKS: 'postgres',
  });
  const procs = [runCli(['gateway'], env), runCli(['aggregate'], env)];
  // Ten minutes of history from 20 minutes ago, older than the 500 bars the page loads first: only
  // scrolling back can bring it in. Then the live feed.
  const backfillStart = Date.now() - 20 * 60_000;
  const backfill = runCli(['ingest'], { ...env, TE_SIM_START: new Date(backfillStart).toISOString(), TE_SIM_SPEED: '0', TE_SIM_DURATION_S: '600' });
  t.equal(await backfill.exited, 0, 'the backfill ran');
  procs.push(runCli(['ingest'], env));
  const liveStart = Date.now() / 1000;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  t.teardown(async () => {
    await browser.close();
    for (const p of procs.reverse()) await p.stop();
  });
  await waitHttpOk(`http://127.0.0.1:${port}/ready`, procs[0]!);
  const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/?symbol=BTC-USD&interval=1s`);
  await page.waitForSelector('#chart canvas', { timeout: 30_000 });
  type State = {
    candles: number;
    lastCandle: { time: number; close: number; trades: number } | null;
    firstTime: number | null;
    markers: number;
    olderPages: number;
  };
  const state = () => page.evaluate(() => (globalThis as unknown as { __tickEngine: unknown }).__tickEngine) as Promise<State>;
  const first = await waitFor(state, (s) => s.candles >= 3, 45_000, 500);
  t.ok(first.candles >= 3, `${first.candles} candles drawn`);
  t.ok(first.lastCandle && first.lastCandle.trades > 0 && first.lastCandle.close > 0, 'the last candle has trades and a price');
  const later = await waitFor(state, (s) => s.lastCandle!.time > first.lastCandle!.time, 15_000, 500);
  t.ok(later.lastCandle!.time > first.lastCandle!.time, `the last candle moved on (${first.lastCandle!.time} → ${later.lastCandle!.time})`);
  t.equal(await page.textContent('#status'), 'live', 'status shows live');
  await waitFor(state, (s) => s.lastCandle!.time >= liveStart + 12, 30_000, 500);
  // A reload draws the past from REST history at once, not only what arrives live afterwards.
  const historyResponse = page.waitForResponse((r) => r.url().includes('/api/v1/bars/BTC-USD') && !r.url().includes('&to='), { timeout: 30_000 });
  await page.reload();
  const history = (await (await historyResponse).json()) as { bars: unknown[] };
  // The first page covers the last 500 bar widths: the live feed's bars so far (the backfill is older).
  t.ok(history.bars.length >= 5, `the history request returned ${history.bars.length} bars of the live feed`);
  const reloaded = await waitFor(state, (s) => s.candles >= history.bars.length, 2_000, 50);
  t.ok(reloaded.candles >= history.bars.length, `all ${history.bars.length} history bars are drawn (${reloaded.candles} candles)`);
  // Signals arrive as markers (the backfill's in the snapshot, live ones as they come).
  const marked = await waitFor(state, (s) => s.markers > 0, 45_000, 500);
  t.ok(marked.markers > 0, `${marked.markers} signal markers drawn`);

  // Drag the chart to the right, into the past, until the page has loaded older bars over REST.
  const before = await state();
  const box = (await page.locator('#chart').boundingBox())!;
  const older = page.waitForResponse((r) => r.url().includes('/api/v1/bars/BTC-USD') && r.url().includes('&to='), { timeout: 30_000 });
  for (let i = 0; i < 6; i++) {
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 10 });
    await page.mouse.up();
  }
  const olderBody = (await (await older).json()) as { bars: { bucketStart: number }[] };
  t.ok(olderBody.bars.length > 0, `the scroll-back request returned ${olderBody.bars.length} older bars`);
  const after = await waitFor(state, (s) => s.olderPages > 0 && s.firstTime! < before.firstTime!, 10_000, 200);
  t.ok(after.olderPages > 0, `${after.olderPages} older page(s) loaded`);
  t.ok(
    after.firstTime! < before.firstTime! && after.firstTime! * 1000 < backfillStart + 600_000,
    `the oldest candle moved back from ${new Date(before.firstTime! * 1000).toISOString()} to ${new Date(after.firstTime! * 1000).toISOString()}, into the backfill`,
  );
  t.ok(after.candles > before.candles, `candles: ${before.candles} → ${after.candles}`);
  t.same(errors, [], 'no page errors');
  const dir = join(projectRoot(), '.local', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, 'chart.png') });
});
