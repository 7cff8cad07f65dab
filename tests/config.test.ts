// Configuration: defaults, overrides, and start-up failures that name the bad key.
import t from 'tap';
import { CONFIG_SPEC, configMarkdown, loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { VENUES } from '../src/ingest/venues/index.js';

t.test('defaults are valid and typed', async (t) => {
  const c = loadConfig({ env: {} });
  t.same(c.kafkaBrokers, ['127.0.0.1:19092']);
  t.same(
    c.intervals.map((i) => [i.name, i.micros]),
    [
      ['1s', 1e6],
      ['5s', 5e6],
      ['15s', 15e6],
      ['1m', 60e6],
      ['5m', 300e6],
      ['15m', 900e6],
      ['1h', 3600e6],
      ['4h', 4 * 3600e6],
      ['1d', 86400e6],
    ],
    'every interval from 1s to 1d by default',
  );
  t.equal(c.emptyBars, 'skip');
  t.throws(() => loadConfig({ env: { TE_EMPTY_BARS: 'zero' } }), { code: 'TE_CONFIG', message: /TE_EMPTY_BARS/ });
  t.throws(() => loadConfig({ env: { TE_EMPTY_BARS: 'flat', TE_STATE_SNAPSHOT_MS: '0' } }), { code: 'TE_CONFIG', message: /TE_EMPTY_BARS/ });
  t.equal(c.simSymbols, 50);
  t.ok(Object.isFrozen(c));
});

t.test('flags win over env, env over defaults', async (t) => {
  const c = loadConfig({ env: { TE_SIM_RATE: '10', TE_SIM_SEED: '5' }, flags: { TE_SIM_RATE: '20' } });
  t.equal(c.simRate, 20);
  t.equal(c.simSeed, 5);
});

t.test('intervals are sorted and must be multiples of the smallest', async (t) => {
  t.same(
    loadConfig({ env: { TE_INTERVALS: '1m,1s,5s' } }).intervals.map((i) => i.name),
    ['1s', '5s', '1m'],
  );
  t.throws(() => loadConfig({ env: { TE_INTERVALS: '2s,3s' } }), { code: 'TE_CONFIG', key: 'TE_INTERVALS' });
  t.throws(() => loadConfig({ env: { TE_INTERVALS: '1s,1s' } }), { code: 'TE_CONFIG' });
});

t.test('bad values fail naming the key as the user wrote it', async (t) => {
  const cases: [Record<string, string>, Record<string, string>, string][] = [
    [{ TE_SIM_RATE: 'fast' }, {}, 'TE_SIM_RATE'],
    [{}, { TE_SIM_SYMBOLS: '0' }, '--sim-symbols'],
    [{ TE_GATEWAY_PORT: '70000' }, {}, 'TE_GATEWAY_PORT'],
    [{ TE_SINKS: 'postgres,mysql' }, {}, 'TE_SINKS'],
    [{ TE_PG_URL: 'not a url' }, {}, 'TE_PG_URL'],
    [{ TE_SIM_START: 'yesterday' }, {}, 'TE_SIM_START'],
    [{ TE_LOG_LEVEL: 'loud' }, {}, 'TE_LOG_LEVEL'],
    [{ TE_SIM_SEED: '1.5' }, {}, 'TE_SIM_SEED'],
    [{ TE_DAILY_TIMEZONE: 'Mars/Olympus' }, {}, 'TE_DAILY_TIMEZONE'],
    [{ TE_DAILY_TIMEZONE: 'Europe/Paris', TE_INTERVALS: '1d' }, {}, 'TE_DAILY_TIMEZONE'],
    [{ TE_BUCKET_ORIGIN: 'noon' }, {}, 'TE_BUCKET_ORIGIN'],
    [{ TE_SIGNALS: '*@2m=sma_cross' }, {}, 'TE_SIGNALS'],
    [{ TE_SIGNALS: 'BTC-*@*=moon' }, {}, 'TE_SIGNALS'],
    [{ TE_AUTH: 'true' }, {}, 'TE_AUTH'],
    [{ TE_AUTH: 'true', TE_JWT_HS256_SECRET: 'short' }, {}, 'TE_JWT_HS256_SECRET'],
    [{ TE_WS_SOFT_LIMIT_BYTES: '1000000', TE_WS_MAX_BUFFER_BYTES: '100000' }, {}, 'TE_WS_SOFT_LIMIT_BYTES'],
    [{ TE_WS_COMPRESSION: 'zip' }, {}, 'TE_WS_COMPRESSION'],
    [{ TE_FEED_GAP_WAIT_MS: '10000' }, {}, 'TE_FEED_GAP_WAIT_MS'],
    [{ TE_FEED_MAX_HELD_TRADES: '0' }, {}, 'TE_FEED_MAX_HELD_TRADES'],
    [{}, { TE_FEED_FILL_ATTEMPTS: '1.5' }, '--feed-fill-attempts'],
    [{ TE_FEED: 'mtgox', TE_FEED_SYMBOLS: 'BTC-USD' }, {}, 'TE_FEED'],
    [{ TE_FEED: 'binance' }, {}, 'TE_FEED_SYMBOLS'],
    [{}, { TE_FEED: 'okx', TE_FEED_SYMBOLS: '' }, 'TE_FEED_SYMBOLS'],
    [{ TE_FEED: 'binance', TE_FEED_SYMBOLS: 'BTC-USDT', TE_FEED_URL: 'not a url' }, {}, 'TE_FEED_URL'],
    [{ TE_FEED: 'binance', TE_FEED_SYMBOLS: 'BTC-USDT', TE_FEED_REST_URL: '127.0.0.1:9' }, {}, 'TE_FEED_REST_URL'],
  ];
  for (const [env, flags, key] of cases) {
    try {
      loadConfig({ env, flags });
      t.fail(`${key} accepted`);
    } catch (err) {
      t.type(err, ConfigError);
      t.equal((err as ConfigError).code, 'TE_CONFIG');
      t.equal((err as ConfigError).key, key);
      t.match((err as Error).message, key);
    }
  }
});

t.test('the Markdown table lists every key', async (t) => {
  const md = configMarkdown();
  for (const s of Object.values(CONFIG_SPEC)) t.match(md, s.env);
});

t.test('venue feed keys: sim by default; a venue with its symbols; the choices are the adapters’ venues', async (t) => {
  const d = loadConfig({ env: {} });
  t.equal(d.feed, 'sim');
  t.same(d.feedSymbols, []);
  t.equal(d.feedUrl, '');
  t.equal(d.feedRestUrl, '');
  t.equal(d.topicFeedEvents, 'feed.events');
  const c = loadConfig({ env: { TE_FEED: 'binance', TE_FEED_URL: 'ws://127.0.0.1:1/' }, flags: { TE_FEED_SYMBOLS: 'BTC-USDT, ETH-USDT' } });
  t.equal(c.feed, 'binance');
  t.same(c.feedSymbols, ['BTC-USDT', 'ETH-USDT']);
  t.equal(c.feedUrl, 'ws://127.0.0.1:1/');
  t.same(
    CONFIG_SPEC.feed.choices.filter((v) => v !== 'sim'),
    VENUES.map((v) => v.toLowerCase()),
    'TE_FEED names every venue adapter, and sim',
  );
});

t.test('TE_HEAP_GROWTH_PERCENT: 0 (V8 decides) by default, a percent up to 300, anything else named at start-up', async (t) => {
  t.equal(loadConfig({ env: {} }).heapGrowthPercent, 0);
  t.equal(loadConfig({ env: { TE_HEAP_GROWTH_PERCENT: '30' } }).heapGrowthPercent, 30);
  t.equal(loadConfig({ env: {}, flags: { TE_HEAP_GROWTH_PERCENT: '50' } }).heapGrowthPercent, 50);
  for (const bad of ['-1', '301', 'lots', '1.5'])
    t.throws(() => loadConfig({ env: { TE_HEAP_GROWTH_PERCENT: bad } }), { code: 'TE_CONFIG', key: 'TE_HEAP_GROWTH_PERCENT' }, bad);
});
