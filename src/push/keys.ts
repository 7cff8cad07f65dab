// Who may push: API keys from TE_PUSH_KEYS_FILE, each with the venues and symbols it may write. The file has the
// gateway's API-key form (id, key or sha256, symbols, limits: checked by the gateway's Authenticator) plus
// `venues`; it is separate from the gateway's keys on purpose — a key that may read bars must not be able to
// write ticks. Only API keys are taken here, never JWTs. A bad file fails start-up naming TE_PUSH_KEYS_FILE.
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { AuthError, BadRequestError, ConfigError } from '../errors.js';
import { compileSymbolPatterns, validatePattern } from '../contracts/symbol-pattern.js';
import { Authenticator, type Credentials, type Principal } from '../gateway/auth/auth.js';

const SOURCE = 'TE_PUSH_KEYS_FILE';

/** A caller that may push: its principal (limits) and what it may write. */
export interface PushScope {
  principal: Principal;
  venueAllowed(venue: string): boolean;
  symbolAllowed(symbol: string): boolean;
}

export class PushKeys {
  private constructor(
    private readonly auth: Authenticator,
    private readonly venues: ReadonlyMap<string, (venue: string) => boolean>,
    /** Whether any key may write the venue (what start-up reads back identities for). */
    readonly anyVenueAllowed: (venue: string) => boolean,
  ) {}

  static fromConfig(config: Config): PushKeys {
    if (!config.pushKeysFile)
      throw new ConfigError(SOURCE, 'is empty: push-gateway takes pushes only with an API key, from a keys file (docs/push-ingestion.md)');
    let text: string;
    try {
      text = readFileSync(config.pushKeysFile, 'utf8');
    } catch (err) {
      throw new ConfigError(SOURCE, `cannot read ${config.pushKeysFile}: ${(err as Error).message}`);
    }
    return PushKeys.parse(text, { maxConnections: config.pushLimitConnections, requestsPerSecond: config.pushLimitRps });
  }

  /** The keys of a keys file's text; every problem is a ConfigError naming TE_PUSH_KEYS_FILE and the entry. */
  static parse(json: string, defaults: { maxConnections: number; requestsPerSecond: number }): PushKeys {
    let data: unknown;
    try {
      data = JSON.parse(json);
    } catch (err) {
      // Only the position: V8's message quotes the text around it, which may be a key.
      const at = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new ConfigError(SOURCE, `not valid JSON${at !== undefined ? ` (error at position ${at})` : ''}`);
    }
    if (!Array.isArray(data)) throw new ConfigError(SOURCE, 'must be a JSON array of API key entries');
    if (data.length === 0) throw new ConfigError(SOURCE, 'holds no keys: nobody could push');
    const venuePatterns: string[][] = [];
    const rest = data.map((e: unknown, i) => {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new ConfigError(SOURCE, `entry ${i}: must be an object`);
      const { venues, ...entry } = e as Record<string, unknown>;
      const label = `entry ${i}${typeof entry.id === 'string' ? ` (id ${JSON.stringify(entry.id.slice(0, 64))})` : ''}`;
      if (!Array.isArray(venues) || venues.length === 0) throw new ConfigError(SOURCE, `${label}: venues must be a non-empty array of venue patterns`);
      for (const v of venues) {
        try {
          validatePattern(v as string);
        } catch (err) {
          if (!(err instanceof BadRequestError)) throw err;
          throw new ConfigError(SOURCE, `${label}: venues: ${err.message.replace('symbol pattern', 'venue pattern')}`);
        }
      }
      venuePatterns.push(venues as string[]);
      return entry;
    });
    const entries = Authenticator.parseApiKeys(JSON.stringify(rest), SOURCE);
    const auth = new Authenticator({ enabled: true, apiKeys: entries, defaults: { ...defaults, maxSubscriptions: 1 } });
    const venues = new Map(entries.map((e, i) => [`key:${e.id}`, compileSymbolPatterns(venuePatterns[i]!)]));
    return new PushKeys(auth, venues, compileSymbolPatterns(venuePatterns.flat()));
  }

  /** The caller's scope; AuthError 401 when the credentials are missing, unknown or a JWT. */
  async authenticate(c: Credentials): Promise<PushScope> {
    const principal = await this.auth.authenticate(c);
    const venueAllowed = this.venues.get(principal.id);
    if (!venueAllowed) throw new AuthError(401, 'unknown_key', 'the push endpoint takes API keys only');
    return { principal, venueAllowed, symbolAllowed: principal.entitled };
  }
}
