// Runs async jobs one after another: a minimal mutex for state or clients that must not interleave.

export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    // The chain continues whether a job fails or not; the caller still sees the failure.
    this.tail = next.catch(() => undefined);
    return next;
  }
}
