// Retry-After as venues send it on a refused upgrade: seconds or an HTTP-date, anything else undefined, never a throw.
import fc from 'fast-check';
import t from 'tap';
import { MAX_RETRY_AFTER_MS, retryAfterMs } from '../../../src/ingest/feeds/retry-after.js';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

t.test('delay-seconds', async (t) => {
  t.equal(retryAfterMs('1', NOW), 1000);
  t.equal(retryAfterMs(' 120 ', NOW), 120_000);
  t.equal(retryAfterMs('0', NOW), 0);
  t.equal(retryAfterMs('1.5', NOW), 1500, 'a fraction, though RFC 9110 says integer');
  t.equal(retryAfterMs('0.0001', NOW), 1, 'rounded up, never down');
  t.equal(retryAfterMs(['2', '9'], NOW), 2000, 'the first of repeated headers');
  t.equal(retryAfterMs('259200', NOW), 259_200_000, "Binance's longest ban: 3 days");
  t.equal(retryAfterMs('99999999999', NOW), MAX_RETRY_AFTER_MS, 'capped at 7 days');
});

t.test('HTTP-date', async (t) => {
  t.equal(retryAfterMs('Fri, 02 Jan 2026 03:04:35 GMT', NOW), 30_000);
  t.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:00 GMT', NOW), 0, 'in the past: no wait');
});

t.test('anything else is no answer (the caller backs off on its own)', async (t) => {
  for (const bad of [undefined, [], '', ' ', '-1', '1e3', '0x10', 'soon', '1 2', 'Fri, 02 Jan 2026', '2026-01-02T03:04:35Z', 'Infinity', 'NaN'])
    t.equal(retryAfterMs(bad as string | string[] | undefined, NOW), undefined, JSON.stringify(bad));
});

t.test('any text: undefined or a wait within [0, 7 days], never a throw', async (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.nat().map(String),
        fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      ),
      (text) => {
        const ms = retryAfterMs(text, NOW);
        return ms === undefined || (Number.isInteger(ms) && ms >= 0 && ms <= MAX_RETRY_AFTER_MS);
      },
    ),
    { numRuns: 2000, seed: 42 },
  );
  t.pass('2000 cases');
});
