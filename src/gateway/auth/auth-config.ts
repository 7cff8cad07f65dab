// Auth options from the configuration: reads the key files once at start-up; a bad file fails start-up
// naming the key that points at it.
import { readFileSync } from 'node:fs';
import type { Config } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { Authenticator, type AuthOptions } from './auth.js';

function readConfigFile(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(key, `cannot read ${path}: ${(err as Error).message}`);
  }
}

export function authOptionsFromConfig(config: Config): AuthOptions {
  return {
    enabled: config.authEnabled,
    hs256Secret: config.jwtHs256Secret || undefined,
    rs256PublicKeyPem: config.jwtRs256PublicKeyFile ? readConfigFile('TE_JWT_RS256_PUBLIC_KEY_FILE', config.jwtRs256PublicKeyFile) : undefined,
    audience: config.jwtAudience || undefined,
    issuer: config.jwtIssuer || undefined,
    apiKeys: config.apiKeysFile ? Authenticator.parseApiKeys(readConfigFile('TE_API_KEYS_FILE', config.apiKeysFile), 'TE_API_KEYS_FILE') : [],
    defaults: { maxConnections: config.limitConnections, maxSubscriptions: config.limitSubscriptions, requestsPerSecond: config.limitRps },
    maxLifetimeS: config.jwtMaxLifetimeS,
  };
}
