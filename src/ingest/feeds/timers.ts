// Time as the feed's sequencing sees it: the clock and callbacks after a delay; real here, a manual clock in tests.

export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  after(ms, fn) {
    // Unref'd: a pending hold or retry never keeps the process alive on its own (the feed's sockets do).
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
