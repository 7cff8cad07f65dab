// `ingest --file` is exactly once against the real broker: the CLI is SIGKILLed at seeded random moments (during
// start-up, fencing and the marker read, or while it publishes), rerun each time, then run to completion. The ticks
// topic, read read_committed, then holds every trade of the file exactly once with every field as the file has it,
// in file order; the dead-letter topic holds every bad row exactly once. Read read_uncommitted, the topic also holds
// the aborted transactions' copies the kills left: the proof that the test exercised them. Finally the real
// aggregator (a kafkajs consumer with the engine's own options) aggregates the topic: its bars count every trade
// once, so it reads read_committed too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Tick } from '../../src/contracts/tick.js';
import { Prng } from '../../src/ingest/prng.js';
import { createKafka } from '../../src/stream/kafka.js';
import { DLQ_HEADERS } from '../../src/stream/dlq.js';
import { schema } from '../../src/stream/schemas.js';
import { decode } from '../../src/stream/serde.js';
import { cliEnv, runCli, type CliProcess } from '../helpers/cli.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { waitFor, withPg } from '../helpers/stores.js';
import { readWhole } from '../helpers/topic-reader.js';
import { writeZip } from '../helpers/zip.js';

const SEED = Number(process.env.TE_TEST_SEED ?? 20261202);
const TRADES = 60_000;
const BAD_EVERY = 1000;
const ZERO_SIZE_ROW = 500;
const KILLS = 12;
const FILE = 'BTCUSDT-trades-2024-03-01';

interface Expected {
  ticks: Omit<Tick, 'ingestTime'>[];
  badLines: number[];
  badRows: string[];
  text: string;
}

/** A spot trades dump (no header, ms times) and, written down from the same numbers, the ticks it must give. */
function makeDump(rng: Prng): Expected {
  const rows: string[] = [];
  const ticks: Omit<Tick, 'ingestTime'>[] = [];
  const badLines: number[] = [];
  const badRows: string[] = [];
  let price = 61_500_00; // cents
  let ms = Date.UTC(2024, 2, 1);
  for (let i = 0; i < TRADES; i++) {
    const line = i + 1;
    const id = 3_460_000_000 + i;
    price += (rng.u32() % 5) - 2;
    ms += rng.u32() % 11;
    const qtyUnits = 1 + (rng.u32() % 50_000); // in 1e-8 BTC
    const buyerMaker = rng.u32() % 2 === 0;
    const p = `${Math.floor(price / 100)}.${String(price % 100).padStart(2, '0')}000000`;
    const q = `0.${String(qtyUnits).padStart(8, '0')}`;
    if (i % BAD_EVERY === BAD_EVERY - 1 || i === ZERO_SIZE_ROW) {
      // A row cut short (TE_DECODE), or one of size zero (parses, but no trade: TE_INVALID_TICK). Dead-lettered.
      const row = i === ZERO_SIZE_ROW ? `${id},${p},0.00000000,0.0,${ms},True,True` : `${id},${p},${q}`;
      rows.push(row);
      badRows.push(row);
      badLines.push(line);
      continue;
    }
    rows.push(`${id},${p},${q},0.0,${ms},${buyerMaker ? 'True' : 'False'},True`);
    ticks.push({
      venue: 'BINANCE',
      symbol: 'BTC-USDT',
      eventTime: ms * 1000,
      price: price / 100,
      size: qtyUnits / 1e8,
      side: buyerMaker ? 'SELL' : 'BUY',
      tradeId: String(id),
    });
  }
  return { ticks, badLines, badRows, text: rows.join('\n') + '\n' };
}

const readyLine = /"msg":"backfill (starts|resumes after record (\d+))"/;
/** How many transactions a run's output says it committed. */
const commitsIn = (output: string) => output.split('"msg":"transaction committed"').length - 1;

t.test('SIGKILLed at random moments and rerun, the file lands in ticks exactly once', async (t) => {
  const rng = new Prng(SEED);
  const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const expected = makeDump(rng);
  const path = join(dir, `${FILE}.zip`);
  writeZip(path, `${FILE}.csv`, Buffer.from(expected.text));

  const env = testEnv({ TE_BACKFILL_BATCH: '250', TE_LOG_LEVEL: 'debug' });
  const config = testConfig(env);
  const started = Date.now() * 1000;
  const run = () => runCli(['ingest', '--file', path], cliEnv(env));

  let kills = 0;
  let runs = 0;
  const plan: string[] = [];
  /** Records the killed runs' logged commits add up to; a run resumes there, or one transaction later (a kill between a commit and its log line). */
  let loggedUpTo = 0;
  const resumes: { at: number; logged: number }[] = [];
  while (kills < KILLS) {
    const p = run();
    runs++;
    // A third of the kills land anywhere from the start (node start-up, topic checks, the fence, the marker read) to
    // its first commit, whichever comes first (on a fast machine a run publishes the rest of the file in well under a
    // second: a kill timed from the start alone could come after it finished);
    // the rest while the run publishes: after its n-th committed transaction (n from 1 to 25, so the kills spread
    // over the file), and up to 80 ms more — anywhere in the next transaction: sending, committing, or between.
    const early = rng.u32() % 3 === 0;
    const commits = 1 + (rng.u32() % 25);
    const delay = early ? rng.u32() % 1500 : rng.u32() % 80;
    if (early) await Promise.race([new Promise((r) => setTimeout(r, delay)), waitForOutput(p, (out) => commitsIn(out) >= 1, 'commit 1', 60_000)]);
    else {
      await waitForOutput(p, (out) => commitsIn(out) >= commits, `commit ${commits}`, 60_000);
      await Promise.race([new Promise((r) => setTimeout(r, delay)), p.exited]);
    }
    if (p.child.exitCode !== null) {
      t.fail(`run ${runs} finished before its kill (exit ${p.child.exitCode}): the file is too small for ${KILLS} kills\n${p.output()}`);
      break;
    }
    p.child.kill('SIGKILL');
    await p.exited;
    if (p.child.signalCode === 'SIGKILL') kills++;
    const found = readyLine.exec(p.output());
    const committed = commitsIn(p.output());
    if (found) {
      const at = Number(found[2] ?? 0);
      resumes.push({ at, logged: loggedUpTo });
      loggedUpTo = at + committed * 250;
    }
    plan.push(
      `${early ? `${delay} ms after the start or at commit 1` : `${delay} ms after commit ${commits}`}: ${found ? `resumed after record ${found[2] ?? 0}, committed ${committed}` : 'killed before it found its position'}`,
    );
  }
  t.comment(`seed ${SEED}: ${kills} kills: ${plan.join('; ')}`);
  t.equal(kills, KILLS, `${KILLS} runs killed with SIGKILL`);
  t.ok(
    resumes.every((r) => r.at >= r.logged && r.at <= r.logged + 250),
    `each run resumed where the commits before it ended: ${resumes.map((r) => `${r.at} (logged ${r.logged})`).join(', ')}`,
  );
  t.ok(loggedUpTo > TRADES / 4, `the kills spread over the file: the killed runs committed up to record ${loggedUpTo} of ${TRADES}`);

  // Reruns until one completes (one is expected to).
  let last: CliProcess | undefined;
  for (let i = 0; i < 3; i++) {
    last = run();
    runs++;
    if ((await last.exited) === 0) break;
  }
  t.equal(last!.child.exitCode, 0, 'a rerun completes');
  t.match(last!.output(), new RegExp(`published ${TRADES} records`), 'and says so');
  const again = run();
  t.equal(await again.exited, 0, 'a run after completion succeeds');
  t.match(again.output(), /was published completely before: 59939 ticks, 61 dead-lettered rows; nothing to do/, 'a run after completion does nothing');

  const kafka = createKafka(config, 'test');
  const tickSchema = schema('tick');
  const committed = await readWhole(kafka, config.topicTicks, { readUncommitted: false });
  const got = committed.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map((r) => decode<Tick>(tickSchema, r.message.value));
  const ids = new Map<string, number>();
  for (const x of got) ids.set(`${x.venue}/${x.symbol}/${x.tradeId}`, (ids.get(`${x.venue}/${x.symbol}/${x.tradeId}`) ?? 0) + 1);
  const duplicates = [...ids.values()].filter((n) => n > 1).length;
  t.comment(`ticks read_committed: ${got.length} records, ${ids.size} distinct trades, ${duplicates} duplicated; file: ${expected.ticks.length} trades`);
  t.equal(duplicates, 0, 'no trade twice');
  t.equal(got.length, expected.ticks.length, 'as many records as the file has trades');
  t.same(
    // Files know no venue symbol or trade-id sequence: tick schema version 2's fields are null.
    got.map(({ ingestTime, venueSymbol, sequence, ...rest }) => (ingestTime > 0 && venueSymbol === null && sequence === null ? rest : { ...rest, ingestTime })),
    expected.ticks,
    'every trade, every field as the file has it, in the file order',
  );
  t.ok(
    got.every((x) => x.ingestTime >= started && x.ingestTime <= Date.now() * 1000),
    'ingest time: when the run published it',
  );
  t.same(new Set(committed.map((r) => r.message.key!.toString())), new Set(['BTC-USDT']), 'keyed by symbol');

  const uncommitted = await readWhole(kafka, config.topicTicks, { readUncommitted: true });
  t.comment(`ticks read_uncommitted: ${uncommitted.length} records (${uncommitted.length - got.length} in aborted transactions)`);
  t.ok(uncommitted.length > got.length, 'the kills left aborted transactions behind, which read_committed leaves out');

  const letters = await readWhole(kafka, config.topicDlq, { readUncommitted: false });
  const sources = letters.map((r) => r.message.headers![DLQ_HEADERS.source]!.toString());
  t.same(
    sources.sort(),
    expected.badLines.map((l) => `producer:ingest --file ${FILE}.zip line ${l}`).sort(),
    'each bad row dead-lettered exactly once, with where it was',
  );
  const header = (r: (typeof letters)[number], h: string) => r.message.headers![h]!.toString();
  t.same(
    letters.filter((r) => header(r, DLQ_HEADERS.code) === 'TE_INVALID_TICK').map((r) => [header(r, DLQ_HEADERS.source), header(r, DLQ_HEADERS.reason)]),
    [[`producer:ingest --file ${FILE}.zip line ${ZERO_SIZE_ROW + 1}`, `line ${ZERO_SIZE_ROW + 1}: size 0 must be a number > 0 and at most 1e15`]],
    'the zero-size trade as an invalid tick, with its reason',
  );
  t.ok(
    letters.every((r) => header(r, DLQ_HEADERS.code) === 'TE_INVALID_TICK' || /^line \d+: expected 7 fields/.test(header(r, DLQ_HEADERS.reason))),
    'the short rows as undecodable, with their reason',
  );
  t.same(letters.map((r) => r.message.value!.toString()).sort(), [...expected.badRows].sort(), 'and the row as the file has it');

  // The aggregator: its bars must count each trade once (it does not deduplicate; read_uncommitted would count the
  // aborted copies too). In live mode, as the demo runs it: the idle close closes every bar of the file once the
  // partition is caught up — which it only is when the aggregator passes over the transaction marker that ends the
  // partition (a consumer is never handed it), so this also proves that.
  const aggregator = runCli(
    ['aggregate'],
    cliEnv({
      ...env,
      TE_SINKS: 'postgres',
      TE_INTERVALS: '1m',
      TE_SIGNALS: 'off',
      TE_LIVE_UPDATE_MS: '0',
      TE_LOG_LEVEL: 'warn',
      TE_IDLE_CLOSE_MS: '1000',
      TE_IDLE_RECOVERY_MS: '1000',
    }),
  );
  t.teardown(() => aggregator.stop());
  const totals = () =>
    withPg(config.pgUrl, async (c) => {
      try {
        const { rows } = await c.query<{ n: string | null; v: string | null }>(
          `SELECT sum(trade_count) AS n, sum(volume) AS v FROM ${config.barsTable} WHERE bar_interval = '1m' AND final`,
        );
        return { trades: Number(rows[0]?.n ?? 0), volume: Number(rows[0]?.v ?? 0) };
      } catch {
        return { trades: 0, volume: 0 }; // the table is not there yet
      }
    });
  let bars = await waitFor(totals, (x) => x.trades >= expected.ticks.length, 90_000, 500);
  await new Promise((r) => setTimeout(r, 2000));
  bars = await totals();
  const volume = expected.ticks.reduce((s, x) => s + x.size, 0);
  t.comment(`aggregator: final 1m bars count ${bars.trades} trades, volume ${bars.volume} (file: ${expected.ticks.length}, ${volume})`);
  t.equal(bars.trades, expected.ticks.length, "the aggregator's final bars count every trade exactly once");
  t.ok(Math.abs(bars.volume - volume) < 1e-6, 'and their volume is the file’s');
  t.equal(await aggregator.stop(), 0, 'the aggregator stops cleanly');
});

async function waitForOutput(p: CliProcess, seen: (output: string) => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!seen(p.output())) {
    if (p.child.exitCode !== null) return;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
