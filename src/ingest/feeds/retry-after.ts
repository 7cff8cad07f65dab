// How long a venue asks a refused client to wait: the Retry-After header of an HTTP 429/418 (or 503) upgrade answer.

/** Longer waits are cut to this: Binance's IP bans (418) run from 2 minutes to 3 days, and a timer cannot run past 24.8 days. */
export const MAX_RETRY_AFTER_MS = 7 * 86_400_000;

const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * Retry-After (RFC 9110 §10.2.3) → ms to wait from `nowMs`: delay-seconds ("1", "120"; a fraction is tolerated and
 * rounded up) or an HTTP-date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"; a past date gives 0). Undefined when the
 * header is absent or neither form: the caller then waits its own backoff. Never throws (the text is the venue's).
 */
export function retryAfterMs(header: string | readonly string[] | undefined, nowMs: number = Date.now()): number | undefined {
  const raw = typeof header === 'string' ? header : header?.[0];
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d{1,12}(\.\d{1,9})?$/.test(text)) return Math.min(Math.ceil(Number(text) * 1000), MAX_RETRY_AFTER_MS);
  if (!IMF_FIXDATE.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}
