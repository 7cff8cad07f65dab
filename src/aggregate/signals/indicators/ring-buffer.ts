// Fixed-capacity FIFO of numbers: a sliding window in O(1) time per push and O(capacity) memory, allocation-free after construction.
//
// The values sit in a plain array of unboxed doubles, not a Float64Array: a small typed array costs an ArrayBuffer
// object and a separately allocated backing store, about 300 bytes beside its values, which adds up when an
// indicator is kept per series.
import { requirePeriod } from './indicator.js';

export class RingBuffer {
  private readonly buf: number[];
  /** Index of the oldest value. */
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    // Filled with a double, so V8 keeps the elements as unboxed doubles from the start.
    this.buf = new Array<number>(requirePeriod(capacity, 1, 'ring buffer capacity')).fill(NaN);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Appends x; once full, drops and returns the oldest value, which the caller subtracts from its running state. */
  push(x: number): number | undefined {
    if (this.count < this.capacity) {
      this.buf[(this.head + this.count) % this.capacity] = x;
      this.count++;
      return undefined;
    }
    const oldest = this.buf[this.head]!;
    this.buf[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    return oldest;
  }

  /** The i-th value, oldest first. */
  at(i: number): number | undefined {
    return i >= 0 && i < this.count ? this.buf[(this.head + i) % this.capacity] : undefined;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }
}
