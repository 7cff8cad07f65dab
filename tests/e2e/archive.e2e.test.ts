// The tick archive, exactly once across crashes and outages: while the simulated feed runs, the archive command is
// SIGKILLed at random moments and started again, QuestDB is stopped and restarted and hung (SIGSTOP … SIGCONT), the
// broker hung, and a record that is no tick sits among the ticks. At the end QuestDB's archive
// table holds every tick of the topic once, every field equal to the record's, and REST /api/v1/trades pages
// through one symbol's trades in archive order with no trade skipped or repeated; `replay --archive` gives the offline
// bars of the archived ticks in event-time order.
import t from 'tap';
import { Prng } from '../../src/ingest/prng.js';
import type { Tick } from '../../src/contracts/tick.js';
import { createKafka } from '../../src/stream/kafka.js';
import { schema } from '../../src/stream/schemas.js';
import { decode } from '../../src/stream/serde.js';
import { ensureTopics } from '../../src/stream/topics.js';
import { runCli, waitHttpOk, type CliProcess } from '../helpers/cli.js';
import { injectFault, type FaultKind } from '../helpers/faults.js';
import { freePort, testConfig, testEnv } from '../helpers/env.js';
import { diffBars, offlineBars } from '../helpers/oracle.js';
import { questDbCount, readTopic, waitFor, withPg } from '../helpers/stores.js';
import type { Bar } from '../../src/contracts/bar.js';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KILLS = 6;

/** A tick's identity and every stored field, as one comparable line. */
const line = (x: Omit<Tick, 'sequence'>) =>
  [x.venue, x.symbol, x.tradeId, x.eventTime, x.price, x.size, x.side, x.ingestTime, x.venueSymbol ?? null].map(String).join('|');

t.test(`archive SIGKILLed ${KILLS} times, QuestDB stopped and hung, the broker hung, under a live feed: every tick archived once, REST pages exact`, async (t) => {
  const port = await freePort();
  const env = testEnv({
    TE_SIM_START: '2024-05-01T00:00:00Z',
    TE_SIM_SPEED: '4', // 60 s of event time in ~15 s of wall time, so the kills and outages land while ticks arrive
    TE_SIM_DURATION_S: '60',
    TE_SIM_RATE: '800',
    TE_SIM_SEED: '31',
    TE_GATEWAY_PORT: String(port),
    TE_LOG_LEVEL: 'warn',
  });
  const config = testConfig(env);
  const kafka = createKafka(config, 'archive-test');
  await ensureTopics(kafka, config);
  const rng = new Prng(5);
  const running: CliProcess[] = [];
  t.teardown(async () => {
    for (const p of running) await p.stop();
  });
  const start = () => {
    const p = runCli(['archive'], env);
    running.push(p);
    return p;
  };

  // A record that is no tick, before the feed's: the archive leaves it out (the aggregator dead-letters it).
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: config.topicTicks, messages: [{ key: 'BTC-USD', value: Buffer.from('not an Avro tick') }] });
  await producer.disconnect();

  const ingest = runCli(['ingest'], env);
  running.push(ingest);
  start();
  // Kills, with a QuestDB stop, a QuestDB hang and a broker hang between them.
  const outages: FaultKind[] = ['questdb:stop', 'questdb:hang', 'kafka:hang'];
  const plan = Array.from({ length: KILLS }, (_, i) => ['kill', ...(outages[i] ? [outages[i]] : [])]).flat();
  let kills = 0;
  let exitedOnTheirOwn = 0;
  const faults: string[] = [];
  for (const step of plan) {
    await new Promise((r) => setTimeout(r, 700 + rng.int(1500)));
    if (step !== 'kill') {
      const f = await injectFault(step as FaultKind, 1500 + rng.int(1500), {}, () => rng.next());
      faults.push(`${f.kind} ${f.totalMs} ms`);
      continue;
    }
    const p = running.find((x) => x !== ingest)!;
    if (p.child.exitCode !== null) exitedOnTheirOwn++;
    p.child.kill('SIGKILL');
    await p.exited;
    running.splice(running.indexOf(p), 1);
    kills++;
    start();
  }
  t.equal(await ingest.exited, 0, 'the feed finished (it waited out the broker hang)');
  t.equal(kills, KILLS, `${kills} archive processes killed with SIGKILL`);
  t.same(faults.map((f) => f.split(' ')[0]), outages, `outages: ${faults.join(', ')}`);
  t.equal(exitedOnTheirOwn, 0, 'no archive process exited on its own (each waited out the outages)');

  const records = await readTopic(kafka, config.topicTicks);
  const ticks = records.slice(0).flatMap((r) => {
    try {
      return [decode<Tick>(schema('tick'), r.message.value)];
    } catch {
      return [];
    }
  });
  t.equal(records.length - ticks.length, 1, `${records.length} records: ${ticks.length} ticks and the one that is not`);
  const want = ticks.map(line).sort();
  t.equal(new Set(want).size, want.length, 'the feed wrote each tick once (so a duplicate in the archive is the archive’s)');

  const count = await waitFor(
    () => questDbCount(config.questdbHttp, config.ticksTable),
    (n) => n >= want.length,
    60_000,
    500,
  );
  t.equal(count, want.length, `QuestDB's ${config.ticksTable} holds ${count} rows`);
  const rows = await withPg(config.questdbPgUrl, async (c) => {
    const { rows } = await c.query(
      `SELECT venue, symbol, trade_id, cast(ts AS long) AS ts_us, price, size, side, cast(ingest_time AS long) AS ingest_us, venue_symbol FROM ${config.ticksTable}`,
    );
    return rows as Record<string, unknown>[];
  });
  const got = rows
    .map((r) =>
      line({
        venue: String(r.venue),
        symbol: String(r.symbol),
        tradeId: String(r.trade_id),
        eventTime: Number(r.ts_us),
        price: Number(r.price),
        size: Number(r.size),
        side: String(r.side) as Tick['side'],
        ingestTime: Number(r.ingest_us),
        venueSymbol: (r.venue_symbol as string | null) ?? null,
      }),
    )
    .sort();
  t.same(got, want, 'every tick of the topic archived exactly once, every field equal');

  // Graceful stop: the last archive process ends on SIGTERM with 0.
  const last = running.find((x) => x !== ingest)!;
  t.equal(await last.stop(), 0, 'archive exits 0 on SIGTERM');
  running.splice(running.indexOf(last), 1);

  // The worst case of a crash between a write and its commit: every commit lost. An archive in a new group writes
  // the whole topic again into the same table; the table's identity keys keep each tick once.
  const metricsPort = await freePort();
  const again = runCli(['archive'], { ...env, TE_ARCHIVE_GROUP: `${config.archiveGroupId}-again`, TE_ARCHIVE_METRICS_PORT: String(metricsPort) });
  running.push(again);
  const archivedAgain = await waitFor(
    async () => {
      const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      return Number(/^tick_engine_ticks_archived_total (\d+)/m.exec(text)?.[1] ?? 0);
    },
    (n) => n >= want.length,
    60_000,
    500,
  );
  t.equal(archivedAgain, want.length, `every tick written a second time (${archivedAgain})`);
  // QuestDB applies WAL transactions in the background: give the second writes time to land before counting.
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(await questDbCount(config.questdbHttp, config.ticksTable), want.length, 'still one row per tick');
  await again.stop();
  running.splice(running.indexOf(again), 1);

  // REST: one symbol's trades page by page, in (event time, venue, trade id) order.
  const gateway = runCli(['gateway'], env);
  running.push(gateway);
  await waitHttpOk(`http://127.0.0.1:${port}/ready`, gateway);
  const symbol = ticks[0]!.symbol;
  const mine = ticks
    .filter((x) => x.symbol === symbol)
    .sort(
      (a, b) =>
        a.eventTime - b.eventTime || (a.venue < b.venue ? -1 : a.venue > b.venue ? 1 : 0) || (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0),
    );
  const from = mine[Math.floor(mine.length / 4)]!.eventTime;
  const to = mine[Math.floor((3 * mine.length) / 4)]!.eventTime;
  const expected = mine.filter((x) => x.eventTime >= from && x.eventTime < to).map(line);
  const paged: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = `http://127.0.0.1:${port}/api/v1/trades/${symbol}?from=${from}&to=${to}&limit=37${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await fetch(url);
    t.equal(res.status, 200, `page ${pages + 1}: 200`);
    const body = (await res.json()) as { trades: Omit<Tick, 'sequence'>[]; next: string | null };
    paged.push(...body.trades.map(line));
    cursor = body.next;
    pages++;
  } while (cursor && pages < 1000);
  t.ok(expected.length > 100, `${expected.length} trades of ${symbol} in the range`);
  t.same(paged, expected, `${pages} pages of 37: the range's trades in archive order, none skipped or repeated`);

  // Replay from the archive: its ticks in event-time order (then symbol, venue, trade id) as one partition.
  const out = join(tmpdir(), `archive-replay-${process.pid}.jsonl`);
  t.teardown(() => rmSync(out, { force: true }));
  const replayed = runCli(['replay', '--archive', '--out', out], env);
  t.equal(await replayed.exited, 0, `replay --archive exits 0${replayed.child.exitCode === 0 ? '' : `:\n${replayed.output()}`}`);
  const latest = new Map<string, Bar>();
  for (const l of readFileSync(out, 'utf8').trimEnd().split('\n')) {
    const b = JSON.parse(l) as Bar;
    latest.set(`${b.symbol}|${b.interval}|${b.bucketStart}`, b);
  }
  const inTime = [...ticks].sort(
    (a, b) =>
      a.eventTime - b.eventTime ||
      (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) ||
      (a.venue < b.venue ? -1 : a.venue > b.venue ? 1 : 0) ||
      (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0),
  );
  const oracle = offlineBars(
    inTime.map((x, k) => ({ ...x, partition: 0, offset: k })),
    { intervals: config.intervals, maxOutOfOrder: config.maxOutOfOrderMs * 1000, allowedLateness: config.allowedLatenessMs * 1000 },
  );
  t.ok(oracle.finalBars.length > 1000, `${oracle.finalBars.length} final bars from the archive`);
  t.same(diffBars([...latest.values()], oracle.finalBars), [], 'replay --archive: the offline bars of the archived ticks in event-time order');

  const bad = await fetch(`http://127.0.0.1:${port}/api/v1/trades/${symbol}?cursor=bm9wZQ`);
  t.equal(bad.status, 400, 'a cursor the server did not issue: 400');
  t.match(await bad.json(), { code: 'TE_BAD_REQUEST', message: /cursor/ }, 'naming the cursor');
});
