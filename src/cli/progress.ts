// Progress on stderr for long jobs: a redrawn bar on a terminal, a line every few seconds otherwise.

export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly tty = process.stderr.isTTY === true;

  private readonly bytes: boolean;

  constructor(
    private readonly label: string,
    /** Known total, when there is one (it may become known after the start). */
    public total: number | undefined,
    /** What is counted: records (the default) or bytes (shown as KiB, MiB, GiB). */
    opts: { unit?: 'records' | 'bytes' } = {},
  ) {
    this.bytes = opts.unit === 'bytes';
  }

  update(done: number): void {
    const now = performance.now();
    if (now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    process.stderr.write(this.line(done, now) + (this.tty ? '' : '\n'));
  }

  finish(done: number): void {
    process.stderr.write(this.line(done, performance.now()) + '\n');
  }

  private line(done: number, now: number): string {
    const secs = (now - this.started) / 1000;
    const rate = done / Math.max(secs, 1e-3);
    const fmt = this.bytes
      ? (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`)
      : (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`);
    let bar = '';
    let eta = '';
    if (this.total && this.total > 0) {
      const f = Math.min(1, done / this.total);
      const width = 30;
      bar = `[${'#'.repeat(Math.round(f * width)).padEnd(width, '.')}] ${(f * 100).toFixed(0).padStart(3)}% `;
      eta = f < 1 ? ` ETA ${((this.total - done) / Math.max(rate, 1)).toFixed(0)}s` : '';
    }
    return `${this.tty ? '\r' : ''}${this.label} ${bar}${fmt(done)}${this.total ? `/${fmt(this.total)}` : ''} ${fmt(rate)}/s ${secs.toFixed(1)}s${eta}`;
  }
}
