// A venue's REST API as the gap fillers use it: GET requests spaced by the venue's rate limit, a refusal for the rate
// (429/418, or the venue's own error in the body) waited out by every later request too, every failure a
// VenueRequestError. The venues count public requests per IP, so one client serves all symbols of a venue.
import { backoffMs } from '../../backoff.js';
import { VenueRequestError, describe } from '../../errors.js';
import { feedHistoryRequests } from '../../metrics.js';
import { retryAfterMs } from './retry-after.js';
import { realTimers, type Timers } from './timers.js';

/** An HTTP answer: its status, body and headers (names in any case). */
export interface HttpAnswer {
  status: number;
  body: string;
  header(name: string): string | undefined;
}

/** GET a URL → the answer, whatever its status; throws only when no answer came (network, timeout). */
export type HttpGet = (url: string) => Promise<HttpAnswer>;

const HTTP_TIMEOUT_MS = 10_000;

/** HttpGet with Node's fetch, 10 s timeout. */
export const fetchGet: HttpGet = async (url) => {
  const res = await fetch(url, { headers: { 'user-agent': 'tick-engine', accept: 'application/json' }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const body = await res.text();
  return { status: res.status, body, header: (name) => res.headers.get(name) ?? undefined };
};

export interface HistoryClientOptions {
  /** The metrics' label and the errors' first word. */
  venue: string;
  transport?: HttpGet;
  /** Requests start at least this far apart (the venue's public rate limit per IP). */
  spacingMs: number;
  /**
   * A rate-limit refusal the venue writes into a 2xx body (Kraken): the ms it asks to wait, null when it names no time;
   * undefined when the body is no such refusal.
   */
  bodyRateLimit?: (body: string, nowMs: number) => number | null | undefined;
  /** A refused request is asked again after the wait when the wait is at most this long (else it fails at once). */
  maxWaitMs?: number;
  /** Refusals for the rate waited out per request before it fails. */
  retries?: number;
  timers?: Timers;
}

export class HistoryClient {
  readonly #o: HistoryClientOptions;
  readonly #timers: Timers;
  #nextSlot = -Infinity;
  #holdUntil = -Infinity;

  constructor(options: HistoryClientOptions) {
    this.#o = options;
    this.#timers = options.timers ?? realTimers;
  }

  /**
   * The answer of a 2xx. VenueRequestError when no answer came, for any other status, and for a refusal for the rate
   * (429, 418, or the body's) that was asked again `retries` times or asks to wait longer than `maxWaitMs`.
   */
  readonly get = async (url: string): Promise<HttpAnswer> => {
    const { venue, retries = 2, maxWaitMs = 10_000 } = this.#o;
    for (let attempt = 0; ; attempt++) {
      await this.#turn(url, maxWaitMs);
      let answer: HttpAnswer;
      try {
        answer = await (this.#o.transport ?? fetchGet)(url);
      } catch (err) {
        feedHistoryRequests.inc({ venue, outcome: 'failed' });
        throw new VenueRequestError(`${venue} GET ${url} failed: ${(err as Error).message}`, { cause: err });
      }
      const now = this.#timers.now();
      const ok = answer.status >= 200 && answer.status < 300;
      const asked = ok ? undefined : retryAfterMs(answer.header('retry-after'), now);
      const inBody = ok ? this.#o.bodyRateLimit?.(answer.body, now) : undefined;
      const limited = answer.status === 429 || answer.status === 418 || inBody !== undefined;
      if (ok && !limited) {
        feedHistoryRequests.inc({ venue, outcome: 'ok' });
        return answer;
      }
      feedHistoryRequests.inc({ venue, outcome: limited ? 'rate-limited' : 'failed' });
      const told = asked ?? inBody ?? undefined;
      // Where the venue names no wait, the backoff; either way every later request of the venue waits too.
      const wait = told ?? backoffMs(attempt, maxWaitMs, 500);
      if (limited || told !== undefined) this.#holdUntil = Math.max(this.#holdUntil, now + wait);
      if (limited && attempt < retries && wait <= maxWaitMs) continue;
      throw new VenueRequestError(
        `${venue} GET ${url} answered HTTP ${answer.status}${limited ? ' (rate limited)' : ''}: ${describe(answer.body.slice(0, 200))}`,
        { httpStatus: answer.status, rateLimited: limited, retryAfterMs: told },
      );
    }
  };

  /** Waits for this request's slot: the spacing after the previous one, and any hold the venue asked for. */
  async #turn(url: string, maxWaitMs: number): Promise<void> {
    const now = this.#timers.now();
    const slot = Math.max(now, this.#nextSlot, this.#holdUntil);
    if (slot - now > maxWaitMs) {
      feedHistoryRequests.inc({ venue: this.#o.venue, outcome: 'rate-limited' });
      throw new VenueRequestError(`${this.#o.venue} GET ${url} not sent: the venue asked to wait another ${Math.ceil(slot - now)} ms`, {
        rateLimited: true,
        retryAfterMs: slot - now,
      });
    }
    this.#nextSlot = slot + this.#o.spacingMs;
    if (slot > now) await new Promise<void>((resolve) => this.#timers.after(slot - now, resolve));
  }
}

/** What a gap filler asks with: GET a URL → its 2xx answer (HistoryClient.get; tests pass a fake). */
export type HistoryGet = (url: string) => Promise<Pick<HttpAnswer, 'body' | 'header'>>;

/** What every venue's gap filler is given. */
export interface HistoryFillerOptions {
  /** GET a URL → its 2xx answer (HistoryClient.get: spacing, 429/418 waited out); throws when the request fails. */
  get: HistoryGet;
  /** The venue's REST base; default its real one. */
  base?: string;
  /** Pages asked per call (a longer hole is filled in parts). */
  maxPages?: number;
  nowMicros?: () => number;
}
