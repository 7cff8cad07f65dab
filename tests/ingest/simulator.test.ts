// The simulated feed: reproducible, plausible, out of order only within the configured jitter.
import t from 'tap';
import { FeedSimulator, type SimulatorOptions } from '../../src/ingest/simulator.js';
import { tickProblem } from '../../src/contracts/validate.js';

const opts: SimulatorOptions = { symbols: 50, rate: 1000, seed: 42, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 200_000, venue: 'SIM' };

t.test('same seed, same ticks; another seed, other ticks', async (t) => {
  const a = new FeedSimulator(opts);
  const b = new FeedSimulator(opts);
  const c = new FeedSimulator({ ...opts, seed: 43 });
  const ta = Array.from({ length: 5000 }, () => a.next());
  const tb = Array.from({ length: 5000 }, () => b.next());
  const tc = Array.from({ length: 5000 }, () => c.next());
  // Compared as text: tap's deep diff of 5000 objects is needlessly slow.
  t.equal(JSON.stringify(ta), JSON.stringify(tb));
  t.not(JSON.stringify(ta), JSON.stringify(tc));
});

t.test('ticks are plausible, cover many symbols and both sides', async (t) => {
  const sim = new FeedSimulator(opts);
  const ticks = Array.from({ length: 20000 }, () => sim.next());
  t.equal(ticks.map(tickProblem).filter(Boolean).length, 0, 'every tick validates');
  const symbols = new Set(ticks.map((x) => x.symbol));
  t.equal(symbols.size, 50, 'all 50 symbols trade');
  const sides = new Set(ticks.map((x) => x.side));
  t.same([...sides].sort(), ['BUY', 'SELL', 'UNKNOWN']);
  const ids = new Set(ticks.map((x) => `${x.symbol}/${x.tradeId}`));
  t.equal(ids.size, ticks.length, 'trade ids are unique per symbol');
  // Rate: 20000 ticks at ~1000/s (bursts push it up) cover between 3 and 21 s of feed time.
  const span = (sim.now - opts.start) / 1e6;
  t.ok(span > 3 && span < 21, `span ${span.toFixed(1)} s`);
  // Prices move but stay near where they started over seconds.
  const btc = ticks.filter((x) => x.symbol === 'BTC-USD').map((x) => x.price);
  t.ok(Math.max(...btc) / Math.min(...btc) < 1.05, 'BTC within 5% over a few seconds');
  t.ok(new Set(btc).size > 10, 'BTC price moves');
});

t.test('out-of-order delivery stays within the jitter', async (t) => {
  const sim = new FeedSimulator(opts);
  let maxSeen = -Infinity;
  let worst = 0;
  let disorder = 0;
  for (let i = 0; i < 20000; i++) {
    const x = sim.next();
    if (x.eventTime < maxSeen) {
      disorder++;
      worst = Math.max(worst, maxSeen - x.eventTime);
    }
    maxSeen = Math.max(maxSeen, x.eventTime);
  }
  t.ok(disorder > 1000, `${disorder} ticks arrive out of order`);
  t.ok(worst <= opts.jitter + 1, `worst ${worst} µs ≤ jitter`);
});
