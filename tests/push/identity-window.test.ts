// The two memories of the push endpoint, both bounded: identities of written records (by age and count) and kept
// answers to batches with an Idempotency-Key (by age and bytes; same key with another body is 422).
import t from 'tap';
import { IdentityWindow } from '../../src/push/identity-window.js';
import { ReplyCache } from '../../src/push/replies.js';

t.test('identities are forgotten after the window and past the count, oldest first', async (t) => {
  const w = new IdentityWindow(1000, 3);
  w.add('a', 0);
  w.add('b', 500);
  t.ok(w.has('a', 999));
  t.notOk(w.has('a', 1000), 'a is 1000 ms old: forgotten');
  t.ok(w.has('b', 1000));
  w.add('c', 1001);
  w.add('d', 1002);
  w.add('e', 1003);
  t.equal(w.size, 3);
  t.notOk(w.has('b', 1003), 'past the count the oldest went');
  t.ok(w.has('c', 1003) && w.has('e', 1003));
  const off = new IdentityWindow(0, 10);
  off.add('a', 0);
  t.notOk(off.has('a', 0), 'a zero window remembers nothing');
});

t.test('kept answers: replayed for the same body, 422 for another, waited for while in flight', async (t) => {
  const cache = new ReplyCache(60_000, 1 << 20);
  let runs = 0;
  const work = async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 20));
    return { status: 200, body: '{"ok":1}' };
  };
  const [a, b] = await Promise.all([cache.run('key:x', 'k1', 'd1', 0, work), cache.run('key:x', 'k1', 'd1', 0, work)]);
  t.equal(runs, 1, 'the retry in flight waited for the first');
  t.same([a.replayed, b.replayed], [false, true]);
  const c = await cache.run('key:x', 'k1', 'd1', 1000, work);
  t.same(c, { status: 200, body: '{"ok":1}', replayed: true });
  t.equal(runs, 1);
  await t.rejects(cache.run('key:x', 'k1', 'other', 1000, work), { code: 'TE_IDEMPOTENCY_CONFLICT', status: 422 });
  t.equal((await cache.run('key:y', 'k1', 'other', 1000, work)).replayed, false, 'keys are per API key');
  t.equal((await cache.run('key:x', 'k1', 'd1', 61_000, work)).replayed, false, 'after the window the batch runs again');
});

t.test('refusals and failures are not kept; bytes are bounded', async (t) => {
  const cache = new ReplyCache(60_000, 2000);
  await t.rejects(
    cache.run('s', 'k', 'd', 0, async () => {
      throw new Error('broker down');
    }),
  );
  t.equal((await cache.run('s', 'k', 'd', 0, async () => ({ status: 200, body: 'x' }))).replayed, false, 'a failed attempt is run again');
  await cache.run('s', 'k403', 'd', 0, async () => ({ status: 403, body: 'no' }));
  t.equal((await cache.run('s', 'k403', 'd', 0, async () => ({ status: 200, body: 'x' }))).replayed, false, 'a 403 is not kept');
  for (let i = 0; i < 20; i++) await cache.run('s', `big${i}`, 'd', 0, async () => ({ status: 207, body: 'x'.repeat(500) }));
  t.ok(cache.size <= 3, `at most ~2000 bytes of answers kept (${cache.size})`);
  t.equal((await cache.run('s', 'big19', 'd', 0, async () => ({ status: 200, body: '' }))).replayed, true, 'the newest is kept');
});

t.test('identities with non-ASCII names stay distinct', async (t) => {
  const w = new IdentityWindow(1000, 10);
  w.add('t\u0000Ü\u0000€-USD\u0000é', 0);
  t.ok(w.has('t\u0000Ü\u0000€-USD\u0000é', 1));
  t.notOk(w.has('t\u0000U\u0000€-USD\u0000é', 1));
  t.notOk(w.has('t\u0000Ã\u0000€-USD\u0000é', 1), 'not confused with the Latin-1 reading of the same bytes');
});
