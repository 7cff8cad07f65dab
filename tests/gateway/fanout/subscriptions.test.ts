// The subscription index: exact symbols and patterns, each client once per series, patterns limited to what
// the client is entitled to, and removal (one subscription, or all of a closing client) leaves nothing behind.
import t from 'tap';
import { Subscriptions } from '../../../src/gateway/fanout/subscriptions.js';
import { compileSymbolPatterns } from '../../../src/contracts/symbol-pattern.js';

const client = (name: string, ...entitled: string[]) => ({ name, entitled: compileSymbolPatterns(entitled.length ? entitled : ['*']) });
const names = (cs: { name: string }[]) => cs.map((c) => c.name).sort();

t.test('exact, pattern and entitlement', async (t) => {
  const subs = new Subscriptions<ReturnType<typeof client>>((c, symbol) => c.entitled(symbol));
  const a = client('a');
  const b = client('b', 'BTC-*');
  const c = client('c', 'ETH-USD');
  t.ok(subs.add(a, 'bars', '1s', 'BTC-USD'));
  t.notOk(subs.add(a, 'bars', '1s', 'BTC-USD'), 'twice is once');
  t.ok(subs.add(a, 'bars', '1s', 'BTC-*'), 'a pattern overlapping an exact symbol');
  t.ok(subs.add(b, 'bars', '1s', '*'));
  t.ok(subs.add(c, 'bars', '1s', '*'));
  t.ok(subs.add(c, 'trades', undefined, 'ETH-???'));
  t.same(names(subs.subscribers('bars', '1s', 'BTC-USD')), ['a', 'b'], 'a once; b by pattern; c not entitled');
  t.same(names(subs.subscribers('bars', '1s', 'BTC-EUR')), ['a', 'b']);
  t.same(names(subs.subscribers('bars', '1s', 'ETH-USD')), ['c']);
  t.same(names(subs.subscribers('bars', '1m', 'ETH-USD')), [], 'another interval');
  t.same(names(subs.subscribers('trades', undefined, 'ETH-USD')), ['c']);
  t.same(names(subs.subscribers('trades', undefined, 'ETH-USDT')), [], '? is one character');
  t.equal(subs.size, 5);
  t.equal(subs.count(a), 2);

  t.ok(subs.remove(a, 'bars', '1s', 'BTC-*'));
  t.same(names(subs.subscribers('bars', '1s', 'BTC-EUR')), ['b'], 'the cached resolution is dropped on change');
  t.same(names(subs.subscribers('bars', '1s', 'BTC-USD')), ['a', 'b']);
  t.notOk(subs.remove(a, 'bars', '1s', 'BTC-*'), 'already gone');
  subs.removeClient(b);
  t.same(names(subs.subscribers('bars', '1s', 'BTC-USD')), ['a']);
  subs.removeClient(a);
  subs.removeClient(c);
  t.equal(subs.size, 0, 'nothing left');
  t.same(subs.subscribers('bars', '1s', 'BTC-USD'), []);
});

t.test('a client with tens of thousands of patterns leaves in time linear in its subscriptions', async (t) => {
  // Before: each pattern's removal filtered the client's whole pattern list (and cleared every cached resolution),
  // so a client with 40,000 patterns froze the gateway for 16 s when it disconnected. Removing a client must cost
  // about what adding its subscriptions did (both linear); measured in the same run, so machine speed and load
  // cancel out. Quadratic removal is hundreds of times slower than the adds at this size.
  const subs = new Subscriptions<{ name: string }>();
  const other = { name: 'other' };
  subs.add(other, 'bars', '1s', 'BTC-*');
  subs.add(other, 'bars', '1s', 'ETH-USD');
  const N = 40_000;
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const greedy = { name: `greedy-${round}` };
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) subs.add(greedy, 'bars', i % 2 ? '1s' : '1m', `P${i}-*`);
    const t1 = process.hrtime.bigint();
    t.equal(subs.patternsOf(greedy), N);
    subs.removeClient(greedy);
    const t2 = process.hrtime.bigint();
    t.equal(subs.count(greedy), 0);
    best = Math.min(best, Number(t2 - t1) / Number(t1 - t0));
  }
  t.ok(best < 10, `removing ${N} patterns took ${best.toFixed(2)}× the time of adding them`);
  t.equal(subs.size, 2, 'only the other client is left');
  t.same(names(subs.subscribers('bars', '1s', 'BTC-EUR')), ['other'], 'and it still resolves');
  t.same(names(subs.subscribers('bars', '1m', 'P7-X')), [], 'no pattern of the greedy clients is left');
});

t.test('a pattern change invalidates only its own channel and interval', async (t) => {
  let resolutions = 0;
  const subs = new Subscriptions<{ name: string }>(() => {
    resolutions++;
    return true;
  });
  const a = { name: 'a' };
  subs.add(a, 'bars', '1s', '*');
  subs.subscribers('bars', '1s', 'X');
  subs.subscribers('bars', '1s', 'X');
  t.equal(resolutions, 1, 'resolved once, then cached');
  subs.add(a, 'bars', '1m', 'Y*');
  subs.subscribers('bars', '1s', 'X');
  t.equal(resolutions, 1, 'a pattern on another interval leaves the cache alone');
  subs.add(a, 'bars', '1s', 'Z*');
  subs.subscribers('bars', '1s', 'X');
  t.equal(resolutions, 2, 'a pattern on the same scope invalidates it');
});
