// Backup and restore as an operator runs them (the built CLI) against the real stores: bars and signals written into
// PostgreSQL, TimescaleDB and QuestDB with the engine's sinks and ticks into the tick archive; `tick-engine backup`;
// every table wiped (dropped, the migration records of PostgreSQL and TimescaleDB deleted); `tick-engine restore`;
// then every bar, signal and archived tick read back equals what was written. A damaged backup file is refused before
// anything is written.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Bar } from '../../src/contracts/bar.js';
import type { Signal } from '../../src/contracts/signal.js';
import { logger } from '../../src/log.js';
import { createSinks } from '../../src/stores/create-sinks.js';
import { MIGRATIONS_TABLE } from '../../src/stores/migrations.js';
import { questdbExec } from '../../src/stores/questdb/questdb-sink.js';
import { TickArchive } from '../../src/stores/questdb/tick-archive.js';
import type { ArchivedTrade } from '../../src/stores/trade-history.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { diffBars } from '../helpers/oracle.js';
import { questDbCount, readPgBars, readPgSignals, readQuestDbBars, readQuestDbSignals, waitFor, withPg } from '../helpers/stores.js';

const S = 1_000_000;
const t0 = Date.parse('2024-06-01T00:00:00Z') * 1000;

function sampleBars(): Bar[] {
  const out: Bar[] = [];
  for (const [si, symbol] of ['BTC-USD', 'ETH-USD', 'A,"B'].entries())
    for (const [interval, w] of [
      ['1s', S],
      ['1m', 60 * S],
    ] as const)
      for (let k = 0; k < 120; k++) {
        const open = 100 / 3 + si + k * 0.1;
        out.push({
          symbol,
          interval,
          bucketStart: t0 + k * w,
          open,
          high: open + 0.2,
          low: open - 0.1,
          close: open + 0.1 + 0.2,
          volume: 1e-8 + k,
          quoteVolume: (1e-8 + k) * open,
          vwap: open + 0.05,
          tradeCount: k + 1,
          buyVolume: k / 3,
          firstEventTime: t0 + k * w + 17,
          lastEventTime: t0 + k * w + w - 1,
          revision: k % 3,
          final: true,
          complete: k % 3 === 0 ? null : k % 3 === 1,
        });
      }
  return out;
}

function sampleSignals(): Signal[] {
  return Array.from({ length: 40 }, (_, k) => ({
    symbol: k % 2 ? 'BTC-USD' : 'ETH-USD',
    interval: '1m',
    barTime: t0 + k * 60 * S,
    name: (['sma_cross', 'macd_cross', 'rsi_zone', 'bollinger_breakout'] as const)[k % 4]!,
    direction: k % 3 ? 'UP' : 'DOWN',
    values: k % 4 === 2 ? [70 + k / 7] : k % 4 === 3 ? [101.5, 100 + k / 3, 99] : [k / 3, k / 7],
  }));
}

function sampleTicks(): ArchivedTrade[] {
  return Array.from({ length: 500 }, (_, k) => ({
    venue: k % 2 ? 'BINANCE' : 'COINBASE',
    symbol: k % 3 ? 'BTC-USD' : 'ETH-USD',
    tradeId: String(10_000 + k),
    eventTime: t0 + Math.floor(k / 2) * 137_000,
    price: 100 / 3 + k * 0.01,
    size: 0.1 + 0.2 + k,
    side: k % 3 === 0 ? 'SELL' : k % 3 === 1 ? 'BUY' : 'UNKNOWN',
    ingestTime: t0 + k,
    venueSymbol: k % 5 ? null : 'BTCUSDT',
  }));
}

const bySignal = (x: { symbol: string; interval: string; barTime: number; name: string }) => `${x.symbol}|${x.interval}|${x.barTime}|${x.name}`;
const sortSignals = <T extends { symbol: string; interval: string; barTime: number; name: string }>(xs: T[]) =>
  [...xs].sort((a, b) => (bySignal(a) < bySignal(b) ? -1 : 1));
const tickKey = (x: ArchivedTrade) => [x.venue, x.symbol, x.tradeId, x.eventTime, x.price, x.size, x.side, x.ingestTime, x.venueSymbol ?? null].join('|');

async function readTicks(pgUrl: string, table: string): Promise<string[]> {
  return withPg(pgUrl, async (c) => {
    const { rows } = await c.query<Record<string, unknown>>(
      `SELECT venue, symbol, trade_id, cast(ts AS long) AS ts_us, price, size, side, cast(ingest_time AS long) AS ingest_us, venue_symbol FROM ${table}`,
    );
    return rows
      .map((r) =>
        tickKey({
          venue: String(r.venue),
          symbol: String(r.symbol),
          tradeId: String(r.trade_id),
          eventTime: Number(r.ts_us),
          price: Number(r.price),
          size: Number(r.size),
          side: r.side as ArchivedTrade['side'],
          ingestTime: Number(r.ingest_us),
          venueSymbol: (r.venue_symbol as string | null) ?? null,
        }),
      )
      .sort();
  });
}

t.test('backup, wipe every store, restore: every bar, signal and archived tick back, identical', async (t) => {
  const env = testEnv({ TE_SINKS: 'postgres,timescaledb,questdb', TE_PG_IDLE_CLOSE_MS: '0', TE_LOG_LEVEL: 'warn' });
  const config = testConfig(env);
  const dir = mkdtempSync(join(tmpdir(), 'backup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bars = sampleBars();
  const signals = sampleSignals();
  const ticks = sampleTicks();
  const pgUrls = { postgres: config.pgUrl, timescaledb: config.tsdbUrl } as const;

  const wipe = async () => {
    for (const url of Object.values(pgUrls))
      await withPg(url, async (c) => {
        await c.query(`DROP TABLE IF EXISTS ${config.barsTable}_signals`);
        await c.query(`DROP TABLE IF EXISTS ${config.barsTable}`);
        await c.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE target = $1`, [config.barsTable]).catch(() => undefined);
      });
    for (const table of [config.barsTable, `${config.barsTable}_signals`, config.ticksTable])
      await questdbExec(config.questdbHttp, `DROP TABLE IF EXISTS ${table}`);
  };
  t.teardown(wipe);

  for (const sink of createSinks(config, logger('test'))) {
    await sink.init();
    await sink.write(bars);
    await sink.writeSignals!(signals);
    await sink.close();
  }
  const archive = new TickArchive({ httpUrl: config.questdbHttp, table: config.ticksTable, log: logger('test') });
  await archive.init();
  await archive.write(ticks);
  await archive.close();
  await waitFor(
    async () => [await questDbCount(config.questdbHttp, config.barsTable), await questDbCount(config.questdbHttp, config.ticksTable)],
    ([b, k]) => b === bars.length && k === ticks.length,
    30_000,
  );
  await waitFor(
    () => questDbCount(config.questdbHttp, `${config.barsTable}_signals`),
    (n) => n === signals.length,
    30_000,
  );

  const backup = runCli(['backup', '--out', dir], cliEnv(env));
  t.equal(await backup.exited, 0, `backup exits 0${(await backup.exited) === 0 ? '' : `:\n${backup.output()}`}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, { rows: number }> };
  t.same(
    Object.fromEntries(Object.entries(manifest.files).map(([f, v]) => [f, v.rows])),
    {
      'postgres.bars.jsonl': bars.length,
      'postgres.signals.jsonl': signals.length,
      'timescaledb.bars.jsonl': bars.length,
      'timescaledb.signals.jsonl': signals.length,
      'questdb.bars.jsonl': bars.length,
      'questdb.signals.jsonl': signals.length,
      'ticks.jsonl': ticks.length,
    },
    'the manifest counts every row of every store and the archive',
  );

  await wipe();
  t.equal(await questDbCount(config.questdbHttp, config.barsTable), -1, 'wiped: QuestDB has no bars table');
  await withPg(config.pgUrl, async (c) =>
    t.equal((await c.query(`SELECT to_regclass($1) AS t`, [config.barsTable])).rows[0].t, null, 'wiped: PostgreSQL has no bars table'),
  );

  const restore = runCli(['restore', '--from', dir], cliEnv(env));
  t.equal(await restore.exited, 0, `restore exits 0${(await restore.exited) === 0 ? '' : `:\n${restore.output()}`}`);
  await waitFor(
    async () => [
      await questDbCount(config.questdbHttp, config.barsTable),
      await questDbCount(config.questdbHttp, `${config.barsTable}_signals`),
      await questDbCount(config.questdbHttp, config.ticksTable),
    ],
    ([b, s, k]) => b === bars.length && s === signals.length && k === ticks.length,
    30_000,
  );

  for (const [store, url] of Object.entries(pgUrls)) {
    t.same(diffBars(await readPgBars(url, config.barsTable), bars), [], `${store}: every bar back, every field equal`);
    t.same(sortSignals(await readPgSignals(url, `${config.barsTable}_signals`)), sortSignals(signals), `${store}: every signal back`);
  }
  t.same(diffBars(await readQuestDbBars(config.questdbPgUrl, config.barsTable), bars), [], 'questdb: every bar back, every field equal');
  t.same(sortSignals(await readQuestDbSignals(config.questdbPgUrl, `${config.barsTable}_signals`)), sortSignals(signals), 'questdb: every signal back');
  t.same(await readTicks(config.questdbPgUrl, config.ticksTable), ticks.map(tickKey).sort(), 'tick archive: every tick back, every field equal');

  // A damaged file is refused before anything is written.
  appendFileSync(join(dir, 'ticks.jsonl'), '{}\n');
  const refused = runCli(['restore', '--from', dir], cliEnv(env));
  t.equal(await refused.exited, 1, 'a damaged backup: restore refuses');
  t.match(refused.output(), /TE_CONFIG: invalid configuration --from: ticks\.jsonl does not match the manifest/, 'naming the file');
  const again = runCli(['backup', '--out', dir], cliEnv(env));
  t.equal(await again.exited, 1, 'backup into a non-empty directory: refused');
  t.match(again.output(), /--out: .* is not empty/, 'saying so');
});
