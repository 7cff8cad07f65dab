// Venue symbols ↔ BASE-QUOTE: the longest known quote suffix, Kraken's XBT, dashed instruments kept whole.
import t from 'tap';
import { fromConcatenated, fromDashed, fromSlashed, QUOTE_ASSETS, toConcatenated, toDashed, toSlashed } from '../../../src/ingest/venues/symbols.js';

const L = 'V trade "s" (symbol)';

t.test('concatenated (Binance, Bybit): split at the longest known quote asset', async (t) => {
  const cases: [string, string][] = [
    ['BTCUSDT', 'BTC-USDT'],
    ['NKNUSDT', 'NKN-USDT'],
    ['LRCBTC', 'LRC-BTC'],
    ['BLZETH', 'BLZ-ETH'],
    ['RUNEEUR', 'RUNE-EUR'],
    ['BTCTUSD', 'BTC-TUSD'],
    ['ETHUSDC', 'ETH-USDC'],
    ['BTCUSD', 'BTC-USD'],
    ['USDCUSDT', 'USDC-USDT'],
    ['1000PEPEUSDT', '1000PEPE-USDT'],
    ['btcusdt', 'BTC-USDT'],
  ];
  for (const [venue, engine] of cases) t.equal(fromConcatenated(venue, L), engine, venue);
  for (const bad of ['USDT', 'BTCXYZ', 'BTC-USDT', '', 'BTC USDT']) {
    t.throws(() => fromConcatenated(bad, L), { code: 'TE_DECODE', message: /^V trade "s" \(symbol\) ".*" does not end in a known quote asset/ }, bad);
  }
  t.same(
    QUOTE_ASSETS.map((q) => q.length),
    [...QUOTE_ASSETS.map((q) => q.length)].sort((a, b) => b - a),
    'quotes are tried longest first',
  );
});

t.test('slashed (Kraken): XBT and XDG are BTC and DOGE', async (t) => {
  t.equal(fromSlashed('XBT/USD', L, { kraken: true }), 'BTC-USD');
  t.equal(fromSlashed('XBT/CHF', L, { kraken: true }), 'BTC-CHF');
  t.equal(fromSlashed('KSM/XBT', L, { kraken: true }), 'KSM-BTC');
  t.equal(fromSlashed('XDG/USD', L, { kraken: true }), 'DOGE-USD');
  t.equal(fromSlashed('BTC/USD', L, { kraken: true }), 'BTC-USD', 'v2 names');
  t.equal(fromSlashed('MATIC/USD', L, { kraken: true }), 'MATIC-USD');
  t.equal(fromSlashed('XBT/USD', L, { kraken: false }), 'XBT-USD', 'the aliases are Kraken’s only');
  for (const bad of ['BTCUSD', 'BTC/USD/EUR', '/USD', 'BTC-USD'])
    t.throws(() => fromSlashed(bad, L, { kraken: true }), { code: 'TE_DECODE', message: /is not BASE\/QUOTE$/ }, bad);
});

t.test('dashed (Coinbase, OKX): as is, derivatives keep their suffix', async (t) => {
  t.equal(fromDashed('BTC-USDT', L), 'BTC-USDT');
  t.equal(fromDashed('BTC-USD-SWAP', L), 'BTC-USD-SWAP');
  t.equal(fromDashed('BTC-USD-220527', L), 'BTC-USD-220527');
  t.equal(fromDashed('eth-usd', L), 'ETH-USD');
  for (const bad of ['BTCUSDT', 'BTC-', '-USD', 'BTC/USD', '']) t.throws(() => fromDashed(bad, L), { code: 'TE_DECODE', message: /is not BASE-QUOTE$/ }, bad);
});

t.test('engine symbol → venue symbol, and back', async (t) => {
  t.equal(toConcatenated('BTC-USDT'), 'BTCUSDT');
  t.equal(toConcatenated('btc-usdt'), 'BTCUSDT');
  t.equal(toSlashed('BTC-USD'), 'BTC/USD');
  t.equal(toDashed('BTC-USDT'), 'BTC-USDT');
  t.equal(toDashed('btc-usd-swap'), 'BTC-USD-SWAP');
  for (const bad of ['BTCUSDT', 'BTC-', 'BTC-USD-SWAP', '']) {
    t.throws(() => toConcatenated(bad), { code: 'TE_INVALID_ARG' }, bad);
    t.throws(() => toSlashed(bad), { code: 'TE_INVALID_ARG' }, bad);
  }
  for (const quote of QUOTE_ASSETS) {
    const engine = `ABC-${quote}`;
    t.equal(fromConcatenated(toConcatenated(engine), L), engine, engine);
    t.equal(fromSlashed(toSlashed(engine), L, { kraken: false }), engine);
  }
});
