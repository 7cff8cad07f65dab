// Kraken's history of spot trades, for the holes in a feed's v2 trade ids: GET /0/public/Trades?pair=&since=&count=,
// the request URLs and the answers' parsing; the HTTP request itself is passed in (`get`).
//
// Quirks (docs.kraken.com "Get Recent Trades"; support article "How to retrieve historical time and sales … using
// the REST API Trades endpoint"):
// - The history is by TIME, not by id: `since` is a UNIX timestamp in nanoseconds (exclusive), and each answer's
//   `last` is the nanosecond cursor of the next page. Since 2023 every trade array carries Kraken's trade_id as its
//   7th element ([price, volume, time, side, type, misc, trade_id]), but `since` is still documented as a time (a
//   trade id passed there would presumably be read as one, seconds after 1970: the pair's first trades, not the
//   hole's; not tried, there is no network here). So a hole [from, to] is found
//   by the time of the trade released just before it (less a second), paging on `last` until the ids pass `to`,
//   keeping only the ids asked for. Where that time is unknown, it starts a minute before the trade after the hole;
//   and while a first page starts past `from`, it steps back a minute, two, four… (at most 6 times).
// - Up to 1000 trades a page (`count`), oldest first. The pair is Kraken's REST name (XBTUSD for v2's BTC/USD, XDG
//   for DOGE) and the answer keys the trades by yet another name (XXBTZUSD): the one key other than `last`.
// - `time` is a JSON number of seconds (1688669597.8277369): read through its shortest decimal form, digits past the
//   µs dropped, so it can differ by 1 µs from the WebSocket's `timestamp` for the same trade. `b`/`s` is the taker's
//   side, as in the v1 frames.
// - Errors come in a 200 answer's `error` array ("EQuery:Unknown asset pair"); rate-limit refusals too
//   ("EGeneral:Too many requests", "EAPI:Rate limit exceeded", "EService: Throttled: <UNIX time>"): krakenRateLimit
//   lets the HistoryClient wait those out like a 429.
import type { Tick } from '../../contracts/tick.js';
import { DecodeError, describe } from '../../errors.js';
import { isObject, MessageFields, parseJsonText } from '../venues/message-fields.js';
import { fromSlashed } from '../venues/symbols.js';
import type { VenueTrade } from '../venues/venue-adapter.js';
import { pageHistory, type GapFiller, type HoleTimes } from './gap-filler.js';
import type { HistoryFillerOptions } from './history-client.js';

const VENUE = 'KRAKEN';
export const KRAKEN_REST_URL = 'https://api.kraken.com';
/** The most trades one answer holds. */
export const KRAKEN_HISTORY_LIMIT = 1000;
const SIDES = { b: 'BUY', s: 'SELL' } as const;
/** Kraken's REST names of assets the v2 WebSocket (and the engine) calls otherwise. */
const REST_NAMES: Readonly<Record<string, string>> = { BTC: 'XBT', DOGE: 'XDG' };
const SECOND_US = 1_000_000;
const LOOKBACK_US = 60 * SECOND_US;
const STEPS_BACK = 6;

/** 'BTC/USD' (v2) → 'XBTUSD', the pair as the REST API names it. */
export function krakenPair(venueSymbol: string): string {
  return venueSymbol
    .toUpperCase()
    .split('/')
    .map((a) => REST_NAMES[a] ?? a)
    .join('');
}

/** The request for up to `count` trades of `pair` after `sinceNanos`. */
export function krakenTradesUrl(pair: string, sinceNanos: bigint, count = KRAKEN_HISTORY_LIMIT, base = KRAKEN_REST_URL): string {
  return `${base}/0/public/Trades?pair=${encodeURIComponent(pair)}&since=${sinceNanos}&count=${count}`;
}

/** A rate-limit refusal in a Trades answer's `error` array → the ms to wait (null: not said); undefined for anything else. */
export function krakenRateLimit(body: string, nowMs: number): number | null | undefined {
  if (!/Throttled|Too many requests|Rate limit/i.test(body)) return undefined;
  let msg: unknown;
  try {
    msg = JSON.parse(body);
  } catch {
    return undefined;
  }
  const errors = isObject(msg) && Array.isArray(msg.error) ? msg.error.filter((e): e is string => typeof e === 'string') : [];
  for (const e of errors) {
    const until = /^EService:\s*Throttled:\s*(\d{9,11})/.exec(e);
    if (until) return Math.max(0, Number(until[1]) * 1000 - nowMs);
    if (/^(EGeneral:Too many requests|EAPI:Rate limit exceeded)/.test(e)) return null;
  }
  return undefined;
}

/**
 * An answer's body → its trades (snapshot: true: they may have been received before) and the `last` cursor.
 * DecodeError naming the item and element for anything else, an answer with errors included.
 */
export function parseKrakenTrades(body: string, venueSymbol: string, ingestTimeMicros: number): { trades: VenueTrade[]; last: bigint } {
  const where = `${VENUE} Trades`;
  const msg = parseJsonText(body, `${where} answer`);
  if (!isObject(msg)) throw new DecodeError(`${where} answer is ${describe(msg)}, not an object`);
  if (Array.isArray(msg.error) && msg.error.length > 0) throw new DecodeError(`${where} answer has errors: ${describe(msg.error.join('; '))}`);
  const result = new MessageFields(msg, where).raw('result', 'result');
  if (!isObject(result)) throw new DecodeError(`${where} "result" is ${describe(result)}, not an object`);
  const keys = Object.keys(result).filter((k) => k !== 'last');
  if (keys.length !== 1) throw new DecodeError(`${where} "result" holds ${keys.length} pairs, not one`);
  const last = String(new MessageFields(result, `${where} result`).id('last', 'cursor'));
  if (!/^\d{1,30}$/.test(last)) throw new DecodeError(`${where} result "last" (cursor) ${describe(last)} is not a nanosecond time`);
  const items = new MessageFields(result, `${where} result`).array(keys[0]!, 'trades');
  const symbol = fromSlashed(venueSymbol, `${where} symbol`, { kraken: true });
  const trades = items.map((entry, i): VenueTrade => {
    const at = `${where} ${keys[0]}[${i}]`;
    if (!Array.isArray(entry)) throw new DecodeError(`${at} is ${describe(entry)}, not an array`);
    const e = entry as unknown[];
    // The time is a JSON number of seconds; its shortest decimal form is read like v1's string.
    const time = typeof e[2] === 'number' && Number.isFinite(e[2]) ? String(e[2]) : e[2];
    const f = new MessageFields({ price: e[0], volume: e[1], time, side: e[3], trade_id: e[6] }, at);
    const tick: Tick = {
      venue: VENUE,
      symbol,
      eventTime: f.seconds('time', 'trade time'),
      price: f.decimal('price', 'price'),
      size: f.decimal('volume', 'volume'),
      side: f.side('side', 'taker side', SIDES),
      tradeId: f.id('trade_id', 'trade id (element 7)'),
      ingestTime: ingestTimeMicros,
    };
    if (!/^\d+$/.test(tick.tradeId)) throw new DecodeError(`${at} trade id ${describe(tick.tradeId)} is not a decimal number`);
    return { tick, venueSymbol, snapshot: true };
  });
  return { trades, last: BigInt(last) };
}

/** `get` goes through HistoryClient with krakenRateLimit; `maxPages` counts stepping back too. */
export interface KrakenGapFillerOptions extends HistoryFillerOptions {
  count?: number;
}

/** Asks Kraken's history for a hole's trades: from the time of the trade before the hole, page by page, keeping the hole's ids. */
export class KrakenGapFiller implements GapFiller {
  constructor(private readonly opts: KrakenGapFillerOptions) {}

  fill(venueSymbol: string, fromId: string, toId: string, times: HoleTimes = {}): Promise<VenueTrade[]> {
    const { count = KRAKEN_HISTORY_LIMIT, maxPages = 10 } = this.opts;
    const now = this.opts.nowMicros?.() ?? Date.now() * 1000;
    const from = BigInt(fromId);
    const to = BigInt(toId);
    const pair = krakenPair(venueSymbol);
    let lookback = LOOKBACK_US;
    let steps = 0;
    let found = false;
    const start = times.afterMicros !== undefined ? times.afterMicros - SECOND_US : (times.beforeMicros ?? now) - lookback;
    return pageHistory(from, to, BigInt(Math.max(0, start)) * 1000n, maxPages, async (since) => {
      const { body } = await this.opts.get(krakenTradesUrl(pair, since, count, this.opts.base));
      const { trades, last } = parseKrakenTrades(body, venueSymbol, this.opts.nowMicros?.() ?? Date.now() * 1000);
      const ids = trades.map((t) => BigInt(t.tick.tradeId));
      if (!found && ids.length > 0 && ids[0]! > from && steps < STEPS_BACK && since > 0n) {
        // Started past the hole's first trade: its time is earlier than assumed. Step back and look again.
        steps++;
        const back = BigInt(lookback) * 1000n;
        lookback *= 2;
        return { trades: [], next: since > back ? since - back : 0n };
      }
      found ||= ids.some((id) => id >= from && id <= to);
      const done = trades.length < count || last <= since || ids.some((id) => id >= to);
      return { trades, next: done ? undefined : last };
    });
  }
}
