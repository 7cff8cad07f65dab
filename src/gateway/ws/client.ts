// One WebSocket connection (uWS user data): who it is, how it wants deltas framed, its outbox and its direct delivery.
import type { Principal } from '../auth/auth.js';
import type { Outbox } from './outbox.js';

export interface Client {
  id: number;
  principal: Principal;
  encoding: 'json' | 'avro';
  /** Gives the connection back to its principal's connection limit. */
  release: () => void;
  outbox?: Outbox;
  /** Direct (uWS pub/sub) delivery; absent where the socket layer has none (the `ws` reference) or it is off. */
  direct?: DirectState;
  /** Closes the connection when its credentials expire. */
  expiry?: NodeJS.Timeout;
}

/** What direct delivery needs of a uWS WebSocket. */
export interface TopicSocket {
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
  getBufferedAmount(): number;
}

/** A client's direct-delivery state (Client.direct). */
export interface DirectState {
  socket: TopicSocket;
  /** true: deltas come through uWS topics; false: through the outbox. */
  on: boolean;
  closed: boolean;
}
