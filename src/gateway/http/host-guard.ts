// Which Host headers the gateway answers: a guard against DNS rebinding, where a hostile page makes a browser
// talk to a gateway on the user's own machine under the attacker's host name (its Origin then matches its Host,
// so the CORS check alone lets it in). Bound to loopback, only loopback names are answered unless configured.
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** 'host:port' or '[v6]:port' → the host name, lower case. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export class HostGuard {
  /** undefined: any host. */
  private readonly allowed: Set<string> | undefined;
  /** Whether a request without a Host header passes (not from a browser: rebinding needs one). */
  private readonly allowMissing: boolean;

  constructor(configured: readonly string[], bindHost: string) {
    if (configured.length) {
      this.allowed = new Set(configured.map((h) => hostName(h)));
      this.allowMissing = false;
    } else {
      this.allowed = isLoopback(bindHost) ? new Set([...LOOPBACK_NAMES, bindHost.toLowerCase()]) : undefined;
      this.allowMissing = true;
    }
  }

  allows(hostHeader: string): boolean {
    if (!this.allowed) return true;
    if (!hostHeader) return this.allowMissing;
    return this.allowed.has(hostName(hostHeader));
  }
}
