// The trade ids of one symbol seen lately, for venues whose ids give no order (Bybit's UUIDs, Kraken v1's made-up
// ids): a trade whose id is among them is a duplicate.
//
// Bounded twice: an id is forgotten `windowMs` after it was last seen, and the oldest are forgotten past `maxIds`.
// Duplicates come from reconnects — the trades a venue re-sends on subscribe, or two connections overlapping while
// one replaces the other — so they arrive within seconds of the first copy; a window of a minute covers that many
// times over, and the count bound keeps a busy symbol's memory fixed whatever the rate.

export class RecentIds {
  // Insertion order = order of last sighting (a sighting moves the id to the end), so the oldest are at the front.
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxIds: number,
  ) {}

  /** Whether `id` was seen within the window (a duplicate). Either way, it counts as seen at `now` from here on. */
  seen(id: string, now: number): boolean {
    for (const [old, at] of this.#seen) {
      if (at > now - this.windowMs) break;
      this.#seen.delete(old);
    }
    const before = this.#seen.delete(id);
    this.#seen.set(id, now);
    if (this.#seen.size > this.maxIds) this.#seen.delete(this.#seen.keys().next().value!);
    return before;
  }

  get size(): number {
    return this.#seen.size;
  }
}
