// Push keys (TE_PUSH_KEYS_FILE): API keys only, each with the venues and symbols it may write; a bad file fails
// start-up naming the key and the entry, never quoting a secret.
import { createHash } from 'node:crypto';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { PushKeys } from '../../src/push/keys.js';

const LIMITS = { maxConnections: 2, requestsPerSecond: 10 };
const sha = (k: string) => createHash('sha256').update(k).digest('hex');
const FILE = JSON.stringify([
  { id: 'mt5-icm', key: 'k-icm-0123456789', venues: ['MT5-ICM'], symbols: ['EUR*', 'GBPUSD'] },
  { id: 'broker-b', sha256: sha('k-b-0123456789'), venues: ['BRK-*'], symbols: ['*'], limits: { requestsPerSecond: 500 } },
]);

t.test('each key gets its own venues and symbols', async (t) => {
  const keys = PushKeys.parse(FILE, LIMITS);
  const icm = await keys.authenticate({ apiKey: 'k-icm-0123456789' });
  t.equal(icm.principal.id, 'key:mt5-icm');
  t.ok(icm.venueAllowed('MT5-ICM'));
  t.notOk(icm.venueAllowed('BRK-1'));
  t.ok(icm.symbolAllowed('EURUSD'));
  t.ok(icm.symbolAllowed('GBPUSD'));
  t.notOk(icm.symbolAllowed('USDJPY'));
  t.equal(icm.principal.limits.requestsPerSecond, 10, 'TE_PUSH_LIMIT_RPS by default');
  const b = await keys.authenticate({ authorization: 'ApiKey k-b-0123456789' });
  t.equal(b.principal.id, 'key:broker-b');
  t.ok(b.venueAllowed('BRK-LDN'));
  t.notOk(b.venueAllowed('MT5-ICM'));
  t.ok(b.symbolAllowed('anything'));
  t.equal(b.principal.limits.requestsPerSecond, 500, 'a key’s own limit wins');
  t.ok(keys.anyVenueAllowed('MT5-ICM') && keys.anyVenueAllowed('BRK-X') && !keys.anyVenueAllowed('OTHER'), 'the union, for reading back identities');
});

t.test('unknown, missing keys and JWTs are 401 with a reason', async (t) => {
  const keys = PushKeys.parse(FILE, LIMITS);
  await t.rejects(keys.authenticate({ apiKey: 'nope' }), { code: 'TE_UNAUTHORIZED', status: 401, reason: 'unknown_key' });
  await t.rejects(keys.authenticate({}), { code: 'TE_UNAUTHORIZED', status: 401, reason: 'missing' });
  await t.rejects(keys.authenticate({ authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' }), { code: 'TE_UNAUTHORIZED', message: /accepts no JWTs/ });
});

t.test('bad files fail naming TE_PUSH_KEYS_FILE and the entry, without the key', async (t) => {
  const cases: [string, RegExp][] = [
    ['{', /not valid JSON/],
    ['{}', /JSON array/],
    ['[]', /no keys/],
    [JSON.stringify([{ id: 'a', key: 'secret-key-1', symbols: ['*'] }]), /entry 0 \(id "a"\): venues must be a non-empty array/],
    [JSON.stringify([{ id: 'a', key: 'secret-key-1', symbols: ['*'], venues: [] }]), /entry 0 \(id "a"\): venues/],
    [JSON.stringify([{ id: 'a', key: 'secret-key-1', symbols: ['*'], venues: ['MT5 ICM'] }]), /venue pattern .* whitespace/],
    [JSON.stringify([{ id: 'a', key: 'secret-key-1', symbols: ['*'], venues: ['X'], extra: 1 }]), /entry 0 \(id "a"\): unknown field "extra"/],
    [JSON.stringify([{ id: 'a', symbols: ['*'], venues: ['X'] }]), /exactly one of 'key' or 'sha256'/],
    [
      JSON.stringify([
        { id: 'a', key: 'secret-key-1', symbols: ['*'], venues: ['X'] },
        { id: 'b', key: 'secret-key-1', symbols: ['*'], venues: ['Y'] },
      ]),
      /entry 1 \(id "b"\): same key/,
    ],
  ];
  for (const [text, re] of cases) {
    try {
      PushKeys.parse(text, LIMITS);
      t.fail(`accepted ${text}`);
    } catch (err) {
      t.match(err, { code: 'TE_CONFIG', key: 'TE_PUSH_KEYS_FILE', message: re }, text.slice(0, 60));
      t.notMatch((err as Error).message, /secret-key-1/, 'the key is never quoted');
    }
  }
  t.throws(() => PushKeys.fromConfig(loadConfig({ env: {} })), { code: 'TE_CONFIG', key: 'TE_PUSH_KEYS_FILE', message: /is empty/ });
  t.throws(() => PushKeys.fromConfig(loadConfig({ env: { TE_PUSH_KEYS_FILE: '/nonexistent/keys.json' } })), { code: 'TE_CONFIG', message: /cannot read/ });
});
