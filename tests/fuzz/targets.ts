// Property-based fuzzing (fast-check) of every parser that takes bytes or text from outside: the tick decoder
// (and the fold behind it), the CSV and Avro container file readers, the WebSocket request validator, REST query
// parsing, API-key files, JWT handling, the venue adapters' WebSocket frames and the venues' trade history answers
// (gap filling: Binance, Kraken, OKX, Coinbase). The property of each: whatever the input, the parser either accepts
// it or rejects it with a TickEngineError carrying an expected code — never a crash, never an internal error.
// Accepted input is also checked against an independent reading where one exists (avsc for the decoder).
// Run by tests/fuzz/fuzz.test.ts (a few thousand cases per target) and bench/fuzz.ts (100,000 and more).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { preAggregate } from '../../src/runtime/pre-aggregate.js';
import { packBatch } from '../../src/stream/packed-batch.js';
import { TickEngineError } from '../../src/errors.js';
import { Authenticator } from '../../src/gateway/auth/auth.js';
import { parseBarsQuery } from '../../src/gateway/rest/bars-query.js';
import { parseRequest } from '../../src/gateway/ws/protocol.js';
import { readAvroTickBatches, readCsvTickBatches } from '../helpers/tick-records.js';
import { CSV_HEADER, tickToCsv } from '../../src/ingest/files/csv-ticks.js';
import type { Tick } from '../../src/contracts/tick.js';
import { tickProblem } from '../../src/contracts/validate.js';
import { schema } from '../../src/stream/schemas.js';
import { decode } from '../../src/stream/serde.js';
import { emptyTick } from '../../src/contracts/tick-cursor.js';
import { TickDecoder } from '../../src/stream/tick-decoder.js';
import { VENUE_ADAPTERS, VENUES } from '../../src/ingest/venues/index.js';
import { parseBinanceHistory, type BinanceTradeKind } from '../../src/ingest/feeds/binance-gap-filler.js';
import { parseCoinbaseTrades } from '../../src/ingest/feeds/coinbase-gap-filler.js';
import { parseKrakenTrades } from '../../src/ingest/feeds/kraken-gap-filler.js';
import { parseOkxHistory } from '../../src/ingest/feeds/okx-gap-filler.js';
import type { VenueTrade } from '../../src/ingest/venues/venue-adapter.js';
import { readBatch } from '../../src/push/batch.js';

/** How one input ended: accepted, or rejected with a code. Anything else thrown is a failure of the property. */
export type Outcome = 'accepted' | `rejected:${string}`;

export interface FuzzTarget {
  name: string;
  /** Codes a rejection may carry. */
  codes: readonly string[];
  /** The property over one input; `record` counts outcomes. */
  property(record: (o: Outcome) => void): fc.IAsyncPropertyWithHooks<unknown[]>;
}

/** Runs `fn`; a TickEngineError with an expected code is a rejection, anything else is rethrown (the property fails). */
async function outcome(codes: readonly string[], fn: () => unknown): Promise<Outcome> {
  try {
    await fn();
    return 'accepted';
  } catch (err) {
    if (err instanceof TickEngineError && codes.includes(err.code)) return `rejected:${err.code}`;
    throw err;
  }
}

// ------------------------------------------------------------------------------------------------ ticks on the wire

const tickType = schema('tick').type as avro.Type;
const SIDES = ['BUY', 'SELL', 'UNKNOWN'] as const;

const tickArb: fc.Arbitrary<Tick> = fc.record({
  venue: fc.string({ maxLength: 12 }),
  symbol: fc.oneof(fc.constantFrom('BTC-USD', 'ETH-USD', 'AAPL'), fc.string({ maxLength: 70 })),
  eventTime: fc.oneof(fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }), fc.constant(2 ** 52), fc.integer()),
  price: fc.oneof(fc.double({ min: 0.0001, max: 1e6, noNaN: true }), fc.double()),
  size: fc.oneof(fc.double({ min: 0.0001, max: 1e4, noNaN: true }), fc.double()),
  side: fc.constantFrom(...SIDES),
  tradeId: fc.oneof(fc.nat().map(String), fc.string({ maxLength: 140 })),
  ingestTime: fc.oneof(fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }), fc.constant(0), fc.integer()),
});

const wire = (t: Tick): Buffer => {
  const body = tickType.toBuffer(t);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schema('tick').id, 1);
  return Buffer.concat([header, body]);
};

/** A byte string: random, or an encoded tick mutated (bytes flipped, cut, or extended). */
const recordBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  tickArb.map(wire),
  fc
    .tuple(tickArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.integer({ min: -20, max: 20 }))
    .map(([t, flips, cut]) => {
      const b = Buffer.from(wire(t));
      for (const [at, v] of flips) b[at % b.length] = v;
      return cut < 0 ? b.subarray(0, Math.max(0, b.length + cut)) : Buffer.concat([b, Buffer.alloc(cut, 0x7f)]);
    }),
);

const decoderTarget: FuzzTarget = {
  name: 'tick decoder (Kafka record values) and the fold behind it',
  codes: ['TE_DECODE', 'TE_INVALID_TICK', 'TE_LATE_TICK'],
  property: (record) =>
    fc.asyncProperty(fc.array(recordBytes, { minLength: 1, maxLength: 8 }), async (values) => {
      const decoder = new TickDecoder();
      for (const v of values) {
        const out = emptyTick();
        const problem = decoder.decodeInto(v, 0, v.length, out);
        if (problem === null) {
          // Accepted: avsc reads the same bytes (either tick schema version, by the record's id) to the same tick.
          const ref = decode<Tick>(schema('tick'), v);
          for (const k of Object.keys(ref) as (keyof Tick)[]) {
            const [a, b] = k === 'sequence' ? [JSON.stringify(out[k]), JSON.stringify(ref[k])] : [out[k], ref[k]];
            if (!Object.is(a, b)) throw new Error(`decoded ${k} ${String(a)}, avsc reads ${String(b)}`);
          }
        } else if (typeof problem !== 'string' || problem === '') throw new Error('a rejection without a reason');
      }
      // The worker's task on the same batch: every record accepted or rejected with a code and a reason.
      const res = preAggregate({
        ...packBatch(
          values,
          values.map((_, i) => i),
        ),
        interval: { name: '1s', micros: 1_000_000 },
        watermark: -Infinity,
        maxOutOfOrder: 1_000_000,
        allowedLateness: 0,
        maxAhead: 60_000_000,
        origin: 0,
      });
      for (const r of res.rejects) {
        if (!decoderTarget.codes.includes(r.code) || !r.reason) throw new Error(`reject ${JSON.stringify(r)}`);
        record(`rejected:${r.code}`);
      }
      for (let i = 0; i < res.accepted; i++) record('accepted');
      if (res.accepted + res.rejects.length !== values.length) throw new Error('a record neither accepted nor rejected');
    }),
};

// ------------------------------------------------------------------------------------------------ files

const tmp = () => mkdtempSync(join(tmpdir(), 'te-fuzz-'));

const csvField = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('BTC-USD', 'SIM', 'BUY', 'SELL', 'UNKNOWN', '1', '0.5', '1e3', '-1', '', ' ', '1704067200000000', 'NaN', '1.2.3', '9'.repeat(30)),
  fc.double().map(String),
);
/** Plausible ticks (most pass validation), so accepted input is exercised too. */
const goodTickArb: fc.Arbitrary<Tick> = fc.record({
  venue: fc.constantFrom('SIM', 'BINANCE'),
  symbol: fc.constantFrom('BTC-USD', 'ETH-USD', 'AAPL'),
  eventTime: fc.integer({ min: 1_700_000_000_000_000, max: 1_700_000_100_000_000 }),
  price: fc.double({ min: 0.01, max: 1e5, noNaN: true }),
  size: fc.double({ min: 0.0001, max: 1e3, noNaN: true }),
  side: fc.constantFrom(...SIDES),
  tradeId: fc.nat().map(String),
  ingestTime: fc.constant(0),
});
const csvLine = fc.oneof(
  goodTickArb.map(tickToCsv),
  fc.tuple(goodTickArb, fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([t, at, c]) => {
    const line = tickToCsv(t);
    return line.slice(0, at % line.length) + c + line.slice((at % line.length) + 1);
  }),
  fc.array(csvField, { minLength: 7, maxLength: 7 }).map((f) => f.join(',')),
  fc.array(csvField, { maxLength: 9 }).map((f) => f.join(',')),
  fc.string({ maxLength: 60 }),
);

const csvTarget: FuzzTarget = {
  name: 'CSV tick file reader',
  codes: ['TE_INVALID_TICK', 'TE_DECODE'],
  property: (record) =>
    fc.asyncProperty(
      fc.boolean(),
      fc.array(csvLine, { maxLength: 20 }),
      fc.constantFrom('\n', '\r\n'),
      fc.integer({ min: 1, max: 64 }),
      async (withHeader, lines, nl, chunk) => {
        const dir = tmp();
        try {
          const path = join(dir, 't.csv');
          writeFileSync(path, (withHeader ? [CSV_HEADER, ...lines] : lines).join(nl));
          const o = await outcome(csvTarget.codes, async () => {
            for await (const batch of readCsvTickBatches(path, chunk))
              for (const r of batch) {
                if (r.tick) {
                  if (tickProblem(r.tick) === null) record('accepted');
                  else record('rejected:TE_INVALID_TICK'); // parsed, but implausible: the fold rejects it
                } else if (typeof r.error === 'string' && r.error) record('rejected:TE_DECODE');
                else throw new Error(`line ${r.offset}: neither a tick nor an error`);
              }
          });
          if (o !== 'accepted') record(o);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    ),
};

/** An Avro object container file of ticks, written by hand from the specification (so its bytes can be mutated). */
function containerFile(ticks: Tick[], codec: 'null' | 'deflate', blockSize: number): Buffer {
  const sync = Buffer.from('0123456789abcdef');
  const header = avro.Type.forSchema({
    type: 'record',
    name: 'org.apache.avro.file.Header',
    fields: [
      { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
      { name: 'meta', type: { type: 'map', values: 'bytes' } },
      { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
    ],
  });
  const parts = [
    header.toBuffer({
      magic: Buffer.from([0x4f, 0x62, 0x6a, 0x01]),
      meta: { 'avro.schema': Buffer.from(JSON.stringify(tickType.schema())), 'avro.codec': Buffer.from(codec) },
      sync,
    }),
  ];
  const long = avro.Type.forSchema('long');
  for (let i = 0; i < ticks.length; i += blockSize) {
    const block = ticks.slice(i, i + blockSize);
    let data = Buffer.concat(block.map((t) => tickType.toBuffer(t)));
    if (codec === 'deflate') data = deflateRawSync(data);
    parts.push(long.toBuffer(block.length), long.toBuffer(data.length), data, sync);
  }
  return Buffer.concat(parts);
}

const avroTarget: FuzzTarget = {
  name: 'Avro container file reader',
  codes: ['TE_DECODE'],
  property: (record) =>
    fc.asyncProperty(
      fc.array(fc.oneof(goodTickArb, tickArb), { maxLength: 12 }),
      fc.constantFrom('null', 'deflate' as const),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.integer({ min: -40, max: 8 }),
      fc.integer({ min: 1, max: 300 }),
      async (ticks, codec, blockSize, flips, cut, chunk) => {
        const dir = tmp();
        try {
          const b = containerFile(ticks, codec as 'null' | 'deflate', blockSize);
          for (const [at, v] of flips) b[at % b.length] = v;
          const bytes = cut < 0 ? b.subarray(0, Math.max(0, b.length + cut)) : Buffer.concat([b, Buffer.alloc(cut, 1)]);
          const path = join(dir, 't.avro');
          writeFileSync(path, bytes);
          let n = 0;
          const o = await outcome(avroTarget.codes, async () => {
            for await (const batch of readAvroTickBatches(path, chunk)) n += batch.length;
          });
          if (o === 'accepted') for (let i = 0; i < n; i++) record('accepted');
          else record(o);
          if (o === 'accepted' && flips.length === 0 && cut === 0 && n !== ticks.length) throw new Error(`an intact file gave ${n} of ${ticks.length} ticks`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    ),
};

// ------------------------------------------------------------------------------------------------ gateway input

const INTERVALS = new Set(['1s', '1m']);
const requestArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        op: fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'ping'), fc.jsonValue()),
        id: fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.jsonValue()),
        channel: fc.oneof(fc.constantFrom('bars', 'trades', 'signals'), fc.jsonValue()),
        interval: fc.oneof(fc.constantFrom('1s', '1m', '5m'), fc.jsonValue()),
        symbols: fc.oneof(
          fc.array(fc.oneof(fc.constantFrom('BTC-USD', '*', 'BTC-*', '?', ''), fc.string({ maxLength: 70 }), fc.jsonValue()), { maxLength: 6 }),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.integer({ min: 1, max: 5000 }).map((d) => `{"op":"subscribe","symbols":${'['.repeat(d)}${']'.repeat(d)}}`),
);

const wsTarget: FuzzTarget = {
  name: 'WebSocket request validator',
  codes: ['TE_BAD_REQUEST'],
  property: (record) =>
    fc.asyncProperty(requestArb, async (text) => {
      record(await outcome(wsTarget.codes, () => parseRequest(text, INTERVALS)));
    }),
};

const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '1s',
    '1m',
    '0',
    '-1',
    '2024-01-01',
    '2024-02-30',
    '0000-01-01T00:00:00Z',
    '2024-01-01T00:00:00+25:00',
    '5000',
    '5001',
    'YjoxMjM',
    '9'.repeat(25),
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer().map(String),
);
const restTarget: FuzzTarget = {
  name: 'REST history query parsing',
  codes: ['TE_BAD_REQUEST'],
  property: (record) =>
    fc.asyncProperty(
      fc.oneof(fc.constantFrom('BTC-USD', 'EUR/USD', '*', ''), fc.string({ maxLength: 70 })),
      fc.oneof(
        // A well-formed query, most often accepted.
        fc
          .record(
            {
              interval: fc.constantFrom('1s', '1m'),
              from: fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
              to: fc.constantFrom('2150-01-01', '2199-12-31T23:59:59Z'),
              limit: fc.integer({ min: 1, max: 5000 }).map(String),
            },
            { requiredKeys: ['interval'] },
          )
          .map((o) => Object.entries(o)),
        fc.array(fc.tuple(fc.oneof(fc.constantFrom('interval', 'from', 'to', 'limit', 'cursor'), fc.string({ maxLength: 8 })), queryValue), { maxLength: 6 }),
      ),
      async (symbol, params) => {
        const query = new URLSearchParams(params).toString();
        record(
          await outcome(restTarget.codes, () => {
            const q = parseBarsQuery(symbol, query, INTERVALS);
            if (!(q.from >= 0 && q.from < q.to && q.limit >= 1)) throw new Error(`accepted an impossible query ${JSON.stringify(q)}`);
          }),
        );
      },
    ),
};

const keyEntry = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 70 }), fc.jsonValue()),
    key: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue()),
    sha256: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ maxLength: 70 })),
    symbols: fc.oneof(fc.array(fc.oneof(fc.constantFrom('*', 'BTC-*', ''), fc.string({ maxLength: 70 }))), fc.jsonValue()),
    limits: fc.oneof(
      fc.record({ maxConnections: fc.jsonValue(), maxSubscriptions: fc.double(), requestsPerSecond: fc.double() }, { requiredKeys: [] }),
      fc.jsonValue(),
    ),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const apiKeysTarget: FuzzTarget = {
  name: 'API-key files',
  codes: ['TE_CONFIG'],
  property: (record) =>
    fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 100 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.array(keyEntry, { maxLength: 4 }).map((v) => JSON.stringify(v)),
      ),
      async (text) => {
        record(
          await outcome(apiKeysTarget.codes, () => {
            const entries = Authenticator.parseApiKeys(text, 'TE_API_KEYS_FILE');
            // What parses must also build an authenticator (the constructor checks the same rules).
            new Authenticator({ enabled: true, apiKeys: entries, defaults: { maxConnections: 1, maxSubscriptions: 1, requestsPerSecond: 1 } });
          }),
        );
      },
    ),
};

const SECRET = 's'.repeat(40);
const auth = new Authenticator({
  enabled: true,
  hs256Secret: SECRET,
  apiKeys: [{ id: 'k', key: 'the-key', symbols: ['*'] }],
  defaults: { maxConnections: 1, maxSubscriptions: 1, requestsPerSecond: 1 },
  maxLifetimeS: 3600,
});
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const jwtArb: fc.Arbitrary<Promise<string>> = fc.oneof(
  fc.string({ maxLength: 200 }).map(async (s) => s),
  // Properly signed, with any claims.
  fc
    .record(
      {
        sub: fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue()),
        exp: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
        symbols: fc.jsonValue(),
        nbf: fc.oneof(fc.integer(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map(async (claims) => {
      const body = b64(claims);
      const head = b64({ alg: 'HS256', typ: 'JWT' });
      const { createHmac } = await import('node:crypto');
      const sig = createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url');
      return `${head}.${body}.${sig}`;
    }),
  // A valid token, then damaged.
  fc.tuple(fc.integer({ min: -100, max: 7200 }), fc.nat(), fc.integer({ min: 0, max: 127 })).map(async ([ttl, at, ch]) => {
    const tok = await new SignJWT({ symbols: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
      .sign(new TextEncoder().encode(SECRET));
    return ch % 2 ? tok : tok.slice(0, at % tok.length) + String.fromCharCode(ch) + tok.slice((at % tok.length) + 1);
  }),
  // Any header.
  fc.tuple(fc.jsonValue(), fc.jsonValue(), fc.string({ maxLength: 20 })).map(async ([h, p, s]) => `${b64(h)}.${b64(p)}.${s}`),
);
const jwtTarget: FuzzTarget = {
  name: 'JWT and credential handling',
  codes: ['TE_UNAUTHORIZED', 'TE_FORBIDDEN'],
  property: (record) =>
    fc.asyncProperty(jwtArb, fc.constantFrom('bearer', 'token', 'apikey', 'raw'), async (token, where) => {
      const tok = await token;
      const creds =
        where === 'bearer'
          ? { authorization: `Bearer ${tok}` }
          : where === 'token'
            ? { token: tok }
            : where === 'apikey'
              ? { apiKey: tok }
              : { authorization: tok };
      record(
        await outcome(jwtTarget.codes, async () => {
          const p = await auth.authenticate(creds);
          if (p.expiresAt !== undefined && !(p.expiresAt - Date.now() <= 3_605_000)) throw new Error(`accepted a token living until ${p.expiresAt}`);
        }),
      );
    }),
};

// ------------------------------------------------------------------------------------------------ venue frames

/** One trade message of each kind the venue adapters read; the fuzzer damages one to three of their leaves. */
const VENUE_TEMPLATES: readonly unknown[] = [
  { stream: 'btcusdt@trade', data: { e: 'trade', E: 1, s: 'BTCUSDT', t: 12345, p: '0.001', q: '100', T: 1_700_000_000_000, m: true, M: true } },
  { e: 'aggTrade', E: 1, s: 'NKNUSDT', a: 15683430, p: '0.35280000', q: '58.00000000', f: 1, l: 1, T: 1633998523963, m: false, M: true },
  {
    channel: 'market_trades',
    events: [
      { type: 'update', trades: [{ trade_id: '1', product_id: 'BTC-USD', price: '100.5', size: '0.1', side: 'BUY', time: '2023-02-09T20:19:35.123456789Z' }] },
    ],
  },
  { type: 'match', trade_id: 280232, side: 'sell', size: '985', price: '0.00001305', product_id: 'SKL-BTC', time: '2021-04-17T16:43:37.089723Z' },
  [993, [['354.11000000', '0.89594024', '1618678142.557535', 's', 'l', '']], 'trade', 'XBT/USD'],
  {
    channel: 'trade',
    type: 'update',
    data: [{ symbol: 'BTC/USD', side: 'sell', price: 26472.5, qty: 0.005, ord_type: 'market', trade_id: 62811238, timestamp: '2023-09-25T07:50:01.123456Z' }],
  },
  { topic: 'publicTrade.BTCUSDT', type: 'snapshot', ts: 1, data: [{ T: 1672304486865, s: 'BTCUSDT', S: 'Buy', v: '0.001', p: '16578.50', i: '1', BT: false }] },
  { topic: 'trade.BCHUSDT', data: [{ symbol: 'BCHUSDT', price: '1053.90', size: 0.14, trade_time_ms: '1618677785116', side: 'Buy', trade_id: 'x' }] },
  {
    arg: { channel: 'trades', instId: 'BTC-USDT' },
    data: [{ instId: 'BTC-USDT', tradeId: '338476307', px: '30236', sz: '0.0002', side: 'buy', ts: '1652459224818', count: '3' }],
  },
];

/** The paths of a value's leaves (and of its arrays and objects, so whole parts can be replaced too). */
function leafPaths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof v !== 'object' || v === null) return [at];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [at, ...keys.flatMap((k) => leafPaths((v as Record<string | number, unknown>)[k], [...at, k]))];
}

const venueValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    undefined,
    null,
    '',
    '-1',
    '-0.5',
    '1e5',
    'abc',
    'NaN',
    ' 1',
    '0x10',
    '0',
    -1,
    1.5,
    2 ** 60,
    1e308,
    true,
    '2023-02-30T00:00:00Z',
    'buy',
    'Sell',
  ),
  fc.constantFrom('1618678142.5', '2021-04-17T16:43:37.0897231234Z', '9'.repeat(30), 'XBT/USD', 'BTC-USD-SWAP', 'BTCXYZ'),
);
/** Random text, random JSON, or one of `templates` with one to three of its leaves (or parts) replaced or removed. */
const damaged = (templates: readonly unknown[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.tuple(fc.constantFrom(...templates), fc.array(fc.tuple(fc.nat(), venueValue), { maxLength: 3 })).map(([template, changes]) => {
      let v = structuredClone(template);
      for (const [at, value] of changes) {
        const paths = leafPaths(v);
        const path = paths[at % paths.length]!;
        if (path.length === 0) v = value;
        else {
          const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], v) as Record<string | number, unknown>;
          if (value === undefined) delete parent[path[path.length - 1]!];
          else parent[path[path.length - 1]!] = value;
        }
      }
      return JSON.stringify(v) ?? 'undefined';
    }),
  );
const venueFrame = damaged(VENUE_TEMPLATES);
const venuesTarget: FuzzTarget = {
  name: 'venue adapters (WebSocket frames)',
  codes: ['TE_DECODE'],
  property: (record) =>
    fc.asyncProperty(fc.constantFrom(...VENUES), venueFrame, async (venue, frame) => {
      const adapter = VENUE_ADAPTERS[venue];
      record(
        await outcome(venuesTarget.codes, () => {
          for (const { tick: k, venueSymbol, idSpan } of adapter.parse(frame, 1)) {
            const ok =
              k.venue === venue &&
              (idSpan === undefined || (Number.isSafeInteger(idSpan) && idSpan >= 1)) &&
              typeof venueSymbol === 'string' &&
              venueSymbol.length > 0 &&
              typeof k.symbol === 'string' &&
              k.symbol.length > 0 &&
              Number.isSafeInteger(k.eventTime) &&
              Number.isFinite(k.price) &&
              k.price >= 0 &&
              Number.isFinite(k.size) &&
              k.size >= 0 &&
              (k.side === 'BUY' || k.side === 'SELL') &&
              typeof k.tradeId === 'string' &&
              k.tradeId.length > 0 &&
              k.ingestTime === 1;
            if (!ok) throw new Error(`${venue} accepted a malformed trade ${JSON.stringify(k)} from ${frame}`);
          }
        }),
      );
    }),
};

// ------------------------------------------------------------------------------------------------ venue histories

/** Binance's REST history answers, as the gap filler reads them (src/ingest/feeds/binance-gap-filler.ts). */
const BINANCE_HISTORY_TEMPLATES: readonly unknown[] = [
  [
    { id: 28457, price: '4.00000100', qty: '12.00000000', quoteQty: '48.000012', time: 1499865549590, isBuyerMaker: true, isBestMatch: true },
    { id: 28458, price: '4.00000200', qty: '1.00000000', quoteQty: '4.000002', time: 1499865549591, isBuyerMaker: false, isBestMatch: true },
  ],
  [{ a: 26129, p: '0.01633102', q: '4.70443515', f: 27781, l: 27781, T: 1498793709153, m: true, M: true }],
  { code: -1121, msg: 'Invalid symbol.' },
];
const binanceHistoryTarget: FuzzTarget = {
  name: 'Binance trade history answers (gap filling)',
  codes: ['TE_DECODE'],
  property: (record) =>
    fc.asyncProperty(fc.constantFrom<BinanceTradeKind>('trade', 'aggTrade'), damaged(BINANCE_HISTORY_TEMPLATES), async (kind, body) => {
      record(
        await outcome(binanceHistoryTarget.codes, () => {
          for (const { tick: k, venueSymbol, snapshot } of parseBinanceHistory(kind, body, 'BTCUSDT', 1)) {
            const ok =
              venueSymbol === 'BTCUSDT' &&
              snapshot &&
              k.venue === 'BINANCE' &&
              k.symbol === 'BTC-USDT' &&
              Number.isSafeInteger(k.eventTime) &&
              Number.isFinite(k.price) &&
              k.price >= 0 &&
              Number.isFinite(k.size) &&
              k.size >= 0 &&
              (k.side === 'BUY' || k.side === 'SELL') &&
              /^\d+$/.test(k.tradeId) &&
              k.ingestTime === 1;
            if (!ok) throw new Error(`accepted a malformed trade ${JSON.stringify(k)} from ${body}`);
          }
        }),
      );
    }),
};

/**
 * A history trade accepted from `body` must be well-typed, of the venue and symbol asked (OKX: the instrument the
 * answer names, undefined here), its id decimal digits.
 */
function checkHistoryTrades(trades: readonly VenueTrade[], venue: string, symbol: string | undefined, body: string): void {
  for (const { tick: k, venueSymbol, snapshot, idSpan } of trades) {
    const ok =
      snapshot &&
      k.venue === venue &&
      k.symbol === (symbol ?? venueSymbol.toUpperCase()) &&
      (idSpan === undefined || (Number.isSafeInteger(idSpan) && idSpan >= 1)) &&
      Number.isSafeInteger(k.eventTime) &&
      Number.isFinite(k.price) &&
      k.price >= 0 &&
      Number.isFinite(k.size) &&
      k.size >= 0 &&
      (k.side === 'BUY' || k.side === 'SELL') &&
      /^\d+$/.test(k.tradeId) &&
      k.ingestTime === 1;
    if (!ok) throw new Error(`accepted a malformed trade ${JSON.stringify(k)} from ${body}`);
  }
}

/** Kraken's, OKX's and Coinbase's REST history answers, as their gap fillers read them (one template each, and errors). */
const OTHER_HISTORY_TEMPLATES: readonly unknown[] = [
  {
    error: [],
    result: {
      XXBTZUSD: [
        ['30243.40000', '0.34507674', 1688669597.8277369, 'b', 'm', '', 61044952],
        ['30243.30000', '0.00376960', 1688669598.2804112, 's', 'l', '', 61044953],
      ],
      last: '1688671969993150842',
    },
  },
  { error: ['EQuery:Unknown asset pair'] },
  {
    code: '0',
    msg: '',
    data: [{ instId: 'BTC-USDT', side: 'sell', sz: '0.00001', source: '0', px: '29963.2', tradeId: '242720720', ts: '1654161646974', count: '2' }],
  },
  { code: '51001', msg: 'Instrument ID does not exist', data: [] },
  [{ time: '2020-03-20T00:36:59.860Z', trade_id: 86327327, price: '6225.32000000', size: '0.06469797', side: 'sell' }],
  { message: 'NotFound' },
];
const HISTORY_PARSERS = {
  KRAKEN: (body: string) => checkHistoryTrades(parseKrakenTrades(body, 'BTC/USD', 1).trades, 'KRAKEN', 'BTC-USD', body),
  OKX: (body: string) => checkHistoryTrades(parseOkxHistory(body, 1), 'OKX', undefined, body),
  COINBASE: (body: string) => checkHistoryTrades(parseCoinbaseTrades(body, 'BTC-USD', 1), 'COINBASE', 'BTC-USD', body),
} as const;
const otherHistoriesTarget: FuzzTarget = {
  name: 'Kraken, OKX and Coinbase trade history answers (gap filling)',
  codes: ['TE_DECODE'],
  property: (record) =>
    fc.asyncProperty(fc.constantFrom<keyof typeof HISTORY_PARSERS>('KRAKEN', 'OKX', 'COINBASE'), damaged(OTHER_HISTORY_TEMPLATES), async (venue, body) => {
      // The OKX instrument is whatever the answer says; only BTC-USDT answers are checked against it.
      record(
        await outcome(otherHistoriesTarget.codes, () =>
          venue === 'OKX' && !body.includes('BTC-USDT') ? parseOkxHistory(body, 1) : HISTORY_PARSERS[venue](body),
        ),
      );
    }),
};

// ------------------------------------------------------------------------------------------------ pushed batches

const PUSH_TEMPLATES = [
  { type: 'trade', venue: 'BRK', symbol: 'XAUUSD', eventTime: 1_704_067_200_000_000, price: 2050.5, size: 2, side: 'SELL', tradeId: 'T-1' },
  { type: 'quote', venue: 'BRK', symbol: 'EURUSD', eventTime: 1_704_067_200_000_000, bid: 1.1, ask: 1.1002 },
  { type: 'mt5', venue: 'MT5-DEMO', symbol: 'EURUSD', time_msc: 1_704_067_200_123, bid: 1.1, ask: 1.1002, last: 1.1001, volume: 3, flags: 30, seq: 2 },
] as const;
const PUSH_CONTEXT = { ingestTime: 1_704_067_201_000_000, maxAheadMicros: 60_000_000 };

/** An NDJSON body of damaged records and odd lines, or framed Avro records back to back (whole, cut or flipped). */
const pushBodyArb: fc.Arbitrary<['ndjson' | 'avro', Buffer]> = fc.oneof(
  fc
    .array(
      fc.oneof(
        damaged(PUSH_TEMPLATES),
        fc.constantFrom('', '  ', '\r', '\uFFFF', '{"type":"trade"'),
        fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a).toString('latin1')),
      ),
      {
        maxLength: 8,
      },
    )
    .map((ls): ['ndjson', Buffer] => ['ndjson', Buffer.from(ls.join('\n'))]),
  fc.array(recordBytes, { maxLength: 5 }).map((rs): ['avro', Buffer] => ['avro', Buffer.concat(rs)]),
);

const pushTarget: FuzzTarget = {
  name: 'pushed batches (NDJSON and framed Avro)',
  codes: ['TE_BAD_REQUEST'],
  property: (record) =>
    fc.asyncProperty(pushBodyArb, async ([format, body]) => {
      record(
        await outcome(pushTarget.codes, () => {
          const records = readBatch(format, body, 100, PUSH_CONTEXT);
          // A record is taken (its items) or refused with a code and a reason: never neither, never both.
          for (const r of records)
            if ((r.items === undefined) === (r.error === undefined) || (r.error && (!r.error.code || !r.error.reason)))
              throw new Error(`record ${r.index}: neither items nor a coded error: ${JSON.stringify(r)}`);
        }),
      );
    }),
};

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  decoderTarget,
  csvTarget,
  avroTarget,
  wsTarget,
  restTarget,
  apiKeysTarget,
  jwtTarget,
  venuesTarget,
  binanceHistoryTarget,
  otherHistoriesTarget,
  pushTarget,
];

export interface FuzzResult {
  name: string;
  runs: number;
  outcomes: Record<string, number>;
  failed: boolean;
  counterexample?: string;
  error?: string;
  seconds: number;
}

/**
 * Run one target for `runs` cases; never throws (a failure is in the result, with fast-check's shrunk
 * counterexample). `onCase` is called before each case (a watchdog's heartbeat). An asynchronous case taking
 * longer than 20 s fails; a synchronous endless loop can only be caught from outside (bench/fuzz.ts runs each
 * target in a worker thread and watches it).
 */
export async function runTarget(target: FuzzTarget, runs: number, seed?: number, onCase?: () => void): Promise<FuzzResult> {
  const outcomes: Record<string, number> = {};
  const t0 = performance.now();
  const property = target
    .property((o) => {
      outcomes[o] = (outcomes[o] ?? 0) + 1;
    })
    .beforeEach(async (previous) => {
      onCase?.();
      await previous();
    });
  const report = await fc.check(property, { numRuns: runs, seed, endOnFailure: true, timeout: 20_000 });
  return {
    name: target.name,
    runs: report.numRuns,
    outcomes,
    failed: report.failed,
    counterexample: report.failed ? fc.stringify(report.counterexample).slice(0, 2000) : undefined,
    error: report.failed
      ? String(report.errorInstance instanceof Error ? (report.errorInstance.stack ?? report.errorInstance.message) : report.errorInstance).slice(0, 2000)
      : undefined,
    seconds: (performance.now() - t0) / 1000,
  };
}
