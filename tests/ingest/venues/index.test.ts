// The registry: each venue by name in any case, its real endpoint and documented subscribe messages; TE_FEED named otherwise.
import t from 'tap';
import { ConfigError } from '../../../src/errors.js';
import { adapterFor, VENUE_ADAPTERS, VENUES } from '../../../src/ingest/venues/index.js';

t.test('every venue by name, in any case', async (t) => {
  for (const v of VENUES) {
    t.equal(adapterFor(v).venue, v);
    t.equal(adapterFor(v.toLowerCase()), VENUE_ADAPTERS[v]);
  }
  t.equal(adapterFor(' okx ').venue, 'OKX');
});

t.test('an unknown venue is a configuration error naming TE_FEED', async (t) => {
  for (const bad of ['ftx', '', 'constructor', '__proto__', 'toString', 'BINANCEUS']) {
    t.throws(
      () => adapterFor(bad),
      { code: 'TE_CONFIG', key: 'TE_FEED', message: /^invalid configuration TE_FEED: unknown venue .* \(one of BINANCE, COINBASE, KRAKEN, BYBIT, OKX\)$/ },
      bad,
    );
    t.throws(() => adapterFor(bad), ConfigError);
  }
});

t.test('the real public endpoints', async (t) => {
  t.same(Object.fromEntries(VENUES.map((v) => [v, VENUE_ADAPTERS[v].defaultUrl])), {
    BINANCE: 'wss://stream.binance.com:9443/stream',
    COINBASE: 'wss://advanced-trade-ws.coinbase.com',
    KRAKEN: 'wss://ws.kraken.com/v2',
    BYBIT: 'wss://stream.bybit.com/v5/public/spot',
    OKX: 'wss://ws.okx.com:8443/ws/v5/public',
  });
});

t.test('subscribe messages as the venues document them', async (t) => {
  const parse = (v: keyof typeof VENUE_ADAPTERS, symbols: string[]) => VENUE_ADAPTERS[v].subscribe(symbols).map((m) => JSON.parse(m) as unknown);
  t.same(parse('BINANCE', ['BTCUSDT', 'ETHBTC']), [{ method: 'SUBSCRIBE', params: ['btcusdt@trade', 'ethbtc@trade'], id: 1 }]);
  t.same(parse('COINBASE', ['BTC-USD']), [
    { type: 'subscribe', product_ids: ['BTC-USD'], channel: 'market_trades' },
    { type: 'subscribe', product_ids: ['BTC-USD'], channel: 'heartbeats' },
  ]);
  t.same(parse('KRAKEN', ['BTC/USD']), [{ method: 'subscribe', params: { channel: 'trade', symbol: ['BTC/USD'], snapshot: false } }]);
  t.same(parse('OKX', ['BTC-USDT', 'BTC-USD-SWAP']), [
    {
      op: 'subscribe',
      args: [
        { channel: 'trades', instId: 'BTC-USDT' },
        { channel: 'trades', instId: 'BTC-USD-SWAP' },
      ],
    },
  ]);
  const bybit = parse(
    'BYBIT',
    Array.from({ length: 23 }, (_, i) => `T${i}USDT`),
  ) as { op: string; args: string[] }[];
  t.same(
    bybit.map((m) => m.args.length),
    [10, 10, 3],
    'Bybit: at most 10 topics per request',
  );
  t.same(bybit[0], { op: 'subscribe', args: Array.from({ length: 10 }, (_, i) => `publicTrade.T${i}USDT`) });
});

t.test('engine symbols to venue symbols', async (t) => {
  t.same(
    VENUES.map((v) => VENUE_ADAPTERS[v].venueSymbol('BTC-USDT')),
    ['BTCUSDT', 'BTC-USDT', 'BTC/USDT', 'BTCUSDT', 'BTC-USDT'],
  );
  for (const v of VENUES) t.throws(() => VENUE_ADAPTERS[v].venueSymbol('BTCUSDT'), { code: 'TE_INVALID_ARG' }, v);
});
