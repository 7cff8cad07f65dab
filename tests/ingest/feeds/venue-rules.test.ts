// The venue rules table: documented limits as numbers, keepalive messages and replies, the Binance shutdown notice in
// its three forms, overrides checked, and the TE_FEED_* configuration applied where it belongs.
import t from 'tap';
import { loadConfig } from '../../../src/config.js';
import { configuredRules, VENUE_RULES, venueRules } from '../../../src/ingest/feeds/venue-rules.js';
import { VENUE_ADAPTERS, VENUES } from '../../../src/ingest/venues/index.js';

t.test('the limits the venues document', async (t) => {
  t.equal(VENUE_RULES.BINANCE.symbolsPerConnection, 1024, 'Binance: 1024 streams per connection');
  t.equal(VENUE_RULES.BINANCE.rotateAfterMs, 23 * 3_600_000, 'Binance: replaced an hour before its 24 h');
  t.ok(1000 / VENUE_RULES.BINANCE.subscribeSpacingMs < 5, 'Binance: under 5 incoming messages a second');
  t.equal(VENUE_RULES.BYBIT.symbolsPerRequest, 10, 'Bybit spot: 10 args per request');
  t.ok(VENUE_RULES.BYBIT.symbolsPerConnection * 'publicTrade.XXXXXUSDT",'.length < 21_000, 'Bybit: args under 21,000 characters per connection');
  t.ok(1000 / VENUE_RULES.OKX.connectSpacingMs <= 3, 'OKX: 3 connection requests a second');
  t.ok(
    VENUE_ADAPTERS.OKX.subscribe(Array.from({ length: VENUE_RULES.OKX.symbolsPerRequest }, () => 'BTC-USD-240628-C'))[0]!.length < 4096,
    'OKX: a request under 4096 bytes',
  );
  t.ok(1000 / VENUE_RULES.COINBASE.subscribeSpacingMs < 8, 'Coinbase: under 8 messages a second');
  t.equal(VENUE_RULES.COINBASE.keepalive.kind, 'heartbeat-channel');
  t.ok(
    VENUE_ADAPTERS.COINBASE.subscribe(['BTC-USD']).some((m) => (JSON.parse(m) as { channel: string }).channel === 'heartbeats'),
    'and the adapter subscribes to heartbeats',
  );
  for (const v of VENUES) {
    const r = VENUE_RULES[v];
    t.equal(r.venue, v);
    if (r.keepalive.kind === 'client-ping') t.ok(r.keepalive.intervalMs < r.staleMs, `${v}: the ping goes out before the connection counts as stale`);
    t.equal(r.rotateAfterMs === undefined, v !== 'BINANCE', `${v}: replaced by age only where the venue closes connections at an age`);
  }
});

t.test('keepalive messages and replies', async (t) => {
  const ping = (v: 'OKX' | 'KRAKEN' | 'BYBIT') => {
    const k = VENUE_RULES[v].keepalive;
    if (k.kind !== 'client-ping') throw new Error(`${v} has no client ping`);
    return k;
  };
  t.equal(ping('OKX').message(1), 'ping');
  t.equal(ping('OKX').when, 'after-silence');
  t.ok(ping('OKX').isReply('pong'));
  t.notOk(ping('OKX').isReply('{"event":"pong"}'));
  t.same(JSON.parse(ping('KRAKEN').message(7)), { method: 'ping', req_id: 7 });
  t.ok(ping('KRAKEN').isReply('{"method":"pong","req_id":7,"time_in":"2023-09-25T07:50:01.123456Z","time_out":"2023-09-25T07:50:01.123500Z"}'));
  t.notOk(ping('KRAKEN').isReply('{"channel":"trade","type":"update","data":[{"symbol":"PONG/USD"}]}'), 'a trade that mentions pong is no reply');
  t.same(JSON.parse(ping('BYBIT').message(3)), { req_id: '3', op: 'ping' });
  t.equal(ping('BYBIT').when, 'every');
  t.ok(ping('BYBIT').isReply('{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"}'), 'spot');
  t.ok(ping('BYBIT').isReply('{"req_id":"3","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"}'), 'linear');
  t.notOk(ping('BYBIT').isReply('{"success":true,"ret_msg":"subscribe","op":"subscribe"}'));
  t.notOk(ping('BYBIT').isReply('pong'));
});

t.test("Binance's serverShutdown, raw, wrapped and as the WebSocket API sends it", async (t) => {
  const notice = VENUE_RULES.BINANCE.isShutdownNotice;
  t.ok(notice('{"e":"serverShutdown","E":1770123456789}'));
  t.ok(notice('{"stream":"x","data":{"e":"serverShutdown","E":1770123456789}}'));
  t.ok(notice('{"event":{"e":"serverShutdown","E":1770123456789}}'));
  t.notOk(notice('{"e":"trade","E":1,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1,"m":true,"M":true}'));
  t.notOk(notice('{"e":"serverShutdownSoon"}'));
  t.notOk(notice('serverShutdown'), 'not JSON: not a notice (the adapter reports the frame)');
  t.notOk(notice('{"s":"serverShutdown"}'));
  for (const v of VENUES.filter((v) => v !== 'BINANCE')) t.notOk(VENUE_RULES[v].isShutdownNotice('{"e":"serverShutdown"}'), v);
});

t.test('overrides are checked', async (t) => {
  t.equal(venueRules('OKX', { staleMs: 300 }).staleMs, 300);
  t.equal(venueRules('OKX', { staleMs: 300 }).symbolsPerRequest, VENUE_RULES.OKX.symbolsPerRequest);
  t.throws(() => venueRules('OKX', { staleMs: 0 }), { code: 'TE_INVALID_ARG', message: /OKX connection rule staleMs must be positive/ });
  t.throws(() => venueRules('BYBIT', { symbolsPerConnection: Number.NaN }), { code: 'TE_INVALID_ARG' });
  t.throws(() => venueRules('KRAKEN', { connectSpacingMs: -1 }), { code: 'TE_INVALID_ARG' });
  t.throws(() => venueRules('BINANCE', { rotateAfterMs: 0 }), { code: 'TE_INVALID_ARG' });
});

t.test('TE_FEED_STALE_MS and TE_FEED_ROTATE_AFTER_MS', async (t) => {
  const defaults = loadConfig({ env: {} });
  t.equal(defaults.feedStaleMs, 0);
  t.equal(defaults.feedRotateAfterMs, 82_800_000);
  t.equal(defaults.feedBackoffMaxMs, 30_000);
  t.same(configuredRules('BINANCE', defaults), VENUE_RULES.BINANCE, "defaults: the venue's own rules");
  const set = loadConfig({ env: { TE_FEED_STALE_MS: '5000', TE_FEED_ROTATE_AFTER_MS: '3600000' } });
  t.equal(configuredRules('BINANCE', set).staleMs, 5000);
  t.equal(configuredRules('BINANCE', set).rotateAfterMs, 3_600_000);
  t.equal(configuredRules('KRAKEN', set).staleMs, 5000);
  t.equal(configuredRules('KRAKEN', set).rotateAfterMs, undefined, 'no rotation where the venue sets no age');
  t.throws(() => loadConfig({ env: { TE_FEED_ROTATE_AFTER_MS: '90000000' } }), { code: 'TE_CONFIG', key: 'TE_FEED_ROTATE_AFTER_MS' });
});
