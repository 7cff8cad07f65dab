// Gateway authentication (JWT or API key → Principal) and per-principal admission limits.
// Self-contained: the gateway maps request headers/query into Credentials and AuthError.status into the HTTP status.
import { createHash, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { AuthError, BadRequestError, ConfigError } from '../../errors.js';
import { compileSymbolPatterns, validatePattern } from '../../contracts/symbol-pattern.js';

export interface Limits {
  maxConnections: number;
  maxSubscriptions: number;
  requestsPerSecond: number;
}

/** One API key; exactly one of `key` (plain) or `sha256` (hex digest of the key) is given. */
export interface ApiKeyEntry {
  id: string;
  key?: string;
  sha256?: string;
  symbols: string[];
  limits?: Partial<Limits>;
}

export interface AuthOptions {
  /** false → every request is the anonymous principal entitled to '*' with `defaults` limits. */
  enabled: boolean;
  /** JWT HS256 shared secret (utf8). */
  hs256Secret?: string;
  /** JWT RS256 public key, SPKI PEM. */
  rs256PublicKeyPem?: string;
  /** Required `aud` when set. */
  audience?: string;
  /** Required `iss` when set. */
  issuer?: string;
  apiKeys: ApiKeyEntry[];
  /** Limits for JWT principals and keys without their own. */
  defaults: Limits;
  /** Longest JWT lifetime accepted, seconds: a token whose exp is further ahead is refused (default one day). */
  maxLifetimeS?: number;
}

export interface Principal {
  id: string;
  kind: 'anonymous' | 'jwt' | 'apikey';
  symbols: string[];
  entitled(symbol: string): boolean;
  limits: Limits;
  /** When the credentials stop being valid (ms since the epoch): a JWT's exp. Absent for API keys and anonymous. */
  expiresAt?: number;
}

/** Authorization header, X-API-Key header, ?token= / ?apikey= query (the gateway maps query apikey→apiKey, token→token). */
export interface Credentials {
  authorization?: string;
  apiKey?: string;
  token?: string;
}

type Alg = 'HS256' | 'RS256';

// Tokens beyond this are refused before any parsing; real ones are a few hundred bytes.
const MAX_TOKEN_LENGTH = 8192;
const CLOCK_TOLERANCE_S = 5;
const LIMIT_KEYS = ['maxConnections', 'maxSubscriptions', 'requestsPerSecond'] as const;
const ENTRY_KEYS = new Set(['id', 'key', 'sha256', 'symbols', 'limits']);

interface KeyRecord {
  digest: Buffer;
  principal: Principal;
}

export class Authenticator {
  readonly #opts: AuthOptions;
  readonly #anonymous: Principal;
  readonly #hsKey: Uint8Array | undefined;
  readonly #rsKey: KeyObject | undefined;
  readonly #algorithms: Alg[];
  readonly #keys: KeyRecord[];

  constructor(opts: AuthOptions) {
    validateLimits(opts.defaults, true, (message) => {
      throw new ConfigError('auth.defaults', message);
    });
    this.#opts = opts;
    this.#anonymous = makePrincipal('anonymous', 'anonymous', ['*'], opts.defaults);
    this.#algorithms = [];
    if (opts.hs256Secret !== undefined) {
      if (opts.hs256Secret === '') throw new ConfigError('auth.hs256Secret', 'must not be empty');
      this.#hsKey = new TextEncoder().encode(opts.hs256Secret);
      this.#algorithms.push('HS256');
    }
    if (opts.rs256PublicKeyPem !== undefined) {
      this.#rsKey = parseRsaPublicKey(opts.rs256PublicKeyPem);
      this.#algorithms.push('RS256');
    }
    const entries = validateApiKeys(opts.apiKeys, 'auth.apiKeys');
    this.#keys = entries.map((entry) => ({
      digest: entry.key !== undefined ? sha256(entry.key) : Buffer.from(entry.sha256!, 'hex'),
      principal: makePrincipal(`key:${entry.id}`, 'apikey', entry.symbols, { ...opts.defaults, ...entry.limits }),
    }));
  }

  /** Parses and validates the content of an API-keys JSON file (an array of entries); errors name `source` and the entry. */
  static parseApiKeys(json: string, source: string): ApiKeyEntry[] {
    let data: unknown;
    try {
      data = JSON.parse(json);
    } catch (err) {
      // Only the position: V8's message quotes the text around it, which may be a key.
      const at = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new ConfigError(source, `not valid JSON${at !== undefined ? ` (error at position ${at})` : ''}`);
    }
    return validateApiKeys(data, source);
  }

  async authenticate(c: Credentials): Promise<Principal> {
    if (!this.#opts.enabled) return this.#anonymous;
    const authorization = present(c.authorization);
    if (authorization !== undefined) {
      // Scheme names are case-insensitive (RFC 9110 §11.1); the value itself is never echoed, it may be a bare secret.
      const m = /^(\S+)[ \t]+(\S+)$/.exec(authorization);
      const scheme = m?.[1]?.toLowerCase();
      if (m && scheme === 'bearer') return this.#verifyJwt(m[2]!);
      if (m && scheme === 'apikey') return this.#verifyApiKey(m[2]!);
      throw new AuthError(401, 'malformed', "Authorization header must be 'Bearer <jwt>' or 'ApiKey <key>'");
    }
    const apiKey = present(c.apiKey);
    if (apiKey !== undefined) return this.#verifyApiKey(apiKey);
    const token = present(c.token);
    if (token !== undefined) return this.#verifyJwt(token);
    throw new AuthError(401, 'missing', "no credentials: send 'Authorization: Bearer <jwt>' or 'ApiKey <key>', an X-API-Key header, or ?token= / ?apikey=");
  }

  #verifyApiKey(key: string): Principal {
    const digest = sha256(key);
    let found: KeyRecord | undefined;
    // Every entry is compared, so the time taken does not reveal which entry (if any) matched.
    for (const rec of this.#keys) if (timingSafeEqual(rec.digest, digest) && !found) found = rec;
    if (!found) throw new AuthError(401, 'unknown_key', 'unknown API key');
    return found.principal;
  }

  async #verifyJwt(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthError(401, 'malformed', `JWT is longer than ${MAX_TOKEN_LENGTH} characters`);
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AuthError(401, 'malformed', 'JWT is malformed: its header does not decode');
    }
    if (typeof alg !== 'string' || alg === '') throw new AuthError(401, 'malformed', "JWT header has no 'alg'");
    // Checked before verification so the answer says why: jose would report it only as a generic disallowed alg.
    if (!(this.#algorithms as string[]).includes(alg)) {
      const accepted = this.#algorithms.length ? `this server accepts ${this.#algorithms.join(', ')}` : 'this server accepts no JWTs (use an API key)';
      throw new AuthError(401, 'unsupported_alg', `JWT alg ${quote(alg.slice(0, 16))} is not accepted; ${accepted}`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async (header) => (header.alg === 'RS256' ? this.#rsKey! : this.#hsKey!), {
        algorithms: this.#algorithms,
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_S,
        audience: this.#opts.audience, // undefined → not checked
        issuer: this.#opts.issuer,
      }));
    } catch (err) {
      throw joseFailure(err);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthError(401, 'malformed', "JWT has no 'sub' claim");
    // A token valid for centuries is a leaked key waiting to happen: bound how far ahead exp may be.
    const maxLifetime = this.#opts.maxLifetimeS ?? 86_400;
    const ahead = payload.exp! - Date.now() / 1000;
    if (ahead > maxLifetime + CLOCK_TOLERANCE_S)
      throw new AuthError(401, 'too_long_lived', `JWT expires too far ahead: at most ${maxLifetime} s from now are accepted (TE_JWT_MAX_LIFETIME_S)`);
    return makePrincipal(`jwt:${payload.sub}`, 'jwt', symbolsClaim((payload as { symbols?: unknown }).symbols), this.#opts.defaults, payload.exp! * 1000);
  }
}

/**
 * Per-principal limits (keyed by Principal.id): concurrent connections, a request token bucket, subscriptions.
 * Principals with the same id share their limits: every connection of one API key or JWT `sub`, and all anonymous ones.
 */
export class Admission {
  readonly #now: () => number;
  readonly #connections = new Map<string, number>();
  readonly #buckets = new Map<string, { tokens: number; at: number; rate: number }>();
  #lastSweep: number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#lastSweep = now();
  }

  /** Counts one connection; the returned release() gives it back (calling it again is a no-op). */
  acquireConnection(p: Principal): () => void {
    const n = this.#connections.get(p.id) ?? 0;
    if (n >= p.limits.maxConnections) throw new AuthError(429, 'over_limit', `connection limit reached for ${p.id} (at most ${p.limits.maxConnections})`);
    this.#connections.set(p.id, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#connections.get(p.id) ?? 1) - 1;
      if (left > 0) this.#connections.set(p.id, left);
      else this.#connections.delete(p.id);
    };
  }

  /** Takes one token from the principal's bucket: capacity requestsPerSecond (at least 1), refilling requestsPerSecond per second. */
  allowRequest(p: Principal): void {
    const now = this.#now();
    this.#sweep(now);
    const rate = p.limits.requestsPerSecond;
    // At least one token of room, so a rate below 1/s still lets a request through now and then.
    const capacity = Math.max(1, rate);
    const b = this.#buckets.get(p.id);
    // A new principal starts with a full bucket, so a burst of `capacity` requests is allowed at once.
    const tokens = b ? Math.min(capacity, b.tokens + (Math.max(0, now - b.at) / 1000) * rate) : capacity;
    if (tokens < 1) {
      if (b) Object.assign(b, { tokens, at: now, rate });
      throw new AuthError(429, 'over_limit', `request rate limit reached for ${p.id} (${rate} per second)`);
    }
    if (b) Object.assign(b, { tokens: tokens - 1, at: now, rate });
    else this.#buckets.set(p.id, { tokens: tokens - 1, at: now, rate });
  }

  /** Throws when a principal would hold more than maxSubscriptions subscriptions. */
  checkSubscriptions(p: Principal, count: number): void {
    if (count > p.limits.maxSubscriptions)
      throw new AuthError(429, 'over_limit', `subscription limit exceeded for ${p.id}: ${count} requested, at most ${p.limits.maxSubscriptions}`);
  }

  // A bucket that has refilled is indistinguishable from an absent one; dropping those bounds memory.
  #sweep(now: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [id, b] of this.#buckets) if (b.tokens + (Math.max(0, now - b.at) / 1000) * b.rate >= Math.max(1, b.rate)) this.#buckets.delete(id);
  }
}

function present(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function makePrincipal(id: string, kind: Principal['kind'], symbols: readonly string[], limits: Limits, expiresAt?: number): Principal {
  const entitled = compileSymbolPatterns(symbols);
  const p: Principal = { id, kind, symbols: Object.freeze([...symbols]) as string[], entitled, limits: Object.freeze({ ...limits }) };
  if (expiresAt !== undefined) p.expiresAt = expiresAt;
  return Object.freeze(p);
}

// A claim that is not a list of valid patterns grants nothing: failing closed beats guessing what was meant.
function symbolsClaim(claim: unknown): string[] {
  if (!Array.isArray(claim) || !claim.every((s) => typeof s === 'string')) return [];
  try {
    for (const s of claim) validatePattern(s);
  } catch {
    return [];
  }
  return claim;
}

function joseFailure(err: unknown): AuthError {
  if (err instanceof joseErrors.JWTExpired) return new AuthError(401, 'expired', 'JWT has expired');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError(401, 'bad_signature', 'JWT signature verification failed');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError(401, 'unsupported_alg', 'JWT alg is not accepted');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return new AuthError(401, 'bad_audience', `JWT 'aud' claim is ${err.reason === 'missing' ? 'missing' : 'not the expected audience'}`);
    if (err.claim === 'iss') return new AuthError(401, 'bad_issuer', `JWT 'iss' claim is ${err.reason === 'missing' ? 'missing' : 'not the expected issuer'}`);
    if (err.claim === 'nbf' && err.reason === 'check_failed') return new AuthError(401, 'malformed', "JWT is not valid yet ('nbf' is in the future)");
    const what = err.reason === 'missing' ? 'is missing' : err.reason === 'check_failed' ? 'failed its check' : 'is invalid';
    return new AuthError(401, 'malformed', `JWT '${err.claim}' claim ${what}`);
  }
  // jose's own messages describe structure only (never token content), so they are safe and useful to pass on.
  if (err instanceof joseErrors.JOSEError) return new AuthError(401, 'malformed', `JWT is malformed: ${err.message}`);
  return new AuthError(401, 'malformed', 'JWT could not be verified', { cause: err });
}

function parseRsaPublicKey(pem: string): KeyObject {
  // Only SPKI: createPublicKey would also accept a private key and derive the public half, hiding a misconfiguration.
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw new ConfigError('auth.rs256PublicKeyPem', "must be an SPKI PEM ('-----BEGIN PUBLIC KEY-----')");
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new ConfigError('auth.rs256PublicKeyPem', `does not parse as a public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new ConfigError('auth.rs256PublicKeyPem', `must be an RSA key (got ${key.asymmetricKeyType})`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new ConfigError('auth.rs256PublicKeyPem', `RSA key must be at least 2048 bits (got ${bits})`); // jose refuses smaller ones
  return key;
}

/** Reports a problem of a configuration value: throws the ConfigError that names where it is. */
type Fail = (message: string) => never;

// complete: every limit must be present (the defaults); otherwise each given one is checked (an entry's overrides).
function validateLimits(l: unknown, complete: boolean, fail: Fail, where?: string): asserts l is Partial<Limits> {
  const prefix = where ? `${where}.` : '';
  if (!isObject(l)) fail(`${where ?? 'limits'} must be an object`);
  for (const k of Object.keys(l)) if (!(LIMIT_KEYS as readonly string[]).includes(k)) fail(`unknown field ${quote(prefix + k)}`);
  for (const k of LIMIT_KEYS) {
    const v = l[k];
    if (v === undefined && !complete) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`${prefix}${k} must be a positive number`);
    if (k !== 'requestsPerSecond' && !Number.isInteger(v)) fail(`${prefix}${k} must be an integer`);
  }
}

// Shared by parseApiKeys and the constructor: every problem is one ConfigError naming the source and the entry.
function validateApiKeys(data: unknown, source: string): ApiKeyEntry[] {
  if (!Array.isArray(data)) throw new ConfigError(source, 'must be a JSON array of API key entries');
  const ids = new Set<string>();
  const digests = new Set<string>();
  return data.map((e: unknown, i) => {
    const label = `entry ${i}${isObject(e) && typeof e.id === 'string' ? ` (id ${quote(e.id)})` : ''}`;
    return validateEntry(e, ids, digests, (message) => {
      throw new ConfigError(source, `${label}: ${message}`);
    });
  });
}

function validateEntry(e: unknown, ids: Set<string>, digests: Set<string>, fail: Fail): ApiKeyEntry {
  if (!isObject(e)) fail('must be an object');
  for (const k of Object.keys(e)) if (!ENTRY_KEYS.has(k)) fail(`unknown field ${quote(k)}`);
  const { id, key, sha256: hex, symbols, limits } = e;
  // Printable ASCII only: the id ends up in principal ids, logs and metrics labels.
  if (typeof id !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(id)) fail('id must be 1-64 printable ASCII characters without spaces');
  if (ids.has(id)) fail('duplicate id');
  if ((key === undefined) === (hex === undefined)) fail("exactly one of 'key' or 'sha256' must be given");
  let digest: string;
  if (key !== undefined) {
    // The key is never quoted in messages; only its shape is described.
    if (typeof key !== 'string' || !/^[\x21-\x7e]+$/.test(key)) fail('key must be a non-empty string of printable ASCII without spaces');
    digest = sha256(key).toString('hex');
  } else {
    if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) fail('sha256 must be 64 hex characters');
    digest = hex.toLowerCase();
  }
  if (digests.has(digest)) fail('same key as an earlier entry');
  if (!Array.isArray(symbols)) fail('symbols must be an array of symbol patterns');
  for (const s of symbols) {
    if (typeof s !== 'string') fail('symbols must contain only strings');
    try {
      validatePattern(s);
    } catch (err) {
      if (!(err instanceof BadRequestError)) throw err;
      fail(`symbols: ${err.message}`);
    }
  }
  if (limits !== undefined) validateLimits(limits, false, fail, 'limits');
  ids.add(id);
  digests.add(digest);
  const entry: ApiKeyEntry = { id, symbols: [...(symbols as string[])] };
  if (key !== undefined) entry.key = key as string;
  else entry.sha256 = digest;
  if (limits !== undefined) entry.limits = { ...(limits as Partial<Limits>) };
  return entry;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
