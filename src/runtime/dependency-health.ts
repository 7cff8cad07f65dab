// Which servers around the aggregator are reachable right now (each store, the broker), as the writes find them:
// one log line when a dependency goes down and one when it comes back (never one per retry), a gauge per
// dependency, and the readiness /ready reports.
import type { Logger } from '../log.js';
import { dependencyUp, ready as readyGauge, writeRetries } from '../metrics.js';

interface State {
  up: boolean;
  /** Wall-clock ms of the last change. */
  since: number;
  error?: string;
  failures: number;
}

export class DependencyHealth {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly log: Logger,
    names: readonly string[],
  ) {
    for (const n of names) this.ensure(n);
    readyGauge.set(1);
  }

  private ensure(name: string): State {
    let s = this.states.get(name);
    if (!s) {
      this.states.set(name, (s = { up: true, since: Date.now(), failures: 0 }));
      dependencyUp.set({ dependency: name }, 1);
    }
    return s;
  }

  /** A write to `name` (a store, or 'kafka:…' for a use of the broker) failed or is taking too long: paused and retried. */
  down(name: string, err: unknown): void {
    const s = this.ensure(name);
    writeRetries.inc({ target: name });
    s.failures++;
    s.error = err instanceof Error ? err.message : String(err);
    if (!s.up) return;
    s.up = false;
    s.since = Date.now();
    dependencyUp.set({ dependency: name }, 0);
    readyGauge.set(0);
    this.log.warn({ dependency: name, err }, `${name} unavailable: consumption paused, writes retried with backoff until it answers`);
  }

  /** A write to `name` succeeded. */
  up(name: string): void {
    const s = this.ensure(name);
    if (s.up) return;
    const seconds = (Date.now() - s.since) / 1000;
    s.up = true;
    s.since = Date.now();
    dependencyUp.set({ dependency: name }, 1);
    this.log.info({ dependency: name, downSeconds: seconds, failedAttempts: s.failures }, `${name} available again: consumption resumes`);
    s.failures = 0;
    s.error = undefined;
    if (this.ready) readyGauge.set(1);
  }

  get ready(): boolean {
    for (const s of this.states.values()) if (!s.up) return false;
    return true;
  }

  /** The dependencies that are down, with why and since when (for /ready). */
  problems(): { dependency: string; since: string; error: string | undefined }[] {
    return [...this.states].filter(([, s]) => !s.up).map(([dependency, s]) => ({ dependency, since: new Date(s.since).toISOString(), error: s.error }));
  }
}
