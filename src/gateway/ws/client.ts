// One WebSocket connection (uWS user data): who it is, how it wants deltas framed, and its outbox.
import type { Principal } from '../auth/auth.js';
import type { Outbox } from './outbox.js';

export interface Client {
  id: number;
  principal: Principal;
  encoding: 'json' | 'avro';
  /** Gives the connection back to its principal's connection limit. */
  release: () => void;
  outbox?: Outbox;
  /** Closes the connection when its credentials expire. */
  expiry?: NodeJS.Timeout;
}
