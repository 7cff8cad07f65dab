// Answers to batches sent with an Idempotency-Key, kept so the same batch sent again gets the same answer and
// nothing is written twice — even when the first attempt is still in flight (the retry waits for it).
//
// Keys are per API key (one client never sees another's answers). The same key with a different body is a
// client's bug: 422, never a silent overwrite. Only answers that wrote something (200, 207) are kept; a refusal
// or failure (4xx, 503) is not, so a retry after one runs afresh. Bounded by age (windowMs) and by the bytes of
// the kept answers (maxBytes), the oldest forgotten first.
import { IdempotencyConflictError } from '../errors.js';

export interface StoredReply {
  status: number;
  body: string;
}

interface Kept {
  digest: string;
  reply: StoredReply;
  at: number;
  bytes: number;
}

/** What a kept answer costs beyond its body: the key, the digest, the entry. */
const OVERHEAD_BYTES = 256;

export class ReplyCache {
  readonly #kept = new Map<string, Kept>();
  readonly #pending = new Map<string, { digest: string; reply: Promise<StoredReply> }>();
  #bytes = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxBytes: number,
  ) {}

  /**
   * The answer to batch `digest` sent by `scope` under `key`: the kept one (replayed: true), the one in flight,
   * or `work`'s. Throws IdempotencyConflictError when the key was used with another digest.
   */
  async run(scope: string, key: string, digest: string, now: number, work: () => Promise<StoredReply>): Promise<StoredReply & { replayed: boolean }> {
    this.#forget(now);
    const k = `${scope}\u0000${key}`;
    const kept = this.#kept.get(k);
    if (kept) {
      if (kept.digest !== digest) throw conflict();
      return { ...kept.reply, replayed: true };
    }
    const pending = this.#pending.get(k);
    if (pending) {
      if (pending.digest !== digest) throw conflict();
      return { ...(await pending.reply), replayed: true };
    }
    const reply = work();
    this.#pending.set(k, { digest, reply });
    try {
      const r = await reply;
      if (r.status === 200 || r.status === 207) this.#keep(k, { digest, reply: r, at: now, bytes: r.body.length + k.length + OVERHEAD_BYTES });
      return { ...r, replayed: false };
    } finally {
      this.#pending.delete(k);
    }
  }

  get size(): number {
    return this.#kept.size;
  }

  #keep(k: string, e: Kept): void {
    if (this.windowMs === 0 || e.bytes > this.maxBytes) return;
    this.#kept.set(k, e);
    this.#bytes += e.bytes;
    for (const [old, o] of this.#kept) {
      if (this.#bytes <= this.maxBytes) break;
      this.#kept.delete(old);
      this.#bytes -= o.bytes;
    }
  }

  #forget(now: number): void {
    for (const [k, e] of this.#kept) {
      if (e.at > now - this.windowMs) break;
      this.#kept.delete(k);
      this.#bytes -= e.bytes;
    }
  }
}

function conflict(): IdempotencyConflictError {
  return new IdempotencyConflictError('this Idempotency-Key was used with a different batch: a new batch needs a new key');
}
