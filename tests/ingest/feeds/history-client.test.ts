// The REST client of the venues' histories: requests spaced, a 429/418 (or a venue's refusal in the body) waited out
// for its Retry-After by the request and every later one, failures as VenueRequestError with their status. A fake
// transport on a manual clock for the rules; a real 429 with Retry-After: 1 from the venue stand-in for the wire.
import t from 'tap';
import { VenueRequestError } from '../../../src/errors.js';
import { HistoryClient, type HttpAnswer } from '../../../src/ingest/feeds/history-client.js';
import { krakenRateLimit } from '../../../src/ingest/feeds/kraken-gap-filler.js';
import { feedHistoryRequests } from '../../../src/metrics.js';
import { ManualTimers, settle } from '../../helpers/manual-timers.js';
import { VenueStandin } from '../../../src/standins/venue-standin.js';
import { tradeList } from '../../../src/standins/trade-list.js';

const answer = (status: number, body = '[]', headers: Record<string, string> = {}): HttpAnswer => ({
  status,
  body,
  header: (name) => headers[name.toLowerCase()],
});

/** A transport answering from a script, recording when (on the manual clock) each request was made. */
function scripted(clock: ManualTimers, script: (HttpAnswer | Error)[]) {
  const at: number[] = [];
  return {
    at,
    transport: async (): Promise<HttpAnswer> => {
      at.push(clock.now());
      const next = script.shift() ?? answer(200);
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

async function counted(venue: string, outcome: string): Promise<number> {
  const m = await feedHistoryRequests.get();
  return m.values.find((v) => v.labels.venue === venue && v.labels.outcome === outcome)?.value ?? 0;
}

t.test('requests are spaced by the venue pace, over every caller', async (t) => {
  const clock = new ManualTimers();
  const s = scripted(clock, []);
  const client = new HistoryClient({ venue: 'SPACED', spacingMs: 100, transport: s.transport, timers: clock });
  const start = clock.now();
  const all = Promise.all([client.get('http://x/1'), client.get('http://x/2'), client.get('http://x/3')]);
  await clock.advance(300);
  await all;
  t.same(
    s.at.map((x) => x - start),
    [0, 100, 200],
  );
});

t.test('429 with Retry-After: this request and every later one wait it out, then the answer comes', async (t) => {
  const clock = new ManualTimers();
  const s = scripted(clock, [answer(429, '{"code":"50011"}', { 'retry-after': '2' })]);
  const client = new HistoryClient({ venue: 'LIMITED', spacingMs: 0, transport: s.transport, timers: clock });
  const start = clock.now();
  const first = client.get('http://x/a');
  await settle();
  const second = client.get('http://x/b');
  await clock.advance(2000);
  t.equal((await first).status, 200, 'the refused request succeeds after the wait');
  t.equal((await second).status, 200);
  t.same(
    s.at.map((x) => x - start),
    [0, 2000, 2000],
    'asked again 2 s later; the other request waited too',
  );
  t.equal(await counted('LIMITED', 'rate-limited'), 1);
  t.equal(await counted('LIMITED', 'ok'), 2);
});

t.test('a wait past maxWaitMs, or refusals past `retries`, fail the request at once: VenueRequestError, rateLimited', async (t) => {
  const clock = new ManualTimers();
  const s = scripted(clock, [answer(418, '', { 'retry-after': '120' })]);
  const client = new HistoryClient({ venue: 'BANNED', spacingMs: 0, maxWaitMs: 10_000, transport: s.transport, timers: clock });
  await t.rejects(client.get('http://x/a'), { code: 'TE_VENUE_REQUEST', httpStatus: 418, rateLimited: true, retryAfterMs: 120_000 });
  await t.rejects(client.get('http://x/b'), { code: 'TE_VENUE_REQUEST', rateLimited: true, message: /not sent: the venue asked to wait another 120000 ms/ });
  t.equal(s.at.length, 1, 'nothing sent during the ban');
  await clock.advance(120_000);
  t.equal((await client.get('http://x/c')).status, 200, 'asked again once it is over');

  const c2 = new ManualTimers();
  const s2 = scripted(c2, [answer(429), answer(429), answer(429)]);
  const twice = new HistoryClient({ venue: 'STUBBORN', spacingMs: 0, retries: 2, transport: s2.transport, timers: c2 });
  const p = twice.get('http://x/a');
  p.catch(() => undefined);
  await c2.advance(10_000);
  await t.rejects(p, { code: 'TE_VENUE_REQUEST', httpStatus: 429, rateLimited: true }, 'three 429s without Retry-After: backoff twice, then fail');
  t.equal(s2.at.length, 3);
});

t.test("a venue's refusal in a 200 body (Kraken) counts as a 429", async (t) => {
  const clock = new ManualTimers();
  const nowS = Math.floor(clock.now() / 1000);
  const s = scripted(clock, [answer(200, JSON.stringify({ error: [`EService: Throttled: ${nowS + 3}`] })), answer(200, '{"error":[],"result":{}}')]);
  const client = new HistoryClient({ venue: 'KRAKEN-T', spacingMs: 0, bodyRateLimit: krakenRateLimit, transport: s.transport, timers: clock });
  const start = clock.now();
  const p = client.get('http://x/a');
  await clock.advance(3000);
  t.equal((await p).body, '{"error":[],"result":{}}');
  t.equal(s.at[1]! - start, 3000, 'asked again at the time Kraken named');
  t.equal(krakenRateLimit('{"error":["EGeneral:Too many requests"]}', 0), null, 'a refusal without a time: the backoff');
  t.equal(krakenRateLimit('{"error":["EQuery:Unknown asset pair"]}', 0), undefined, 'other errors are not refusals');
  t.equal(krakenRateLimit('{"error":[],"result":{"XXBTZUSD":[],"last":"1"}}', 0), undefined);
});

t.test('other statuses and network failures: VenueRequestError naming the URL and status, never retried here', async (t) => {
  const clock = new ManualTimers();
  const s = scripted(clock, [answer(500, 'oops'), new Error('ECONNREFUSED')]);
  const client = new HistoryClient({ venue: 'BROKEN', spacingMs: 0, transport: s.transport, timers: clock });
  const err = await client.get('http://x/a').catch((e: unknown) => e);
  t.ok(err instanceof VenueRequestError);
  t.match(err, { code: 'TE_VENUE_REQUEST', httpStatus: 500, rateLimited: false, message: /^BROKEN GET http:\/\/x\/a answered HTTP 500: "oops"$/ });
  await t.rejects(client.get('http://x/b'), { code: 'TE_VENUE_REQUEST', httpStatus: undefined, message: /failed: ECONNREFUSED/ });
  t.equal(s.at.length, 2);
});

t.test('over the wire: the stand-in answers 429 with Retry-After: 1, the client asks again ≥ 1 s later and gets the page', async (t) => {
  const standin = await VenueStandin.start('OKX');
  t.teardown(() => standin.close());
  standin.setHistory(tradeList(['BTC-USDT'], { count: 5 }));
  standin.refuseRest(1, { retryAfter: '1' });
  const client = new HistoryClient({ venue: 'OKX-WIRE', spacingMs: 0 });
  const got = await client.get(`${standin.restUrl}/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=1006&limit=100`);
  t.equal((JSON.parse(got.body) as { data: unknown[] }).data.length, 5);
  const [refused, served] = standin.restRequests;
  t.same([refused!.status, served!.status], [429, 200]);
  t.ok(served!.at - refused!.at >= 1000, `asked again after ${Math.round(served!.at - refused!.at)} ms`);
});
