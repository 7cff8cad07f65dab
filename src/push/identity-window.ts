// The identities of the trades and quotes written lately — (kind, venue, symbol, id) — so a record pushed again
// (a retried batch, a duplicate within a batch, an overlapping CopyTicks window) is recognised and not written twice.
//
// Bounded twice: an identity is forgotten `windowMs` after it was written, and past `maxIds` the oldest go first
// (about 100 bytes each: the string and the map's entry — measured with 250,000 MT5 identities; kept as the
// concatenated string itself, each cost 270, V8 keeping its parts). Insertion order is write order, so the oldest are at the
// front and forgetting them costs nothing per lookup. A record pushed again after its identity was forgotten is
// written again: the window is the promise, and docs/push-ingestion.md says how large to make it.
import type { Quote } from '../contracts/quote.js';
import type { Tick } from '../contracts/tick.js';

// NUL cannot occur in a venue or symbol (records.ts refuses control characters), so the parts cannot run together.
export const tradeIdentity = (t: Tick): string => `t\u0000${t.venue}\u0000${t.symbol}\u0000${t.tradeId}`;
export const quoteIdentity = (q: Quote): string => `q\u0000${q.venue}\u0000${q.symbol}\u0000${q.quoteId}`;

/**
 * The identity as one flat string of its UTF-8 bytes (one character per byte): as cheap as a string can be held,
 * and still one string per identity.
 */
const flat = (id: string): string => Buffer.from(id, 'utf8').toString('latin1');

export class IdentityWindow {
  // Identity → when it was written (ms); insertion order is write order.
  readonly #written = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxIds: number,
  ) {}

  /** Whether `id` was written within the window. */
  has(id: string, now: number): boolean {
    this.#forget(now);
    return this.#written.has(flat(id));
  }

  /** Remember `id` as written at `now`. */
  add(id: string, now: number): void {
    if (this.windowMs === 0) return;
    const key = flat(id);
    this.#written.delete(key);
    this.#written.set(key, now);
    if (this.#written.size > this.maxIds) this.#written.delete(this.#written.keys().next().value!);
  }

  get size(): number {
    return this.#written.size;
  }

  #forget(now: number): void {
    for (const [id, at] of this.#written) {
      if (at > now - this.windowMs) break;
      this.#written.delete(id);
    }
  }
}
