// Each venue's connection rules in one table: keepalive, when a connection counts as stale, how many symbols a
// connection and a subscribe request carry, how fast connections and subscribe messages may go, when to replace a
// connection before the venue closes it. Documented limits name their source; the other numbers are our own choices,
// said so (docs/venues.md, "Connections").
import type { Config } from '../../config.js';
import { InvalidArgumentError } from '../../errors.js';
import { isObject } from '../venues/message-fields.js';
import type { VenueName } from '../venues/venue-adapter.js';

/** How a connection is kept alive, and how the client sees that it still is. */
export type Keepalive =
  /** The server sends WebSocket ping frames and `ws` answers each with a pong by itself (its autoPong); a ping counts as traffic. */
  | { kind: 'server-ping' }
  /** The subscribe messages include a heartbeat channel (the adapter asks for it): a frame every second on a live connection. */
  | { kind: 'heartbeat-channel' }
  /**
   * The client sends an application-level ping: after `intervalMs` without any frame ('after-silence') or every
   * `intervalMs` whatever the traffic ('every'). The reply is traffic like any frame, and is not handed on.
   */
  | { kind: 'client-ping'; when: 'after-silence' | 'every'; intervalMs: number; message(n: number): string; isReply(frame: string): boolean };

export interface VenueRules {
  readonly venue: VenueName;
  readonly keepalive: Keepalive;
  /** No frame of any kind (trade, heartbeat, ack, pong, ping) on a connection for this long: closed and replaced. Per connection, never per symbol. */
  readonly staleMs: number;
  /** At most this many symbols (one trade stream or topic each) per connection; more symbols open more connections. */
  readonly symbolsPerConnection: number;
  /** At most this many symbols per subscribe request (adapter.subscribe is called once per group). */
  readonly symbolsPerRequest: number;
  /** Subscribe messages leave at least this far apart, over all of a session's connections. */
  readonly subscribeSpacingMs: number;
  /** Connection attempts start at least this far apart, over all of a session's connections (the venues limit them per IP). */
  readonly connectSpacingMs: number;
  /** Replace a connection (the new one subscribed before the old one closes) after this long; undefined = the venue sets no age. */
  readonly rotateAfterMs: number | undefined;
  /** A frame that announces the server will close the connection soon: replace it now. */
  isShutdownNotice(frame: string): boolean;
}

const SECOND = 1000;
const HOUR = 3_600_000;

/**
 * Binance spot streams (wss://stream.binance.com:9443/stream). Source: "WebSocket Streams for Binance", General WSS
 * information and WebSocket Limits, https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * (also binance-spot-api-docs/web-socket-streams.md on GitHub):
 * - "A single connection to stream.binance.com is only valid for 24 hours": replaced after 23 h (TE_FEED_ROTATE_AFTER_MS).
 * - "A serverShutdown event will be sent when the server is about to shutdown … establish a new connection as soon as
 *   possible": replaced at once. The streams page shows no payload; the WebSocket API's "Connection events" page shows
 *   {"event":{"e":"serverShutdown","E":…}}, and clients of the streams read {"e":"serverShutdown","E":…}, possibly in
 *   the combined wrapper's "data": all three are read.
 * - The server pings every 20 s and drops a connection that has not answered within a minute; `ws` answers.
 *   Stale after 60 s: three pings missed.
 * - "5 incoming messages per second", pings, pongs and subscribe messages alike, and the connection is dropped past
 *   it: subscribe messages ≥ 334 ms apart (3 a second, room for the pongs).
 * - "A single connection can listen to a maximum of 1024 streams": 1024 symbols per connection (one @trade each).
 * - "300 connections per attempt every 5 minutes per IP": attempts ≥ 1 s apart.
 * - Streams per SUBSCRIBE request: not documented; 200 is our choice (a few KB per message).
 */
const BINANCE: VenueRules = {
  venue: 'BINANCE',
  keepalive: { kind: 'server-ping' },
  staleMs: 60 * SECOND,
  symbolsPerConnection: 1024,
  symbolsPerRequest: 200,
  subscribeSpacingMs: 334,
  connectSpacingMs: 1000,
  rotateAfterMs: 23 * HOUR,
  isShutdownNotice: binanceShutdown,
};

/**
 * OKX v5 public (wss://ws.okx.com:8443/ws/v5/public). Source: OKX API v5 docs, "WebSocket" overview: connect,
 * connection count limit, subscribe limits, and "To keep the connection stable", https://www.okx.com/docs-v5/en/#overview-websocket
 * (read as other clients' documentation quotes it):
 * - The server drops a connection that has pushed nothing for 30 s. "Set a timer of N seconds whenever a response
 *   message is received, where N is less than 30. If the timer is triggered … send the String 'ping'. Expect a
 *   'pong' as a response. If the response message is not received within N seconds, please raise an error or
 *   reconnect": ping after 20 s of silence, stale after 30 s (the pong gets 10 s).
 * - Connection requests: 3 per second per IP: attempts ≥ 350 ms apart. 480 subscribe/unsubscribe/login requests per
 *   hour per connection: subscribe messages ≥ 350 ms apart, and only a few per connection (50 symbols each).
 * - "The total length of multiple channels cannot exceed 64 KB" (4096 bytes in older versions of the page): 50
 *   {"channel":"trades","instId":…} arguments are about 2.5 KB.
 * - Channels per connection: not documented; 500 is our choice.
 */
const OKX: VenueRules = {
  venue: 'OKX',
  keepalive: { kind: 'client-ping', when: 'after-silence', intervalMs: 20 * SECOND, message: () => 'ping', isReply: (frame) => frame === 'pong' },
  staleMs: 30 * SECOND,
  symbolsPerConnection: 500,
  symbolsPerRequest: 50,
  subscribeSpacingMs: 350,
  connectSpacingMs: 350,
  rotateAfterMs: undefined,
  isShutdownNotice: () => false,
};

/**
 * Kraken spot WebSocket v2 (wss://ws.kraken.com/v2). Sources: https://docs.kraken.com/api/docs/websocket-v2/heartbeat
 * ("Heartbeat messages are sent approximately once every second in the absence of any other channel updates", on any
 * subscription), https://docs.kraken.com/api/docs/websocket-v2/ping (request {"method":"ping","req_id":n}, response
 * {"method":"pong","req_id":n,…}: an application-level ping, distinct from the protocol's):
 * - Stale after 10 s (ten heartbeats missed); a ping after 5 s of silence.
 * - Subscribe messages: Kraken's message rate limit is dynamic and undocumented ("Exceeded msg rate" when passed):
 *   ≥ 250 ms apart and 100 symbols per message are our choices; 500 symbols per connection likewise.
 * - Connection attempts: Kraken's support pages (v1 era) put Cloudflare's limit at about 150 (re)connections per
 *   rolling 10 minutes per IP, with a 10-minute ban past it (as remembered, not read again): attempts ≥ 4 s apart.
 */
const KRAKEN: VenueRules = {
  venue: 'KRAKEN',
  keepalive: {
    kind: 'client-ping',
    when: 'after-silence',
    intervalMs: 5 * SECOND,
    message: (n) => JSON.stringify({ method: 'ping', req_id: n }),
    isReply: (frame) => frame.includes('"pong"') && jsonField(frame, 'method') === 'pong',
  },
  staleMs: 10 * SECOND,
  symbolsPerConnection: 500,
  symbolsPerRequest: 100,
  subscribeSpacingMs: 250,
  connectSpacingMs: 4 * SECOND,
  rotateAfterMs: undefined,
  isShutdownNotice: () => false,
};

/**
 * Bybit v5 public spot (wss://stream.bybit.com/v5/public/spot). Source: Bybit V5 "WebSocket Connect",
 * https://bybit-exchange.github.io/docs/v5/ws/connect (as remembered: the copy read here stops before its heartbeat
 * and limits sections; docs/venues.md, Doubts):
 * - "We recommend sending the ping heartbeat packet every 20 seconds": {"req_id":"n","op":"ping"} every 20 s,
 *   whatever the traffic. Spot answers {"success":true,"ret_msg":"pong",…,"op":"ping"}, linear and inverse
 *   {"op":"pong",…}: both are replies. Stale after 30 s (the pong gets 10 s).
 * - Spot takes at most 10 args per subscribe request (the adapter already sends them 10 at a time); the args of one
 *   public connection may total at most 21,000 characters: 500 symbols (publicTrade.XXXUSDT, ~23 characters each).
 * - "Do not frequently connect and disconnect": no more than 500 connections in 5 minutes per IP: attempts ≥ 600 ms apart.
 * - Subscribe messages per second: not documented; ≥ 100 ms apart is our choice.
 */
const BYBIT: VenueRules = {
  venue: 'BYBIT',
  keepalive: {
    kind: 'client-ping',
    when: 'every',
    intervalMs: 20 * SECOND,
    message: (n) => JSON.stringify({ req_id: String(n), op: 'ping' }),
    isReply: (frame) => frame.includes('pong') && (jsonField(frame, 'op') === 'pong' || jsonField(frame, 'ret_msg') === 'pong'),
  },
  staleMs: 30 * SECOND,
  symbolsPerConnection: 500,
  symbolsPerRequest: 10,
  subscribeSpacingMs: 100,
  connectSpacingMs: 600,
  rotateAfterMs: undefined,
  isShutdownNotice: () => false,
};

/**
 * Coinbase Advanced Trade (wss://advanced-trade-ws.coinbase.com). Sources: "WebSocket Channels", heartbeats
 * ("Most channels close within 60-90 seconds if no updates are sent. Subscribe to heartbeats to keep all
 * subscriptions open"; a heartbeat every second), and "WebSocket Rate Limits" (connections: 8 per second per IP;
 * unauthenticated messages: 8 per second per IP), https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/:
 * - The adapter subscribes to heartbeats with the trades. Stale after 10 s (ten heartbeats missed).
 * - Subscribe messages ≥ 150 ms apart and attempts ≥ 150 ms apart (under 8 a second). A connection must subscribe
 *   within a few seconds of opening or is closed: subscribe messages go out as soon as it opens.
 * - Products per subscribe message and per connection: not documented; 100 and 500 are our choices.
 */
const COINBASE: VenueRules = {
  venue: 'COINBASE',
  keepalive: { kind: 'heartbeat-channel' },
  staleMs: 10 * SECOND,
  symbolsPerConnection: 500,
  symbolsPerRequest: 100,
  subscribeSpacingMs: 150,
  connectSpacingMs: 150,
  rotateAfterMs: undefined,
  isShutdownNotice: () => false,
};

export const VENUE_RULES: Readonly<Record<VenueName, VenueRules>> = { BINANCE, OKX, KRAKEN, BYBIT, COINBASE };

/** A venue's rules with some replaced (configuration, tests); InvalidArgumentError for a limit that is not a positive number. */
export function venueRules(venue: VenueName, overrides: Partial<Omit<VenueRules, 'venue'>> = {}): VenueRules {
  const rules: VenueRules = { ...VENUE_RULES[venue], ...overrides };
  for (const key of ['staleMs', 'symbolsPerConnection', 'symbolsPerRequest'] as const)
    if (!(rules[key] > 0)) throw new InvalidArgumentError(`${venue} connection rule ${key} must be positive (got ${rules[key]})`);
  for (const key of ['subscribeSpacingMs', 'connectSpacingMs'] as const)
    if (!(rules[key] >= 0)) throw new InvalidArgumentError(`${venue} connection rule ${key} must not be negative (got ${rules[key]})`);
  if (rules.rotateAfterMs !== undefined && !(rules.rotateAfterMs > 0))
    throw new InvalidArgumentError(`${venue} connection rule rotateAfterMs must be positive (got ${rules.rotateAfterMs})`);
  return rules;
}

/** The configured overrides (TE_FEED_STALE_MS, TE_FEED_ROTATE_AFTER_MS) for a venue: rotation only where the venue closes connections at an age. */
export function configuredRules(venue: VenueName, config: Pick<Config, 'feedStaleMs' | 'feedRotateAfterMs'>): VenueRules {
  const base = VENUE_RULES[venue];
  return venueRules(venue, {
    ...(config.feedStaleMs > 0 ? { staleMs: config.feedStaleMs } : {}),
    ...(base.rotateAfterMs !== undefined ? { rotateAfterMs: config.feedRotateAfterMs } : {}),
  });
}

/** Binance's serverShutdown event, raw, in the combined wrapper, or as the WebSocket API sends it. */
function binanceShutdown(frame: string): boolean {
  if (!frame.includes('serverShutdown')) return false;
  const msg = parseOrUndefined(frame);
  if (!isObject(msg)) return false;
  const event = isObject(msg.data) ? msg.data : isObject(msg.event) ? msg.event : msg;
  return event.e === 'serverShutdown';
}

/** A top-level field of a JSON object frame; undefined for anything else. */
function jsonField(frame: string, field: string): unknown {
  const msg = parseOrUndefined(frame);
  return isObject(msg) ? msg[field] : undefined;
}

/**
 * The frame as JSON, or undefined when it is not JSON. Only for recognizing control frames: the frame goes on to
 * the adapter, whose parse reports a frame that is not JSON as a DecodeError, so nothing is lost here.
 */
function parseOrUndefined(frame: string): unknown {
  try {
    return JSON.parse(frame) as unknown;
  } catch {
    return undefined;
  }
}
