// The push endpoint against the real broker: batches over HTTP (NDJSON and framed Avro) and WebSocket, retried with
// and without an Idempotency-Key, with duplicates inside a batch, bad records and unauthorised keys, and a restart
// in between; then the ticks, quotes and dead-letter topics are read back: every valid record exactly once, equal
// field by field to what was posted, nothing of a refused batch, every bad record dead-lettered with its reason.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import type { Quote } from '../../src/contracts/quote.js';
import type { Tick } from '../../src/contracts/tick.js';
import { logger } from '../../src/log.js';
import { FRAMED_AVRO } from '../../src/push/framed.js';
import { PushServer } from '../../src/push/server.js';
import { createKafka } from '../../src/stream/kafka.js';
import { schema } from '../../src/stream/schemas.js';
import { decode, encode } from '../../src/stream/serde.js';
import { diffRecords } from '../helpers/compare.js';
import { testConfig, testEnv } from '../helpers/env.js';
import { readTopic } from '../helpers/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'push-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const keysFile = join(dir, 'keys.json');
const KEY = 'push-key-mt5-0123456789';
const OTHER_KEY = 'push-key-other-0123456789';
writeFileSync(
  keysFile,
  JSON.stringify([
    { id: 'mt5-demo', key: KEY, venues: ['MT5-DEMO', 'BRK'], symbols: ['EUR*', 'GBPUSD', 'XAUUSD'] },
    { id: 'other', key: OTHER_KEY, venues: ['OTHER'], symbols: ['*'] },
  ]),
);

const config = testConfig(testEnv({ TE_PUSH_PORT: '0', TE_PUSH_KEYS_FILE: keysFile, TE_PUSH_QUOTE_TICKS: 'EURUSD=mid;GBPUSD=bid' }));
const kafka = createKafka(config, 'test');

// Event times a minute ago, whole milliseconds (MT5's resolution).
const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const OFFSET_S = 7200; // the MT5 server runs on UTC+2
const mt5 = (symbol: string, ms: number, seq: number, flags: number, p: Partial<Record<'bid' | 'ask' | 'last' | 'volume' | 'volume_real', number>> = {}) => ({
  type: 'mt5',
  venue: 'MT5-DEMO',
  symbol,
  time_msc: T0 + OFFSET_S * 1000 + ms,
  bid: 1.1,
  ask: 1.1002,
  last: 0,
  volume: 0,
  flags,
  seq,
  utc_offset_s: OFFSET_S,
  ...p,
});
const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** What each valid record must become on the topics (ingestTime aside): worked out here, not by the engine's code. */
const mtId = (ms: number, seq: number) => `${T0 + OFFSET_S * 1000 + ms}${String(seq).padStart(3, '0')}`;
const us = (ms: number) => (T0 + ms) * 1000;
const q = (symbol: string, ms: number, seq: number, bid: number, ask: number): Omit<Quote, 'ingestTime'> => ({
  venue: 'MT5-DEMO',
  symbol,
  eventTime: us(ms),
  bid,
  ask,
  bidSize: null,
  askSize: null,
  quoteId: mtId(ms, seq),
});
const tr = (venue: string, symbol: string, eventTime: number, price: number, size: number, side: Tick['side'], tradeId: string): Omit<Tick, 'ingestTime'> => ({
  venue,
  symbol,
  eventTime,
  price,
  size,
  side,
  tradeId,
});

// Batch 1 (HTTP, NDJSON): FX quotes (EURUSD's also become mid ticks), an exchange-style deal that moved the book,
// a generic trade, a record repeated inside the batch, and two bad records.
const batch1 = [
  mt5('EURUSD', 0, 0, 6),
  mt5('EURUSD', 0, 1, 2, { bid: 1.1001 }),
  mt5('EURUSD', 5, 0, 4, { bid: 1.1001, ask: 1.1004 }),
  mt5('XAUUSD', 7, 0, 2 + 8 + 16 + 32, { bid: 2050.1, ask: 2050.4, last: 2050.3, volume: 2, volume_real: 1.5 }),
  { type: 'trade', venue: 'BRK', symbol: 'XAUUSD', eventTime: us(8), price: 2050.2, size: 3, side: 'SELL', tradeId: 'B-1' },
  mt5('EURUSD', 0, 0, 6), // the first record again
  { type: 'trade', venue: 'BRK', symbol: 'XAUUSD', eventTime: us(9), price: -1, size: 3, side: 'BUY', tradeId: 'B-2' },
  mt5('EURGBP', 9, 0, 6, { bid: 0.86, ask: 0.85 }),
];
const batch1Quotes = [q('EURUSD', 0, 0, 1.1, 1.1002), q('EURUSD', 0, 1, 1.1001, 1.1002), q('EURUSD', 5, 0, 1.1001, 1.1004), q('XAUUSD', 7, 0, 2050.1, 2050.4)];
const batch1Ticks = [
  tr('MT5-DEMO', 'XAUUSD', us(7), 2050.3, 1.5, 'BUY', mtId(7, 0)),
  tr('BRK', 'XAUUSD', us(8), 2050.2, 3, 'SELL', 'B-1'),
  tr('MT5-DEMO', 'EURUSD', us(0), (1.1 + 1.1002) / 2, 1, 'UNKNOWN', `QM:${mtId(0, 0)}`),
  tr('MT5-DEMO', 'EURUSD', us(0), (1.1001 + 1.1002) / 2, 1, 'UNKNOWN', `QM:${mtId(0, 1)}`),
  tr('MT5-DEMO', 'EURUSD', us(5), (1.1001 + 1.1004) / 2, 1, 'UNKNOWN', `QM:${mtId(5, 0)}`),
];

// Batch 2 (HTTP, framed Avro): a tick and a quote of the broker, plus batch 1's BRK trade again.
const avroTick: Tick = { venue: 'BRK', symbol: 'GBPUSD', eventTime: us(20), price: 1.27, size: 100_000, side: 'BUY', tradeId: '1001', ingestTime: 0 };
const avroQuote: Quote = {
  venue: 'BRK',
  symbol: 'GBPUSD',
  eventTime: us(21),
  bid: 1.2699,
  ask: 1.2701,
  bidSize: 1e6,
  askSize: 2e6,
  quoteId: 'Q-77',
  ingestTime: 0,
};
const batch2 = Buffer.concat([
  encode(schema('tick'), avroTick),
  encode(schema('quote'), avroQuote),
  encode(schema('tick'), { ...avroTick, eventTime: us(8), symbol: 'XAUUSD', price: 2050.2, size: 3, side: 'SELL', tradeId: 'B-1' }),
]);
const batch2Ticks = [
  tr('BRK', 'GBPUSD', us(20), 1.27, 100_000, 'BUY', '1001'),
  tr('BRK', 'GBPUSD', us(21), 1.2699, 1, 'UNKNOWN', 'QB:Q-77'), // GBPUSD quotes become bid ticks
];
const batch2Quotes: Omit<Quote, 'ingestTime'>[] = [
  { venue: 'BRK', symbol: 'GBPUSD', eventTime: us(21), bid: 1.2699, ask: 1.2701, bidSize: 1e6, askSize: 2e6, quoteId: 'Q-77' },
];

// Batch 3 (WebSocket text) and 4 (WebSocket binary).
const batch3 = [mt5('GBPUSD', 30, 0, 6, { bid: 1.27, ask: 1.2702 }), mt5('EURUSD', 31, 0, 24, { last: 1.1003, volume: 1 })];
const batch3Quotes = [q('GBPUSD', 30, 0, 1.27, 1.2702)];
const batch3Ticks = [
  tr('MT5-DEMO', 'GBPUSD', us(30), 1.27, 1, 'UNKNOWN', `QB:${mtId(30, 0)}`),
  tr('MT5-DEMO', 'EURUSD', us(31), 1.1003, 1, 'UNKNOWN', mtId(31, 0)),
];
const batch4Tick: Tick = { venue: 'BRK', symbol: 'EURCHF', eventTime: us(40), price: 0.94, size: 5, side: 'UNKNOWN', tradeId: 'W-1', ingestTime: 0 };
const batch4 = encode(schema('tick'), batch4Tick);
const batch4Ticks = [tr('BRK', 'EURCHF', us(40), 0.94, 5, 'UNKNOWN', 'W-1')];

async function start(): Promise<PushServer> {
  return PushServer.start(config, kafka, logger('push-test'));
}

function post(server: PushServer, body: string | Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}v1/ticks`, { method: 'POST', body, headers });
}

/** Opens a WebSocket with `headers`; resolves once open, or rejects with the refusal's status. */
function connect(server: PushServer, headers: Record<string, string>): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/ticks/ws`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function ask(ws: WebSocket, data: string | Buffer): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    ws.once('message', (m) => resolve(JSON.parse(String(m)) as Record<string, unknown>));
    ws.send(data, { binary: typeof data !== 'string' });
  });
}

const auth = { 'x-api-key': KEY };
const NDJSON = { ...auth, 'content-type': 'application/x-ndjson' };

t.test('push endpoint on the real broker', async (t) => {
  let server = await start();
  t.teardown(() => server.stop());

  await t.test('unauthorised keys are refused with a message, and nothing is written', async (t) => {
    const none = await post(server, ndjson(batch1), { 'content-type': 'application/x-ndjson' });
    t.equal(none.status, 401);
    t.match(await none.json(), { code: 'TE_UNAUTHORIZED', message: /no credentials/ });
    const unknown = await post(server, ndjson(batch1), { 'content-type': 'application/x-ndjson', 'x-api-key': 'wrong-key' });
    t.equal(unknown.status, 401);
    t.match(await unknown.json(), { code: 'TE_UNAUTHORIZED', message: /unknown API key/ });
    const otherVenue = await post(server, ndjson(batch1), { 'content-type': 'application/x-ndjson', 'x-api-key': OTHER_KEY });
    t.equal(otherVenue.status, 403);
    t.match(await otherVenue.json(), { code: 'TE_FORBIDDEN', message: /key:other may not push venue MT5-DEMO, BRK/ });
    const otherSymbol = await post(server, ndjson([mt5('USDJPY', 1, 0, 6, { bid: 150, ask: 150.02 })]), NDJSON);
    t.equal(otherSymbol.status, 403);
    t.match(await otherSymbol.json(), { message: /may not push symbol USDJPY/ });
    await t.rejects(connect(server, {}), /upgrade refused: 401/);
    const wrongType = await post(server, ndjson(batch1), { ...auth, 'content-type': 'application/json' });
    t.equal(wrongType.status, 415);
    t.match(await wrongType.json(), { code: 'TE_UNSUPPORTED_MEDIA_TYPE' });
    const get = await fetch(`${server.url}v1/ticks`, { headers: auth });
    t.equal(get.status, 405);
    const huge = await post(server, 'x'.repeat(config.pushMaxBodyBytes + 1), NDJSON);
    t.equal(huge.status, 413);
    t.match(await huge.json(), { code: 'TE_BAD_REQUEST', message: /larger than 1048576 bytes/ });
    const ws = await connect(server, auth);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(config.pushMaxBodyBytes + 1));
    t.equal(await closed, 1006, 'a WebSocket message past the limit drops the connection');
  });

  let first: Record<string, unknown> = {};
  await t.test('an NDJSON batch: 207, an error per bad record, duplicates inside it written once', async (t) => {
    const res = await post(server, ndjson(batch1), { ...NDJSON, 'idempotency-key': 'batch-1' });
    t.equal(res.status, 207);
    first = (await res.json()) as Record<string, unknown>;
    t.same(first, {
      records: 8,
      accepted: 6,
      rejected: 2,
      written: { trades: 2, quotes: 4, quoteTicks: 3 },
      duplicates: { trades: 0, quotes: 1 },
      errors: [
        { index: 6, line: 7, field: 'price', code: 'TE_INVALID_TICK', reason: 'price -1 must be a number > 0 and at most 1e15' },
        { index: 7, line: 8, field: 'ask', code: 'TE_INVALID_QUOTE', reason: 'ask 0.85 is below bid 0.86 (a crossed quote)' },
      ],
    });
  });

  await t.test('the same batch with the same Idempotency-Key: the same answer, nothing written', async (t) => {
    const res = await post(server, ndjson(batch1), { ...NDJSON, 'idempotency-key': 'batch-1' });
    t.equal(res.status, 207);
    t.equal(res.headers.get('idempotent-replayed'), 'true');
    t.same(await res.json(), first);
    const conflict = await post(server, ndjson(batch1.slice(1)), { ...NDJSON, 'idempotency-key': 'batch-1' });
    t.equal(conflict.status, 422);
    t.match(await conflict.json(), { code: 'TE_IDEMPOTENCY_CONFLICT' });
  });

  await t.test('the same batch without a key: every valid record recognised as written', async (t) => {
    const res = await post(server, ndjson(batch1), NDJSON);
    t.equal(res.status, 207);
    t.match(await res.json(), { accepted: 6, written: { trades: 0, quotes: 0, quoteTicks: 0 }, duplicates: { trades: 2, quotes: 5 } });
  });

  await t.test('a framed Avro batch: ticks and quotes, a record of batch 1 recognised', async (t) => {
    const res = await post(server, batch2, { ...auth, 'content-type': FRAMED_AVRO });
    t.equal(res.status, 200);
    t.match(await res.json(), { records: 3, accepted: 3, written: { trades: 1, quotes: 1, quoteTicks: 1 }, duplicates: { trades: 1, quotes: 0 } });
  });

  await t.test('WebSocket: text and binary batches, a message sent twice written once', async (t) => {
    const ws = await connect(server, auth);
    t.teardown(() => ws.close());
    const a = await ask(ws, ndjson(batch3));
    t.match(a, { type: 'result', seq: 1, status: 200, written: { trades: 1, quotes: 1, quoteTicks: 1 } });
    const again = await ask(ws, ndjson(batch3));
    t.match(again, { type: 'result', seq: 2, status: 200, written: { trades: 0, quotes: 0, quoteTicks: 0 }, duplicates: { trades: 1, quotes: 1 } });
    const bin = await ask(ws, batch4);
    t.match(bin, { type: 'result', seq: 3, status: 200, written: { trades: 1, quotes: 0 } });
    const bad = await ask(ws, Buffer.from([0, 0, 0, 0, 9]));
    t.match(bad, { type: 'error', seq: 4, status: 400, code: 'TE_BAD_REQUEST', message: /schema id 9/ });
    const forbidden = await ask(ws, ndjson([mt5('USDJPY', 1, 0, 6, { bid: 150, ask: 150.02 })]));
    t.match(forbidden, { type: 'error', seq: 5, status: 403, code: 'TE_FORBIDDEN' });
  });

  await t.test('a client that goes away mid-body leaves nothing waiting (the stop below would wait for it)', async (t) => {
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => sock.once('connect', resolve));
    sock.write(`POST /v1/ticks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${KEY}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 5000\r\n\r\n{"type":`);
    await new Promise((r) => setTimeout(r, 100));
    sock.destroy();
    await new Promise((r) => setTimeout(r, 100));
    t.pass('connection dropped with the body incomplete');
  });

  await t.test('after a restart, the identities written before it are read back: a retry writes nothing', async (t) => {
    await server.stop();
    server = await start();
    const res = await post(server, ndjson(batch1), NDJSON);
    t.equal(res.status, 207);
    t.match(await res.json(), { written: { trades: 0, quotes: 0, quoteTicks: 0 }, duplicates: { trades: 2, quotes: 5 } });
    const avro = await post(server, batch2, { ...auth, 'content-type': FRAMED_AVRO });
    t.match(await avro.json(), { written: { trades: 0, quotes: 0, quoteTicks: 0 }, duplicates: { trades: 2, quotes: 1 } });
  });

  await t.test('the topics hold every valid record exactly once, equal to what was posted', async (t) => {
    const ticks = (await readTopic(kafka, config.topicTicks)).map((r) => ({
      key: r.message.key!.toString(),
      headers: r.message.headers,
      tick: decode<Tick>(schema('tick'), r.message.value),
    }));
    const quotes = (await readTopic(kafka, config.topicQuotes)).map((r) => ({
      key: r.message.key!.toString(),
      quote: decode<Quote>(schema('quote'), r.message.value),
    }));
    const strip = <T extends { ingestTime: number }>(x: T): Omit<T, 'ingestTime'> => {
      const copy: Partial<T> = { ...x };
      delete copy.ingestTime;
      // Pushed records know no venue symbol or sequence of their own: null (tick schema version 2) or absent.
      for (const k of ['venueSymbol', 'sequence'] as const)
        if (k in copy && (copy as Record<string, unknown>)[k] == null) delete (copy as Record<string, unknown>)[k];
      return copy as Omit<T, 'ingestTime'>;
    };
    const wantTicks = [...batch1Ticks, ...batch2Ticks, ...batch3Ticks, ...batch4Ticks];
    const wantQuotes = [...batch1Quotes, ...batch2Quotes, ...batch3Quotes];
    t.same(
      diffRecords(
        ticks.map((x) => strip(x.tick)),
        wantTicks,
        (x) => `${x.venue}/${x.symbol}/${x.tradeId}`,
      ),
      [],
      `the ticks topic holds the ${wantTicks.length} ticks, each once`,
    );
    t.same(
      diffRecords(
        quotes.map((x) => strip(x.quote)),
        wantQuotes,
        (x) => `${x.venue}/${x.symbol}/${x.quoteId}`,
      ),
      [],
      `the quotes topic holds the ${wantQuotes.length} quotes, each once`,
    );
    t.ok(
      ticks.every((x) => x.key === x.tick.symbol),
      'keyed by symbol',
    );
    const now = Date.now() * 1000;
    t.ok(
      [...ticks.map((x) => x.tick.ingestTime), ...quotes.map((x) => x.quote.ingestTime)].every((i) => i > now - 600e6 && i <= now),
      'ingest times are the engine’s',
    );
    const marked = ticks.filter((x) => x.headers?.['te-synthetic']).map((x) => `${x.tick.tradeId}=${String(x.headers!['te-synthetic'])}`);
    t.same(
      marked.sort(),
      [`QM:${mtId(0, 0)}=quote-mid`, `QM:${mtId(0, 1)}=quote-mid`, `QM:${mtId(5, 0)}=quote-mid`, 'QB:Q-77=quote-bid', `QB:${mtId(30, 0)}=quote-bid`].sort(),
      'ticks made from quotes carry the te-synthetic header, the others none',
    );
  });

  await t.test('bad records went to the dead-letter topic with their reason, never to ticks or quotes', async (t) => {
    const letters = await readTopic(kafka, config.topicDlq);
    const lines = new Set(letters.map((l) => l.message.value!.toString()));
    t.same([...lines].sort(), [JSON.stringify(batch1[6]), JSON.stringify(batch1[7])].sort(), 'the two bad lines, as sent');
    t.ok(letters.length >= 2, `${letters.length} letters (a retry without the key dead-letters again: at-least-once)`);
    const bad = letters.find((l) => l.message.value!.toString() === JSON.stringify(batch1[7]))!;
    t.equal(bad.message.headers!['te-error-code']!.toString(), 'TE_INVALID_QUOTE');
    t.match(bad.message.headers!['te-error-reason']!.toString(), /^ask: ask 0\.85 is below bid 0\.86/);
    t.match(bad.message.headers!['te-source']!.toString(), /^producer:push:key:mt5-demo#7$/);
  });

  await t.test('metrics and health', async (t) => {
    const m = await (await fetch(`${server.url}metrics`)).text();
    t.match(m, /tick_engine_push_batches_total\{transport="http",status="207"\} \d+/);
    t.match(m, /tick_engine_push_records_total\{kind="quote",outcome="duplicate"\} \d+/);
    t.match(m, /tick_engine_push_identities \d+/);
    t.equal((await fetch(`${server.url}ready`)).status, 200);
  });
});
