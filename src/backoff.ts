// Retry pacing for anything that waits on a server: exponential backoff with jitter, and a sleep that heartbeats.

/**
 * Delay before retry number `attempt` (0 = the first retry): base × 2^attempt capped at `maxMs`, then "equal
 * jitter" (half fixed, half random), so many clients that failed together do not retry together.
 */
export function backoffMs(attempt: number, maxMs: number, baseMs = 100, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the promise's value; calls `onSlow` once if it has not settled after `ms` (the promise is still awaited). */
export async function watchSlow<T>(p: Promise<T>, ms: number, onSlow: () => void): Promise<T> {
  const timer = setTimeout(onSlow, ms);
  try {
    return await p;
  } finally {
    clearTimeout(timer);
  }
}

/** Rejects with `make()` if `p` has not settled after `ms`; `p` itself is left to settle on its own (and observed). */
export function withTimeout<T>(p: Promise<T>, ms: number, make: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(make()), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
