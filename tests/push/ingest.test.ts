// One batch from bytes to answer, against a stand-in writer: 200/207 with per-record errors, 403 for a venue or
// symbol the key may not write (nothing handed to the writer), Idempotency-Key replays, and 503 when the broker
// does not acknowledge in time.
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { logger } from '../../src/log.js';
import { PushIngest } from '../../src/push/ingest.js';
import { PushKeys } from '../../src/push/keys.js';
import type { BatchWriter, WriteCounts, WriteRequest } from '../../src/push/writer.js';

class FakeWriter implements BatchWriter {
  requests: WriteRequest[] = [];
  delayMs = 0;
  async write(req: WriteRequest): Promise<WriteCounts> {
    this.requests.push(req);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    return { trades: { written: req.trades.length, duplicates: 0 }, quotes: { written: req.quotes.length, duplicates: 0 }, quoteTicks: 0 };
  }
}

const config = loadConfig({ env: { TE_PUSH_ACK_TIMEOUT_MS: '200', TE_LOG_LEVEL: 'silent' } });
const keys = PushKeys.parse(JSON.stringify([{ id: 'icm', key: 'key-icm-1234', venues: ['MT5-ICM'], symbols: ['EUR*'] }]), {
  maxConnections: 1,
  requestsPerSecond: 100,
});
const now = Date.now();
const quote = (symbol: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'mt5', venue: 'MT5-ICM', symbol, time_msc: now, bid: 1.1, ask: 1.1002, flags: 6, ...extra });

t.test('200 when every record is taken, 207 with the errors otherwise', async (t) => {
  const w = new FakeWriter();
  const ingest = new PushIngest(config, w, logger('test'));
  const scope = await keys.authenticate({ apiKey: 'key-icm-1234' });
  const ok = await ingest.batch(scope, 'ndjson', Buffer.from(`${quote('EURUSD')}\n${quote('EURGBP', { seq: 1 })}`));
  t.equal(ok.status, 200);
  t.same(JSON.parse(ok.body), {
    records: 2,
    accepted: 2,
    rejected: 0,
    written: { trades: 0, quotes: 2, quoteTicks: 0 },
    duplicates: { trades: 0, quotes: 0 },
    errors: [],
  });
  const mixed = await ingest.batch(scope, 'ndjson', Buffer.from(`${quote('EURUSD')}\n${quote('EURUSD', { bid: -1 })}`));
  t.equal(mixed.status, 207);
  t.same(JSON.parse(mixed.body).errors, [
    { index: 1, line: 2, field: 'bid', code: 'TE_INVALID_QUOTE', reason: 'bid -1 must be a number > 0 and at most 1e15' },
  ]);
  t.equal(w.requests[1]!.letters.length, 1, 'the rejected record goes to the dead-letter topic');
  t.equal(w.requests[1]!.letters[0]!.code, 'TE_INVALID_QUOTE');
  t.match(w.requests[1]!.letters[0]!.source, { producer: 'push:key:icm#1' });
});

t.test('a venue or symbol the key may not write refuses the batch whole', async (t) => {
  const w = new FakeWriter();
  const ingest = new PushIngest(config, w, logger('test'));
  const scope = await keys.authenticate({ apiKey: 'key-icm-1234' });
  await t.rejects(ingest.batch(scope, 'ndjson', Buffer.from(`${quote('EURUSD')}\n${quote('USDJPY')}`)), {
    status: 403,
    code: 'TE_FORBIDDEN',
    message: /may not push symbol USDJPY: nothing of the batch was written/,
  });
  await t.rejects(ingest.batch(scope, 'ndjson', Buffer.from(quote('EURUSD').replace('MT5-ICM', 'MT5-OTHER'))), { status: 403, message: /venue MT5-OTHER/ });
  t.equal(w.requests.length, 0, 'nothing reached the writer');
});

t.test('Idempotency-Key: the same batch is answered again without writing; another body is 422', async (t) => {
  const w = new FakeWriter();
  const ingest = new PushIngest(config, w, logger('test'));
  const scope = await keys.authenticate({ apiKey: 'key-icm-1234' });
  const body = Buffer.from(quote('EURUSD'));
  const first = await ingest.batch(scope, 'ndjson', body, 'batch-1');
  const again = await ingest.batch(scope, 'ndjson', body, 'batch-1');
  t.equal(first.replayed, false);
  t.equal(again.replayed, true);
  t.equal(again.body, first.body);
  t.equal(w.requests.length, 1);
  await t.rejects(ingest.batch(scope, 'ndjson', Buffer.from(quote('EURGBP')), 'batch-1'), { status: 422, code: 'TE_IDEMPOTENCY_CONFLICT' });
  await t.rejects(ingest.batch(scope, 'ndjson', body, 'has space'), { status: 400, code: 'TE_BAD_REQUEST' });
});

t.test('not acknowledged within TE_PUSH_ACK_TIMEOUT_MS: 503, and nothing kept for the key', async (t) => {
  const w = new FakeWriter();
  w.delayMs = 400;
  const ingest = new PushIngest(config, w, logger('test'));
  const scope = await keys.authenticate({ apiKey: 'key-icm-1234' });
  await t.rejects(ingest.batch(scope, 'ndjson', Buffer.from(quote('EURUSD')), 'slow'), { status: 503, code: 'TE_BROKER_UNAVAILABLE' });
  w.delayMs = 0;
  const retry = await ingest.batch(scope, 'ndjson', Buffer.from(quote('EURUSD')), 'slow');
  t.equal(retry.replayed, false, 'the retry runs (the writer recognises what the first attempt wrote)');
  t.equal(retry.status, 200);
});
