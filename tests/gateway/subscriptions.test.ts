// The subscription index: exact symbols and patterns, each client once per stream, patterns limited to what
// the client is entitled to, and removal (one subscription, or all of a closing client) leaves nothing behind.
import t from 'tap';
import { Subscriptions } from '../../src/gateway/subscriptions.js';
import { compileSymbolPatterns } from '../../src/symbol-pattern.js';

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
