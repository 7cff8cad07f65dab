// Gateway authentication with real jose-signed tokens (HS256, RS256), API keys, entitlements and admission limits.
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { CompactSign, SignJWT, exportPKCS8, exportSPKI, generateKeyPair, type JWTPayload } from 'jose';
import { AuthError } from '../../../src/errors.js';
import { Admission, Authenticator, type AuthOptions, type Credentials, type Limits, type Principal } from '../../../src/gateway/auth/auth.js';

const SECRET = 'hs256-test-secret-0123456789abcdef';
const OTHER_SECRET = 'hs256-other-secret-0123456789abcdef';
const AUD = 'tick-engine';
const ISS = 'https://issuer.test';
const PLAIN_KEY = 'plain-key-0123456789abcdef';
const HASHED_KEY = 'hashed-key-0123456789abcdef';
const defaults: Limits = { maxConnections: 3, maxSubscriptions: 10, requestsPerSecond: 5 };

const rsa = await generateKeyPair('RS256', { extractable: true });
const otherRsa = await generateKeyPair('RS256');
const rsPem = await exportSPKI(rsa.publicKey);

function options(over: Partial<AuthOptions> = {}): AuthOptions {
  return {
    enabled: true,
    hs256Secret: SECRET,
    rs256PublicKeyPem: rsPem,
    audience: AUD,
    issuer: ISS,
    apiKeys: [
      { id: 'plain', key: PLAIN_KEY, symbols: ['BTC-*'] },
      { id: 'hashed', sha256: createHash('sha256').update(HASHED_KEY).digest('hex'), symbols: ['ETH-USD'], limits: { maxConnections: 1 } },
    ],
    defaults,
    ...over,
  };
}

const now = () => Math.floor(Date.now() / 1000);

interface SignOpts {
  alg?: 'HS256' | 'HS512' | 'RS256';
  key?: Parameters<SignJWT['sign']>[0];
  claims?: JWTPayload;
  omit?: ('exp' | 'sub' | 'aud' | 'iss' | 'symbols')[];
}

async function sign({ alg = 'HS256', key, claims = {}, omit = [] }: SignOpts = {}): Promise<string> {
  const base: JWTPayload = { sub: 'alice', aud: AUD, iss: ISS, exp: now() + 300, symbols: ['BTC-*', 'ETH-USD'], ...claims };
  for (const k of omit) delete base[k];
  const k = key ?? (alg === 'RS256' ? rsa.privateKey : new TextEncoder().encode(SECRET));
  return new SignJWT(base).setProtectedHeader({ alg }).setIssuedAt().sign(k);
}

// The failure's status/reason/code, and that its message does not echo the credential.
async function refused(t: Test, auth: Authenticator, c: Credentials, want: { status: number; reason: string }, name: string) {
  const err = await auth.authenticate(c).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof AuthError, `${name}: AuthError`);
  if (!(err instanceof AuthError)) return;
  const code = { 401: 'TE_UNAUTHORIZED', 403: 'TE_FORBIDDEN', 429: 'TE_RATE_LIMITED' }[want.status];
  t.match({ status: err.status, reason: err.reason, code: err.code, name: err.name }, { ...want, code, name: 'AuthError' }, name);
  for (const secret of [c.authorization, c.apiKey, c.token, SECRET, PLAIN_KEY, HASHED_KEY]) {
    const s = secret?.replace(/^\S+\s+/, '');
    if (s && s.length > 8) t.notOk(err.message.includes(s), `${name}: message does not echo a credential`);
  }
}

const auth = new Authenticator(options());

t.test('valid HS256 bearer token', async (t) => {
  const p = await auth.authenticate({ authorization: `Bearer ${await sign()}` });
  t.match(p, { id: 'jwt:alice', kind: 'jwt', symbols: ['BTC-*', 'ETH-USD'], limits: defaults });
  t.equal(p.entitled('BTC-USD'), true);
  t.equal(p.entitled('ETH-USD'), true);
  t.equal(p.entitled('ETH-EUR'), false);
  // The scheme is case-insensitive; surrounding whitespace is ignored.
  t.equal((await auth.authenticate({ authorization: `  bearer ${await sign()} ` })).id, 'jwt:alice');
});

t.test('valid RS256 token, from ?token=', async (t) => {
  const p = await auth.authenticate({ token: await sign({ alg: 'RS256', claims: { sub: 'bob' } }) });
  t.match(p, { id: 'jwt:bob', kind: 'jwt', limits: defaults });
});

t.test('no credentials', async (t) => {
  await refused(t, auth, {}, { status: 401, reason: 'missing' }, 'nothing');
  await refused(t, auth, { authorization: '', apiKey: '  ', token: '' }, { status: 401, reason: 'missing' }, 'empty values');
});

t.test('expiry', async (t) => {
  await refused(t, auth, { token: await sign({ claims: { exp: now() - 60 } }) }, { status: 401, reason: 'expired' }, 'expired a minute ago');
  await refused(t, auth, { token: await sign({ alg: 'RS256', claims: { exp: now() - 60 } }) }, { status: 401, reason: 'expired' }, 'RS256 expired');
  t.equal((await auth.authenticate({ token: await sign({ claims: { exp: now() - 2 } }) })).id, 'jwt:alice', 'within the 5 s clock tolerance');
  await refused(t, auth, { token: await sign({ omit: ['exp'] }) }, { status: 401, reason: 'malformed' }, 'exp is required');
});

t.test('wrong signature', async (t) => {
  const other = new TextEncoder().encode(OTHER_SECRET);
  await refused(t, auth, { token: await sign({ key: other }) }, { status: 401, reason: 'bad_signature' }, 'other HS256 secret');
  await refused(t, auth, { token: await sign({ alg: 'RS256', key: otherRsa.privateKey }) }, { status: 401, reason: 'bad_signature' }, 'other RSA key');
  // A payload swapped in under a valid signature.
  const [h, , s] = (await sign()).split('.');
  const forged = Buffer.from(JSON.stringify({ sub: 'mallory', aud: AUD, iss: ISS, exp: now() + 300, symbols: ['*'] })).toString('base64url');
  await refused(t, auth, { token: `${h}.${forged}.${s}` }, { status: 401, reason: 'bad_signature' }, 'tampered payload');
});

t.test('audience and issuer', async (t) => {
  await refused(t, auth, { token: await sign({ claims: { aud: 'someone-else' } }) }, { status: 401, reason: 'bad_audience' }, 'wrong aud');
  await refused(t, auth, { token: await sign({ omit: ['aud'] }) }, { status: 401, reason: 'bad_audience' }, 'missing aud');
  t.equal((await auth.authenticate({ token: await sign({ claims: { aud: ['x', AUD] } }) })).id, 'jwt:alice', 'aud list containing ours');
  await refused(t, auth, { token: await sign({ claims: { iss: 'https://evil.test' } }) }, { status: 401, reason: 'bad_issuer' }, 'wrong iss');
  await refused(t, auth, { token: await sign({ omit: ['iss'] }) }, { status: 401, reason: 'bad_issuer' }, 'missing iss');
  // Neither configured: neither checked.
  const lax = new Authenticator(options({ audience: undefined, issuer: undefined }));
  t.equal((await lax.authenticate({ token: await sign({ omit: ['aud', 'iss'] }) })).id, 'jwt:alice');
});

t.test('algorithms not configured', async (t) => {
  const rsOnly = new Authenticator(options({ hs256Secret: undefined }));
  await refused(t, rsOnly, { token: await sign() }, { status: 401, reason: 'unsupported_alg' }, 'HS256 token, only RS256 configured');
  t.equal((await rsOnly.authenticate({ token: await sign({ alg: 'RS256' }) })).kind, 'jwt');
  const hsOnly = new Authenticator(options({ rs256PublicKeyPem: undefined }));
  await refused(t, hsOnly, { token: await sign({ alg: 'RS256' }) }, { status: 401, reason: 'unsupported_alg' }, 'RS256 token, only HS256 configured');
  await refused(t, auth, { token: await sign({ alg: 'HS512' }) }, { status: 401, reason: 'unsupported_alg' }, 'HS512');
  const keysOnly = new Authenticator(options({ hs256Secret: undefined, rs256PublicKeyPem: undefined }));
  await refused(t, keysOnly, { token: await sign() }, { status: 401, reason: 'unsupported_alg' }, 'no JWT algorithms configured');
  t.equal((await keysOnly.authenticate({ apiKey: PLAIN_KEY })).id, 'key:plain', 'API keys still work');
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${b64({ alg: 'none' })}.${b64({ sub: 'mallory', aud: AUD, iss: ISS, exp: now() + 300, symbols: ['*'] })}.`;
  await refused(t, auth, { token: unsigned }, { status: 401, reason: 'unsupported_alg' }, "alg 'none'");
});

t.test('malformed', async (t) => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  for (const [name, c] of [
    ['not a JWT', { token: 'not-a-jwt' }],
    ['three garbage parts', { token: 'aaa.bbb.ccc' }],
    ['header not JSON', { token: `${Buffer.from('nope').toString('base64url')}.e30.sig` }],
    ['header without alg', { token: `${b64({ typ: 'JWT' })}.e30.c2ln` }],
    ['huge token', { token: 'a'.repeat(10_000) }],
    ['Basic scheme', { authorization: 'Basic dXNlcjpwYXNzd29yZA==' }],
    ['bare token without scheme', { authorization: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJlLXNpZw' }],
    ['Bearer without token', { authorization: 'Bearer' }],
    ['Bearer with two words', { authorization: 'Bearer a b' }],
  ] as const) {
    await refused(t, auth, c, { status: 401, reason: 'malformed' }, name);
  }
  // Correctly signed, but the payload is not a JSON claims set.
  const notClaims = await new CompactSign(new TextEncoder().encode('nope')).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  await refused(t, auth, { token: notClaims }, { status: 401, reason: 'malformed' }, 'payload not JSON');
  await refused(t, auth, { token: await sign({ omit: ['sub'] }) }, { status: 401, reason: 'malformed' }, 'missing sub');
  await refused(t, auth, { token: await sign({ claims: { sub: '' } }) }, { status: 401, reason: 'malformed' }, 'empty sub');
  await refused(t, auth, { token: await sign({ claims: { nbf: now() + 600 } }) }, { status: 401, reason: 'malformed' }, 'not yet valid');
});

t.test('API keys', async (t) => {
  const plain = await auth.authenticate({ apiKey: PLAIN_KEY });
  t.match(plain, { id: 'key:plain', kind: 'apikey', symbols: ['BTC-*'], limits: defaults });
  t.equal(plain.entitled('BTC-EUR'), true);
  t.equal(plain.entitled('ETH-USD'), false);
  t.equal((await auth.authenticate({ authorization: `ApiKey ${PLAIN_KEY}` })).id, 'key:plain', 'Authorization: ApiKey');
  t.equal((await auth.authenticate({ authorization: `apikey ${PLAIN_KEY}` })).id, 'key:plain', 'scheme case-insensitive');
  const hashed = await auth.authenticate({ apiKey: HASHED_KEY });
  t.match(hashed, { id: 'key:hashed', kind: 'apikey', symbols: ['ETH-USD'] });
  t.same(hashed.limits, { ...defaults, maxConnections: 1 }, 'own limits over defaults');
  t.equal(hashed.entitled('ETH-USD'), true);
  t.equal(hashed.entitled('ETH-USDT'), false);
  await refused(t, auth, { apiKey: 'not-a-known-key-0123456789' }, { status: 401, reason: 'unknown_key' }, 'unknown key');
  await refused(t, auth, { authorization: 'ApiKey not-a-known-key-0123456789' }, { status: 401, reason: 'unknown_key' }, 'unknown key in header');
  await refused(t, auth, { apiKey: PLAIN_KEY.toUpperCase() }, { status: 401, reason: 'unknown_key' }, 'keys are case-sensitive');
  const hashOfPlain = createHash('sha256').update(PLAIN_KEY).digest('hex');
  await refused(t, auth, { apiKey: hashOfPlain }, { status: 401, reason: 'unknown_key' }, "a key's digest is not the key");
  const none = new Authenticator(options({ apiKeys: [] }));
  await refused(t, none, { apiKey: PLAIN_KEY }, { status: 401, reason: 'unknown_key' }, 'no keys configured');
});

t.test('credential precedence: Authorization, then apiKey, then token', async (t) => {
  const jwt = await sign();
  t.equal((await auth.authenticate({ authorization: `Bearer ${jwt}`, apiKey: 'junk-junk-junk', token: 'junk' })).id, 'jwt:alice');
  t.equal((await auth.authenticate({ apiKey: PLAIN_KEY, token: 'junk' })).id, 'key:plain');
  t.equal((await auth.authenticate({ apiKey: '', token: jwt })).id, 'jwt:alice', 'an empty apiKey is absent');
  await refused(t, auth, { authorization: 'Bearer junk', apiKey: PLAIN_KEY }, { status: 401, reason: 'malformed' }, 'a bad Authorization is not skipped');
});

t.test('entitlements from the symbols claim', async (t) => {
  const principal = async (claims: JWTPayload, omit: SignOpts['omit'] = []) => auth.authenticate({ token: await sign({ claims, omit }) });
  const check = (p: Principal, yes: string[], no: string[]) => {
    for (const s of yes) t.equal(p.entitled(s), true, `${p.symbols.join(',')} allows ${s}`);
    for (const s of no) t.equal(p.entitled(s), false, `${JSON.stringify(p.symbols)} refuses ${s}`);
  };
  check(await principal({ symbols: ['BTC-*'] }), ['BTC-USD', 'BTC-EUR', 'BTC-'], ['ETH-USD', 'btc-usd', 'XBTC-USD']);
  check(await principal({ symbols: ['ETH-USD'] }), ['ETH-USD'], ['ETH-USDT', 'ETH-US', 'BTC-USD']);
  check(await principal({ symbols: ['SOL-US?'] }), ['SOL-USD', 'SOL-USX'], ['SOL-US', 'SOL-USDT']);
  check(await principal({ symbols: ['*'] }), ['BTC-USD', 'anything'], []);
  const none = await principal({ symbols: [] });
  t.same(none.symbols, []);
  check(none, [], ['BTC-USD', '*']);
  for (const [name, claims, omit] of [
    ['missing claim', {}, ['symbols']],
    ['not an array', { symbols: '*' }, []],
    ['non-string item', { symbols: ['BTC-*', 1] }, []],
    ['invalid pattern', { symbols: ['BTC-*', 'BTC USD'] }, []],
    ['empty pattern', { symbols: [''] }, []],
  ] satisfies [string, JWTPayload, SignOpts['omit']][]) {
    const p = await principal(claims, omit);
    t.same(p.symbols, [], `${name}: no symbols`);
    t.equal(p.entitled('BTC-USD'), false, `${name}: entitled to nothing`);
  }
});

t.test('disabled: anonymous, entitled to everything, default limits', async (t) => {
  const off = new Authenticator(options({ enabled: false }));
  for (const c of [{}, { token: 'garbage' }, { apiKey: 'unknown' }, { authorization: 'Basic x' }] as Credentials[]) {
    const p = await off.authenticate(c);
    t.match(p, { id: 'anonymous', kind: 'anonymous', symbols: ['*'], limits: defaults }, JSON.stringify(c));
    t.equal(p.entitled('BTC-USD'), true);
    t.equal(p.entitled('ANYTHING.AT:ALL'), true);
  }
});

t.test('Admission: connection limit and release', async (t) => {
  const adm = new Admission();
  const limited = (id: string, maxConnections: number): Principal => ({
    id,
    kind: 'apikey',
    symbols: [],
    entitled: () => false,
    limits: { ...defaults, maxConnections },
  });
  const a = limited('key:a', 2);
  const b = limited('key:b', 1);
  const r1 = adm.acquireConnection(a);
  const r2 = adm.acquireConnection(a);
  t.throws(() => adm.acquireConnection(a), { name: 'AuthError', status: 429, reason: 'over_limit', code: 'TE_RATE_LIMITED', message: /key:a.*at most 2/ });
  const rb = adm.acquireConnection(b);
  t.throws(() => adm.acquireConnection(b), { name: 'AuthError', status: 429, reason: 'over_limit' }, 'each principal has its own count');
  r1();
  const r3 = adm.acquireConnection(a);
  t.throws(() => adm.acquireConnection(a), { name: 'AuthError', status: 429, reason: 'over_limit' }, 'full again');
  r1(); // releasing twice gives nothing back
  t.throws(() => adm.acquireConnection(a), { name: 'AuthError', status: 429, reason: 'over_limit' }, 'double release is a no-op');
  r2();
  r3();
  const r4 = adm.acquireConnection(a);
  const r5 = adm.acquireConnection(a);
  r4();
  r5();
  rb();
  t.doesNotThrow(() => adm.acquireConnection(b)());
  // Real principals with the same id share one count.
  const keyed = await auth.authenticate({ apiKey: HASHED_KEY });
  const rk = adm.acquireConnection(keyed);
  t.throws(() => adm.acquireConnection(keyed), { name: 'AuthError', status: 429, reason: 'over_limit' }, "the entry's own maxConnections (1)");
  rk();
});

t.test('Admission: token bucket with an injected clock', async (t) => {
  let clock = 1_000_000;
  const adm = new Admission(() => clock);
  const p: Principal = { id: 'jwt:rate', kind: 'jwt', symbols: [], entitled: () => false, limits: { ...defaults, requestsPerSecond: 5 } };
  const over = { name: 'AuthError', status: 429, reason: 'over_limit', code: 'TE_RATE_LIMITED', message: /5 per second/ };
  for (let i = 0; i < 5; i++) t.doesNotThrow(() => adm.allowRequest(p), `burst ${i + 1}`);
  t.throws(() => adm.allowRequest(p), over, 'sixth at once is refused');
  clock += 100; // half a token
  t.throws(() => adm.allowRequest(p), over, 'not refilled yet');
  clock += 100; // one token
  t.doesNotThrow(() => adm.allowRequest(p), 'refilled one');
  t.throws(() => adm.allowRequest(p), over);
  clock += 10_000; // refill caps at the capacity
  for (let i = 0; i < 5; i++) t.doesNotThrow(() => adm.allowRequest(p), `second burst ${i + 1}`);
  t.throws(() => adm.allowRequest(p), over, 'capacity is requestsPerSecond, not more');
  const q: Principal = { ...p, id: 'jwt:other' };
  t.doesNotThrow(() => adm.allowRequest(q), 'another principal has its own bucket');
  clock -= 5_000; // a clock stepping back refills nothing
  t.throws(() => adm.allowRequest(p), over);

  // Below one per second: one request, then one more every 1/rate seconds.
  const slow: Principal = { ...p, id: 'jwt:slow', limits: { ...defaults, requestsPerSecond: 0.5 } };
  t.doesNotThrow(() => adm.allowRequest(slow));
  clock += 1000;
  t.throws(() => adm.allowRequest(slow), { name: 'AuthError', status: 429, reason: 'over_limit' });
  clock += 1000;
  t.doesNotThrow(() => adm.allowRequest(slow));

  // After the idle sweep (a minute on), a dropped bucket comes back full: same as having refilled.
  clock += 120_000;
  for (let i = 0; i < 5; i++) t.doesNotThrow(() => adm.allowRequest(p), `after sweep ${i + 1}`);
  t.throws(() => adm.allowRequest(p), over);
});

t.test('Admission: subscription limit', async (t) => {
  const adm = new Admission();
  const p = await auth.authenticate({ apiKey: PLAIN_KEY });
  t.doesNotThrow(() => adm.checkSubscriptions(p, 0));
  t.doesNotThrow(() => adm.checkSubscriptions(p, 10));
  t.throws(() => adm.checkSubscriptions(p, 11), {
    name: 'AuthError',
    status: 429,
    reason: 'over_limit',
    code: 'TE_RATE_LIMITED',
    message: /11 requested, at most 10/,
  });
});

t.test('AuthError codes follow the status', async (t) => {
  t.match(new AuthError(401, 'missing', 'm'), { status: 401, code: 'TE_UNAUTHORIZED', name: 'AuthError' });
  t.match(new AuthError(403, 'not_entitled', 'm'), { status: 403, reason: 'not_entitled', code: 'TE_FORBIDDEN' });
  t.match(new AuthError(429, 'over_limit', 'm'), { status: 429, code: 'TE_RATE_LIMITED' });
});

t.test('parseApiKeys', async (t) => {
  const sha = createHash('sha256').update('k2').digest('hex');
  const json = JSON.stringify([
    { id: 'a', key: 'k1', symbols: ['BTC-*'] },
    { id: 'b', sha256: sha.toUpperCase(), symbols: [], limits: { requestsPerSecond: 0.5, maxSubscriptions: 3 } },
  ]);
  t.same(Authenticator.parseApiKeys(json, 'keys.json'), [
    { id: 'a', key: 'k1', symbols: ['BTC-*'] },
    { id: 'b', sha256: sha, symbols: [], limits: { requestsPerSecond: 0.5, maxSubscriptions: 3 } },
  ]);
  t.same(Authenticator.parseApiKeys('[]', 'keys.json'), []);

  const ok = { id: 'a', key: 'secret-key-value-1', symbols: ['BTC-*'] };
  for (const [name, content, re] of [
    ['not JSON', '[{"id":"a","key":"secret-key-value-1",', /not valid JSON/],
    ['not an array', '{"keys":[]}', /must be a JSON array/],
    ['entry not an object', JSON.stringify([ok, 'x']), /entry 1: must be an object/],
    ['missing id', JSON.stringify([{ key: 'k', symbols: [] }]), /entry 0: id must be/],
    ['id with a space', JSON.stringify([{ id: 'a b', key: 'k', symbols: [] }]), /entry 0 \(id "a b"\): id must be/],
    ['duplicate id', JSON.stringify([ok, { ...ok, key: 'another-key' }]), /entry 1 \(id "a"\): duplicate id/],
    ['both key and sha256', JSON.stringify([{ ...ok, sha256: sha }]), /exactly one of 'key' or 'sha256'/],
    ['neither key nor sha256', JSON.stringify([{ id: 'a', symbols: [] }]), /exactly one of 'key' or 'sha256'/],
    ['empty key', JSON.stringify([{ ...ok, key: '' }]), /key must be a non-empty string/],
    ['key with a space', JSON.stringify([{ ...ok, key: 'secret key value' }]), /key must be/],
    ['bad sha256', JSON.stringify([{ id: 'a', sha256: 'abc', symbols: [] }]), /sha256 must be 64 hex characters/],
    [
      'same key twice',
      JSON.stringify([
        { id: 'a', key: 'k2', symbols: [] },
        { id: 'b', sha256: sha, symbols: [] },
      ]),
      /entry 1 \(id "b"\): same key as an earlier entry/,
    ],
    ['symbols missing', JSON.stringify([{ id: 'a', key: 'k', symbols: undefined }]), /symbols must be an array/],
    ['symbols not strings', JSON.stringify([{ ...ok, symbols: [1] }]), /symbols must contain only strings/],
    ['invalid pattern', JSON.stringify([{ ...ok, symbols: ['BTC USD'] }]), /symbols: symbol pattern "BTC USD" must not contain/],
    ['unknown field', JSON.stringify([{ ...ok, sha265: sha }]), /unknown field "sha265"/],
    ['limits not an object', JSON.stringify([{ ...ok, limits: 5 }]), /limits must be an object/],
    ['negative limit', JSON.stringify([{ ...ok, limits: { maxConnections: -1 } }]), /limits\.maxConnections must be a positive number/],
    ['fractional connections', JSON.stringify([{ ...ok, limits: { maxConnections: 1.5 } }]), /limits\.maxConnections must be an integer/],
    ['unknown limit', JSON.stringify([{ ...ok, limits: { maxConnection: 1 } }]), /unknown field "limits\.maxConnection"/],
  ] as const) {
    const err = (() => {
      try {
        Authenticator.parseApiKeys(content, '/etc/te/keys.json');
      } catch (e) {
        return e;
      }
    })();
    t.match(err, { name: 'ConfigError', code: 'TE_CONFIG', key: '/etc/te/keys.json', message: re }, name);
    t.match((err as Error).message, /^invalid configuration \/etc\/te\/keys\.json: /, `${name}: names the source`);
    t.notOk((err as Error).message.includes('secret-key-value-1'), `${name}: does not echo the key`);
  }
});

t.test('constructor rejects bad configuration', async (t) => {
  const bad = (over: Partial<AuthOptions>, key: string, message: RegExp, name: string) =>
    t.throws(() => new Authenticator(options(over)), { name: 'ConfigError', code: 'TE_CONFIG', key, message }, name);
  bad({ hs256Secret: '' }, 'auth.hs256Secret', /must not be empty/, 'empty secret');
  bad({ rs256PublicKeyPem: 'not a pem' }, 'auth.rs256PublicKeyPem', /SPKI PEM/, 'not a PEM');
  bad({ rs256PublicKeyPem: await exportPKCS8(rsa.privateKey) }, 'auth.rs256PublicKeyPem', /SPKI PEM/, 'a private key');
  bad({ rs256PublicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }, 'auth.rs256PublicKeyPem', /does not parse/, 'broken PEM');
  const ec = await generateKeyPair('ES256');
  bad({ rs256PublicKeyPem: await exportSPKI(ec.publicKey) }, 'auth.rs256PublicKeyPem', /must be an RSA key/, 'EC key');
  bad({ defaults: { ...defaults, requestsPerSecond: 0 } }, 'auth.defaults', /requestsPerSecond must be a positive number/, 'zero rate');
  bad({ apiKeys: [{ id: 'a', symbols: [] }] }, 'auth.apiKeys', /entry 0 \(id "a"\): exactly one of/, 'bad key entry');
});
