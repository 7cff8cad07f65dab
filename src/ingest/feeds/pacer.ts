// Spacing of actions a venue limits by rate (connection attempts, subscribe messages): one slot per spacing, and
// none before a hold the venue asked for (Retry-After), however the slots were booked.

export class Pacer {
  private nextSlot = -Infinity;
  private holdUntil = -Infinity;
  private lastRun = -Infinity;

  constructor(
    private readonly spacingMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** No slot runs before `atMs` (on the `now` clock), including those already booked. Never shortens an earlier hold. */
  hold(atMs: number): void {
    this.holdUntil = Math.max(this.holdUntil, atMs);
  }

  /**
   * Runs `fn` at its slot: at least the spacing after the previous slot, not before `notBeforeMs`, not before any
   * hold. Returns a cancel function (the slot stays used). The time is checked again when the timer fires: a timer
   * that fires early (Node's do, by up to a millisecond), a hold that came later, or a previous slot that ran late
   * (the spacing holds between the runs themselves, not only between the slots) only delays it.
   */
  schedule(fn: () => void, notBeforeMs = -Infinity): () => void {
    const slot = Math.max(this.now(), this.nextSlot, this.holdUntil, notBeforeMs);
    this.nextSlot = slot + this.spacingMs;
    let timer: NodeJS.Timeout | undefined;
    const fire = (): void => {
      const wait = Math.max(slot, this.holdUntil, this.lastRun + this.spacingMs) - this.now();
      if (wait > 0) {
        timer = setTimeout(fire, Math.ceil(wait));
        return;
      }
      timer = undefined;
      this.lastRun = this.now();
      fn();
    };
    timer = setTimeout(fire, Math.max(0, Math.ceil(slot - this.now())));
    return () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    };
  }
}
