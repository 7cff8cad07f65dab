// Metadata lookups (offsets, leaders) that kafkajs gives up on at once although they are retriable: a leader moved, or
// the topic was just created and its partitions have no leader yet. Retried with backoff, a few times.
import { backoffMs, sleep } from '../backoff.js';

const LOOKUP_ATTEMPTS = 8;

export async function retriedLookup<T>(lookup: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await lookup();
    } catch (err) {
      if (attempt + 1 >= LOOKUP_ATTEMPTS || (err as { retriable?: unknown }).retriable !== true) throw err;
      await sleep(backoffMs(attempt, 2000));
    }
  }
}
