// A clock for tests of time-driven code (src/ingest/feeds/timers.ts): time moves only when the test says, and the
// callbacks due run in time order, each followed by whatever promises they settle.
import type { Timers } from '../../src/ingest/feeds/timers.js';

/** Lets every pending promise continuation run (a macrotask turn: all microtasks queued before it have run). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Due {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualTimers implements Timers {
  #now: number;
  #seq = 0;
  #due: Due[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): () => void {
    const entry = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#due.push(entry);
    return () => {
      this.#due = this.#due.filter((e) => e !== entry);
    };
  }

  /** Moves time on by `ms`, running every callback that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      let next: Due | undefined;
      for (const e of this.#due) if (e.at <= target && (next === undefined || e.at < next.at || (e.at === next.at && e.seq < next.seq))) next = e;
      if (next === undefined) break;
      this.#due = this.#due.filter((e) => e !== next);
      this.#now = next.at;
      next.fn();
      await settle();
    }
    this.#now = target;
  }

  /** Callbacks still waiting. */
  get pending(): number {
    return this.#due.length;
  }
}
