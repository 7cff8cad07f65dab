// CORS: which browser origins may read REST answers and open WebSockets. Browsers enforce CORS on fetch
// but not on WebSocket, so the gateway itself refuses upgrades from origins that are not allowed.
export class Cors {
  private readonly any: boolean;
  private readonly allowed: Set<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.allowed = new Set(origins.filter((o) => o !== '*').map((o) => o.replace(/\/$/, '')));
  }

  /** No Origin (not a browser), the page's own origin, or a configured one. */
  allows(origin: string, host: string): boolean {
    if (!origin) return true;
    if (this.any || this.allowed.has(origin)) return true;
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  /** Headers for a response to `origin` (none when it is not allowed cross-origin). */
  headers(origin: string): Record<string, string> {
    if (!origin || !(this.any || this.allowed.has(origin))) return {};
    return {
      'access-control-allow-origin': this.any ? '*' : origin,
      vary: 'Origin',
      'access-control-expose-headers': 'content-type',
    };
  }

  /** The answer to a preflight OPTIONS request. */
  preflight(origin: string): Record<string, string> {
    const h = this.headers(origin);
    if (!h['access-control-allow-origin']) return {};
    return {
      ...h,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, x-api-key, content-type',
      'access-control-max-age': '600',
    };
  }
}
