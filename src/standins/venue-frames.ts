// Each venue's WebSocket words, as a stand-in speaks them: the answer to a ping message, the subscribe message read
// (and what is wrong with it), its acknowledgements, an error frame, one trade in the venue's real message form
// (tests/fixtures/venues/*.json; OKX per src/ingest/venues/okx.ts) and Coinbase's heartbeat.
import type { VenueName } from '../ingest/venues/venue-adapter.js';
import type { StandinTrade } from './trade-list.js';

/** The venue's answer to a client ping message, or undefined when the text is not one. */
export function pingReply(venue: VenueName, text: string): string | undefined {
  if (venue === 'OKX') return text === 'ping' ? 'pong' : undefined;
  const m = json(text);
  if (venue === 'KRAKEN' && m?.method === 'ping')
    return JSON.stringify({ method: 'pong', req_id: m.req_id, time_in: iso(Date.now()), time_out: iso(Date.now()) });
  if (venue === 'BYBIT' && m?.op === 'ping') return JSON.stringify({ success: true, ret_msg: 'pong', conn_id: 'standin', req_id: m.req_id ?? '', op: 'ping' });
  return undefined;
}

/** A subscribe message in the venue's documented form → its symbols; a string says what is wrong with it. */
export function readSubscribe(venue: VenueName, text: string): { symbols: string[]; heartbeats: boolean } | string {
  const m = json(text);
  if (!m) return 'not a JSON object';
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
  switch (venue) {
    case 'BINANCE': {
      if (m.method !== 'SUBSCRIBE' || !strings(m.params) || m.id === undefined) return 'not {"method":"SUBSCRIBE","params":[…],"id":…}';
      if (!m.params.every((p) => /^[a-z0-9]+@trade$/.test(p))) return 'streams must be <lowercase symbol>@trade';
      return { symbols: m.params.map((p) => p.slice(0, -'@trade'.length).toUpperCase()), heartbeats: false };
    }
    case 'OKX': {
      const args = m.args;
      if (m.op !== 'subscribe' || !Array.isArray(args) || args.length === 0) return 'not {"op":"subscribe","args":[…]}';
      const ok = args.every((a: unknown) => typeof a === 'object' && a !== null && (a as Record<string, unknown>).channel === 'trades');
      if (!ok) return 'args must be {"channel":"trades","instId":…}';
      return { symbols: args.map((a: unknown) => String((a as Record<string, unknown>).instId)), heartbeats: false };
    }
    case 'KRAKEN': {
      const p = m.params as Record<string, unknown> | undefined;
      if (m.method !== 'subscribe' || !p || p.channel !== 'trade' || !strings(p.symbol))
        return 'not {"method":"subscribe","params":{"channel":"trade","symbol":[…]}}';
      return { symbols: p.symbol, heartbeats: false };
    }
    case 'BYBIT': {
      if (m.op !== 'subscribe' || !strings(m.args)) return 'not {"op":"subscribe","args":[…]}';
      if (m.args.length > 10) return 'args size >10';
      if (!m.args.every((a) => /^publicTrade\.[A-Z0-9]+$/.test(a))) return 'topics must be publicTrade.<SYMBOL>';
      return { symbols: m.args.map((a) => a.slice('publicTrade.'.length)), heartbeats: false };
    }
    case 'COINBASE': {
      if (m.type !== 'subscribe' || !strings(m.product_ids)) return 'not {"type":"subscribe","product_ids":[…],"channel":…}';
      if (m.channel === 'heartbeats') return { symbols: [], heartbeats: true };
      if (m.channel !== 'market_trades') return `unknown channel ${String(m.channel)}`;
      return { symbols: m.product_ids, heartbeats: false };
    }
  }
}

export function subscribeAcks(venue: VenueName, text: string, symbols: string[], seq: number): string[] {
  const m = json(text)!;
  switch (venue) {
    case 'BINANCE':
      return [JSON.stringify({ result: null, id: m.id })];
    case 'OKX':
      return symbols.map((instId) => JSON.stringify({ event: 'subscribe', arg: { channel: 'trades', instId }, connId: 'standin' }));
    case 'KRAKEN':
      return symbols.map((symbol) =>
        JSON.stringify({
          method: 'subscribe',
          result: { channel: 'trade', snapshot: false, symbol },
          success: true,
          time_in: iso(Date.now()),
          time_out: iso(Date.now()),
        }),
      );
    case 'BYBIT':
      return [JSON.stringify({ success: true, ret_msg: 'subscribe', conn_id: 'standin', req_id: m.req_id ?? '', op: 'subscribe' })];
    case 'COINBASE':
      return [
        JSON.stringify({
          channel: 'subscriptions',
          client_id: '',
          timestamp: iso(Date.now()),
          sequence_num: seq,
          events: [{ subscriptions: m.channel === 'heartbeats' ? { heartbeats: ['heartbeats'] } : { market_trades: symbols } }],
        }),
      ];
  }
}

export function errorFrame(venue: VenueName, msg: string): string {
  switch (venue) {
    case 'BINANCE':
      return JSON.stringify({ code: 2, msg: `Invalid request: ${msg}` });
    case 'OKX':
      return JSON.stringify({ event: 'error', code: '60012', msg });
    case 'KRAKEN':
      return JSON.stringify({ method: 'subscribe', success: false, error: msg, time_in: iso(Date.now()), time_out: iso(Date.now()) });
    case 'BYBIT':
      return JSON.stringify({ success: false, ret_msg: msg, conn_id: 'standin', req_id: '', op: 'subscribe' });
    case 'COINBASE':
      return JSON.stringify({ type: 'error', message: msg });
  }
}

/** One trade in the venue's real message form (tests/fixtures/venues/*.json; OKX per src/ingest/venues/okx.ts). */
export function tradeFrame(venue: VenueName, t: StandinTrade, seq: number): string {
  const lower = t.side === 'BUY' ? 'buy' : 'sell';
  switch (venue) {
    case 'BINANCE':
      return JSON.stringify({
        stream: `${t.venueSymbol.toLowerCase()}@trade`,
        data: {
          e: 'trade',
          E: t.timeMs + 1,
          s: t.venueSymbol,
          t: Number(t.tradeId),
          p: t.price,
          q: t.size,
          b: 88,
          a: 50,
          T: t.timeMs,
          m: t.side === 'SELL',
          M: true,
        },
      });
    case 'OKX':
      return JSON.stringify({
        arg: { channel: 'trades', instId: t.venueSymbol },
        data: [{ instId: t.venueSymbol, tradeId: t.tradeId, px: t.price, sz: t.size, side: lower, ts: String(t.timeMs), count: '1' }],
      });
    case 'KRAKEN':
      return JSON.stringify({
        channel: 'trade',
        type: 'update',
        data: [
          {
            symbol: t.venueSymbol,
            side: lower,
            price: Number(t.price),
            qty: Number(t.size),
            ord_type: 'market',
            trade_id: Number(t.tradeId),
            timestamp: iso(t.timeMs),
          },
        ],
      });
    case 'BYBIT':
      return JSON.stringify({
        topic: `publicTrade.${t.venueSymbol}`,
        type: 'snapshot',
        ts: t.timeMs + 1,
        data: [{ T: t.timeMs, s: t.venueSymbol, S: t.side === 'BUY' ? 'Buy' : 'Sell', v: t.size, p: t.price, L: 'PlusTick', i: t.tradeId, BT: false }],
      });
    case 'COINBASE':
      return JSON.stringify({
        channel: 'market_trades',
        client_id: '',
        timestamp: iso(t.timeMs + 1),
        sequence_num: seq,
        events: [
          { type: 'update', trades: [{ trade_id: t.tradeId, product_id: t.venueSymbol, price: t.price, size: t.size, side: t.side, time: iso(t.timeMs) }] },
        ],
      });
  }
}

export function coinbaseHeartbeat(seq: number): string {
  return JSON.stringify({
    channel: 'heartbeats',
    client_id: '',
    timestamp: iso(Date.now()),
    sequence_num: seq,
    events: [{ current_time: new Date().toISOString(), heartbeat_counter: seq }],
  });
}

/** ms → ISO-8601 with six fractional digits, as Kraken v2 writes times. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

export function json(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
