// What every data request and WebSocket upgrade passes before a handler runs: HTTP framing and the Host (before
// anything is read), then who is calling and whether they may make one more request. And the one way a refusal or
// failure is reported back and counted.
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Config } from '../../config.js';
import { AuthError, clientError, describe, MisdirectedRequestError, TickEngineError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { authFailures } from '../../metrics.js';
import { Admission, Authenticator, type Principal } from '../auth/auth.js';
import { authOptionsFromConfig } from '../auth/auth-config.js';
import { Cors } from './cors.js';
import { HostGuard } from './host-guard.js';
import { ambiguousFraming, errorReply, json, writeReply, type Reply, type RequestInfo } from './http.js';

export class RequestGate {
  readonly cors: Cors;
  readonly admission = new Admission();
  private readonly hosts: HostGuard;
  private readonly auth: Authenticator;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.cors = new Cors(config.corsOrigins);
    this.hosts = new HostGuard(config.allowedHosts, config.gatewayHost);
    this.auth = new Authenticator(authOptionsFromConfig(config));
  }

  /**
   * Before any handler: a request whose framing is ambiguous (two Content-Length headers, or one with
   * Transfer-Encoding) could smuggle a second request past us, so its connection is closed at once, before
   * anything after it is read; a Host this gateway does not answer to (DNS rebinding) gets 421.
   */
  guard<A extends unknown[]>(handler: (res: HttpResponse, req: HttpRequest, ...rest: A) => void) {
    return (res: HttpResponse, req: HttpRequest, ...rest: A): void => {
      if (ambiguousFraming(req)) {
        authFailures.inc({ reason: 'framing' });
        res.close();
        return;
      }
      if (!this.hosts.allows(req.getHeader('host'))) {
        authFailures.inc({ reason: 'host' });
        writeReply(res, errorReply(new MisdirectedRequestError(`host ${describe(req.getHeader('host'))} is not served here (TE_ALLOWED_HOSTS)`)));
        return;
      }
      handler(res, req, ...rest);
    };
  }

  /** Who is calling, and may they make one more request now. Throws AuthError. */
  async admit(r: RequestInfo): Promise<Principal> {
    const p = await this.auth.authenticate(r.credentials);
    if (this.config.authEnabled) this.admission.allowRequest(p);
    return p;
  }

  /**
   * What a client is told about a failed request, upgrade or WebSocket message (one mapping for all: clientError);
   * every refusal by auth or limits is counted here, once, and anything that is not a TickEngineError is logged.
   */
  failure(err: unknown, url: string): ReturnType<typeof clientError> {
    if (err instanceof AuthError) authFailures.inc({ reason: err.reason });
    else if (!(err instanceof TickEngineError)) this.log.error({ err, url }, 'request failed');
    return clientError(err);
  }

  /** The JSON error reply to a request or upgrade. */
  refuse(err: unknown, url: string): Reply {
    const e = this.failure(err, url);
    return json(e.status, { code: e.code, message: e.message });
  }
}

/** Throws 403 naming (up to five of) the symbols the principal is not entitled to. */
export function entitle(p: Principal, symbols: string[]): void {
  const denied = symbols.filter((s) => !p.entitled(s));
  if (denied.length) throw new AuthError(403, 'not_entitled', `not entitled to ${denied.slice(0, 5).join(', ')}${denied.length > 5 ? ', …' : ''}`);
}
