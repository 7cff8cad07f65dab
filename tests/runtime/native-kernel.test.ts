// The native kernel (native/, runtime/native-kernel.ts) against its TypeScript twin: the same packed batches through
// NativeCursor and PackedCursor give the same accept/reject decision, the same reason, the same field values (doubles
// compared with Object.is, so -0 and NaN count) and the same lazy trade ids, record by record; and the whole
// pre-aggregation of a batch (preAggregate with kernel 'native' and 'ts') gives the same BatchOutput, compared
// through a canonical form that keeps every double exactly. Batches: random ticks of both schema versions, edge
// values, hand-built adversarial records (padded and over-long varints, huge and negative lengths, wrong magic and
// schema ids, truncations, trailing bytes, byte flips, null values), values lying in a larger buffer (`starts`), and
// enough distinct symbols to overflow the addon's interner. The addon must be built (npm install builds it): this
// test fails, never skips, when it is not.
import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tick } from '../../src/contracts/tick.js';
import { emptyTick, type TickCursor } from '../../src/contracts/tick-cursor.js';
import { Prng } from '../../src/ingest/prng.js';
import { addonPath, chooseKernel, NativeCursor, nativeFoldCounts } from '../../src/runtime/native-kernel.js';
import { preAggregate, type BatchInput } from '../../src/runtime/pre-aggregate.js';
import { packBatch, PackedCursor, type PackedBatch } from '../../src/stream/packed-batch.js';
import { schema } from '../../src/stream/schemas.js';
import { EDGE_DOUBLES, EDGE_LONGS, randomString, randomTick } from '../helpers/random-ticks.js';
import { encode } from '../../src/stream/serde.js';
import { parseInterval } from '../../src/contracts/interval.js';
import { VENUE_ADAPTERS } from '../../src/ingest/venues/index.js';
import { recordedFrames } from '../helpers/venue-recordings.js';

const s = schema('tick');
const s1 = schema('tick', { version: 1 });

t.ok(existsSync(addonPath()), `the addon is built at ${addonPath()} (npm install runs scripts/build-native.sh)`);
t.equal(chooseKernel('auto').kernel, 'native', 'TE_KERNEL=auto picks the built addon');
t.equal(chooseKernel('ts').kernel, 'ts', 'TE_KERNEL=ts forces the TypeScript twin');
t.test('without the addon: auto falls back to ts, native fails naming TE_KERNEL', async (t) => {
  const missing = '/nonexistent/tick_kernel.node';
  t.match(chooseKernel('auto', missing), { kernel: 'ts', why: /not built/ });
  t.throws(() => chooseKernel('native', missing), {
    name: 'ConfigError',
    code: 'TE_CONFIG',
    key: 'TE_KERNEL',
    message: /TE_KERNEL: the native kernel .* cannot run: not built/,
  });
  const notAnAddon = join(mkdtempSync(join(tmpdir(), 'kernel-')), 'tick_kernel.node');
  writeFileSync(notAnAddon, 'not a shared object');
  t.match(chooseKernel('auto', notAnAddon), { kernel: 'ts', why: /does not load/ });
});

/** A record read through a cursor, as plain data: the reason, or every tick field and the lazy id's bytes. */
function readAll(c: TickCursor): string[] {
  const out: string[] = [];
  const tick = emptyTick();
  for (let i = 0; i < c.count; i++) {
    const problem = c.read(i, tick);
    if (problem !== null) {
      out.push(`reject ${problem}`);
      continue;
    }
    const id = c.idLazy ? `lazy:${c.idBuf!.toString('latin1', c.idPos, c.idPos + c.idLen)}` : 'eager';
    out.push(canonical({ ...tick, sequence: tick.sequence ? { ...tick.sequence } : tick.sequence }) + ` ${id} @${c.offset(i)}`);
  }
  return out;
}

/** A value as text keeping every number exactly (-0 and NaN included) and typed arrays element by element. */
function canonical(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v === null || v === undefined || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (ArrayBuffer.isView(v)) return `[${Array.from(v as unknown as ArrayLike<number>, canonical).join(',')}]`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v instanceof Map) return `Map{${[...v].map(([k, x]) => `${canonical(k)}:${canonical(x)}`).join(',')}}`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${k}:${canonical(x)}`)
    .join(',')}}`;
}

const native = new NativeCursor();
const ts = new PackedCursor();

/** Both cursors over the batch: the records that differ (at most 5). */
function differences(batch: PackedBatch): string[] {
  const a = readAll(ts.of(batch));
  const b = readAll(native.of(batch));
  const bad: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && bad.length < 5; i++) if (a[i] !== b[i]) bad.push(`record ${i}: ts ${a[i]} / native ${b[i]}`);
  return bad;
}

function counts(batch: PackedBatch): { accepted: number; rejected: number } {
  const r = readAll(ts.of(batch));
  const rejected = r.filter((x) => x.startsWith('reject')).length;
  return { accepted: r.length - rejected, rejected };
}

const record = (x: Tick, v1: boolean) => (v1 ? encode(s1, x) : encode(s, x));

/** The same values packed back to back, and lying in a larger buffer with junk between them (`starts`). */
function bothLayouts(values: (Buffer | null)[], rng: Prng): PackedBatch[] {
  const offsets = values.map((_, i) => 1000 + i);
  const packed = packBatch(values, offsets);
  const parts: Buffer[] = [];
  const starts = new Int32Array(values.length);
  let pos = 0;
  values.forEach((v, i) => {
    const junk = Buffer.alloc(rng.int(6), 0x80 | rng.int(128));
    parts.push(junk);
    pos += junk.length;
    starts[i] = pos;
    if (v) {
      parts.push(v);
      pos += v.length;
    }
  });
  parts.push(Buffer.alloc(3, 0x80));
  return [packed, { data: Buffer.concat(parts), lengths: packed.lengths, offsets: packed.offsets, starts }];
}

t.test('random ticks of both versions: same ticks, values and lazy ids', async (t) => {
  const rng = new Prng(20261202);
  const symbols = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? randomString(rng, 30) : `SYM${i}`));
  let accepted = 0;
  const bad: string[] = [];
  for (let b = 0; b < 40; b++) {
    const values = Array.from({ length: 1 + rng.int(2000) }, () =>
      record(randomTick(rng, symbols, { maxSymbol: 90, overlongTradeIds: true }), rng.next() < 0.25),
    );
    for (const batch of bothLayouts(values, rng)) {
      bad.push(...differences(batch));
      accepted += counts(batch).accepted;
    }
  }
  t.same(bad.slice(0, 5), [], 'every record reads the same through both kernels');
  t.ok(accepted > 50_000, `${accepted} ticks compared`);
});

t.test('edge values and hand-built adversarial records: same decision, reason and values', async (t) => {
  const rng = new Prng(7);
  const base: Tick = {
    venue: 'SIM',
    symbol: 'BTC-USD',
    eventTime: 1_704_067_200_123_456,
    price: 64000.01,
    size: 0.0123,
    side: 'SELL',
    tradeId: '42',
    ingestTime: 1_704_067_200_200_000,
    venueSymbol: null,
    sequence: null,
  };
  const h = (id: number, magic = 0) => {
    const x = Buffer.alloc(5);
    x[0] = magic;
    x.writeUInt32BE(id, 1);
    return x;
  };
  const varint = (bytes: number[]) => Buffer.from(bytes);
  const str = (x: string) => Buffer.concat([zig(Buffer.byteLength(x)), Buffer.from(x)]);
  function zig(v: number): Buffer {
    // Avro long (zigzag varint) for |v| < 2^31.
    let n = v >= 0 ? v * 2 : -v * 2 - 1;
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  }
  const dbl = (x: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(x);
    return b;
  };
  const ts8 = (v: number) => {
    // Canonical zigzag varint of a safe integer, in doubles.
    let n = v >= 0 ? v * 2 : -v * 2 - 1;
    const out: number[] = [];
    while (n >= 128) {
      out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  };
  type Parts = Partial<Record<'venue' | 'symbol' | 'eventTime' | 'price' | 'size' | 'side' | 'tradeId' | 'ingestTime' | 'tail', Buffer>>;
  const body = (p: Parts, id = s.id) =>
    Buffer.concat([
      h(id),
      p.venue ?? str(base.venue),
      p.symbol ?? str(base.symbol),
      p.eventTime ?? ts8(base.eventTime),
      p.price ?? dbl(base.price),
      p.size ?? dbl(base.size),
      p.side ?? zig(1),
      p.tradeId ?? str(base.tradeId),
      p.ingestTime ?? ts8(base.ingestTime),
      p.tail ?? (id === s.id ? Buffer.from([0, 0]) : Buffer.alloc(0)),
    ]);
  const ff = (n: number, last: number) => varint([...Array<number>(n).fill(0xff), last]);
  const values: (Buffer | null)[] = [
    null,
    Buffer.alloc(0),
    Buffer.from([0, 0, 0]),
    Buffer.from([0, 0, 0, 0, 7]),
    body({}, 99),
    Buffer.concat([h(s.id, 1), body({}).subarray(5)]),
    Buffer.concat([h(0xffffffff), body({}).subarray(5)]),
    body({}),
    body({}, s1.id),
    Buffer.concat([body({}), Buffer.from([0, 0, 0])]),
    // Padded (non-canonical) and over-long varints.
    body({ side: varint([0x80, 0x00]) }),
    body({ side: varint([0x82, 0x80, 0x80, 0x80, 0x00]) }),
    body({ eventTime: varint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]) }),
    body({ eventTime: varint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]) }),
    body({ venue: varint([0x86, 0x00, 0x41, 0x42, 0x43]) }),
    body({ eventTime: ff(7, 0x1f) }),
    body({ eventTime: varint([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]) }),
    body({ eventTime: varint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]) }),
    body({ ingestTime: ff(9, 0x01) }),
    body({ ingestTime: ff(12, 0x01) }),
    body({ eventTime: varint([...Array<number>(160).fill(0x80), 0x01]) }),
    body({ venue: varint([...Array<number>(160).fill(0x80), 0x01]) }),
    body({ venue: varint([...Array<number>(160).fill(0xff), 0x01]) }),
    body({ side: varint([...Array<number>(160).fill(0x80), 0x01]) }),
    body({ side: zig(0) }),
    body({ side: zig(2) }),
    body({ side: zig(3) }),
    body({ side: zig(-1) }),
    body({ side: ts8(2 ** 40) }),
    body({ side: ts8(-(2 ** 45) - 1) }),
    // String lengths: negative, huge, past the record, zero.
    body({ symbol: zig(-1) }),
    body({ symbol: ts8(-(2 ** 40)) }),
    body({ symbol: ts8(2 ** 40) }),
    body({ symbol: ff(4, 0x07) }),
    body({ tradeId: zig(200) }),
    body({ tradeId: varint([0x00]) }),
    body({ tradeId: str('x'.repeat(128)) }),
    body({ tradeId: str('x'.repeat(129)) }),
    body({ tradeId: str('é42') }),
    body({ symbol: str('s'.repeat(64)) }),
    body({ symbol: str('s'.repeat(65)) }),
    body({ symbol: varint([0x02, 0xff, 0xfe]) }),
    body({ symbol: varint([0x04, 0x41, 0xc3, 0x28, 0x42]) }),
    body({ tradeId: varint([0x06, 0xe2, 0x82, 0x41, 0x80, 0xed, 0xa0]) }),
    body({ venue: varint([0x06, 0xf0, 0x9f, 0x98]) }),
    body({ price: Buffer.from([1, 0, 0, 0, 0, 0, 0xf8, 0x7f]), size: Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0xff]) }),
    // Version 2 unions and the sequence record.
    body({ tail: Buffer.from([2, 0x08, 0x41, 0x42, 0x43, 0x44, 0]) }),
    body({ tail: Buffer.from([4, 0]) }),
    body({ tail: Buffer.from([0, 3]) }),
    body({ tail: Buffer.from([0, 2, 1, 0x02, 0x04]) }),
    body({ tail: Buffer.from([0, 2, 0]) }),
    body({ tail: Buffer.from([0, 2]) }),
    body({ tail: Buffer.concat([Buffer.from([0, 2, 7]), ff(9, 0x01), zig(5)]) }),
    body({ tail: Buffer.concat([Buffer.from([0, 2, 1]), varint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]), zig(5)]) }),
    body({ tail: Buffer.from([0]) }),
    body({ tail: Buffer.from([]) }),
  ];
  for (const v of EDGE_LONGS) values.push(encode(s, { ...base, eventTime: v, ingestTime: -v }));
  for (const v of EDGE_DOUBLES) for (const w of EDGE_DOUBLES) values.push(encode(s, { ...base, price: v, size: w }));
  // Every prefix of a few records, and random bytes behind valid headers.
  for (const r of [body({}), body({}, s1.id), encode(s, randomTick(rng, ['A']))]) for (let n = 0; n < r.length; n++) values.push(r.subarray(0, n));
  for (let k = 0; k < 3000; k++) {
    const b = Buffer.alloc(rng.int(80));
    for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
    values.push(Buffer.concat([h(k % 2 ? s.id : s1.id), b]));
  }
  let accepted = 0;
  let rejected = 0;
  for (const batch of bothLayouts(values, rng)) {
    t.same(differences(batch), [], `${batch.starts ? 'values in a larger buffer' : 'packed values'}: same decisions, reasons and values`);
    ({ accepted, rejected } = counts(batch));
  }
  t.ok(accepted > 100 && rejected > 1000, `both outcomes are exercised (${accepted} accepted, ${rejected} rejected)`);
});

t.test('byte flips of valid records: same decision, reason and values', async (t) => {
  const rng = new Prng(77);
  const records = Array.from({ length: 60 }, (_, i) => record(randomTick(rng, ['AAPL', 'MSFT', 'ÉTÉ']), i % 4 === 0));
  const bad: string[] = [];
  let accepted = 0;
  for (let b = 0; b < 20; b++) {
    const values = Array.from({ length: 3000 }, () => {
      const r = Buffer.from(records[rng.int(records.length)]!);
      for (let f = 1 + rng.int(3); f > 0; f--) {
        const at = rng.next() < 0.05 ? rng.int(5) : 5 + rng.int(r.length - 5);
        r[at] = rng.next() < 0.5 ? rng.int(256) : r[at]! ^ (1 << rng.int(8));
      }
      return r;
    });
    const batch = bothLayouts(values, rng)[b % 2]!;
    bad.push(...differences(batch));
    accepted += counts(batch).accepted;
  }
  t.same(bad.slice(0, 5), [], '60,000 corrupted records read the same');
  t.ok(accepted > 1000, `${accepted} of them accepted`);
});

t.test("more distinct venues and symbols than the addon's interner holds: strings stay right across batches", async (t) => {
  const rng = new Prng(11);
  const bad: string[] = [];
  for (let b = 0; b < 4; b++) {
    const values = Array.from({ length: 30_000 }, (_, i) =>
      record({ ...randomTick(rng, ['X']), venue: `V${b}-${i}`, symbol: `S${(b * 7919 + i) % 40_000}`, venueSymbol: `vs${i}` }, false),
    );
    bad.push(
      ...differences(
        packBatch(
          values,
          values.map((_, i) => i),
        ),
      ),
    );
  }
  t.same(bad, [], 'four batches of 30,000 distinct venues (the interner is cleared between batches when it could fill)');
});

t.test("the interner's keys: strings of every length, alike but for one byte, alike at both ends, in two fields", async (t) => {
  // The addon keys a string of up to 16 bytes by its length and two overlapping words, and compares longer ones byte
  // by byte too (native/src/tick_kernel.cc, Interner): strings made to share those words must still get their own ids.
  const rng = new Prng(16);
  const names: string[] = [];
  const base = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_';
  for (let n = 0; n <= 70; n++) {
    const s = base.slice(0, n);
    names.push(s);
    // The same length, one byte changed at each position.
    for (let i = 0; i < n; i++) names.push(s.slice(0, i) + '#' + s.slice(i + 1));
  }
  // Over 16 bytes, the same first and last eight bytes, a different middle.
  for (let m = 1; m <= 40; m++) names.push(`PREFIX00${'m'.repeat(m)}SUFFIX00`, `PREFIX00${'n'.repeat(m)}SUFFIX00`);
  names.push('€', 'é', 'BTC€USDT', 'ÉTHÉRÉUM-ÉUR-PÉRPÉTUAL');
  const values = Array.from({ length: 20_000 }, (_, i) => {
    const symbol = names[rng.int(names.length)]!;
    // Half the records carry the symbol as their venue symbol too (the two fields share the interner).
    const venueSymbol = rng.next() < 0.5 ? symbol : names[rng.int(names.length)]!;
    return record({ ...randomTick(rng, ['X']), venue: names[i % 7]!, symbol, venueSymbol }, false);
  });
  const bad: string[] = [];
  for (const batch of bothLayouts(values, rng)) bad.push(...differences(batch));
  t.same(bad, [], `${names.length} strings over 20,000 records read the same through both kernels`);
  t.ok(counts(bothLayouts(values, rng)[0]!).accepted > 15_000, 'most records are accepted (the strings are compared, not rejected)');
});

/** Batches a live partition sees: a few symbols, event times mostly in order, some late, some invalid, some broken. */
function liveBatch(rng: Prng, n: number, t0: number, symbols: string[]): Buffer[] {
  const out: Buffer[] = [];
  let time = t0;
  for (let i = 0; i < n; i++) {
    time += rng.int(20_000);
    const late = rng.next() < 0.03 ? rng.int(30_000_000) : 0;
    const tick: Tick = {
      venue: 'SIM',
      symbol: symbols[rng.int(symbols.length)]!,
      eventTime: time - late,
      price: rng.next() < 0.01 ? -1 : Math.round((100 + rng.next() * 10) * 100) / 100 + (rng.next() < 0.1 ? 1e-9 : 0),
      size: rng.next() < 0.5 ? rng.int(1000) / 1000 : rng.next() * 1e6,
      side: (['BUY', 'SELL', 'UNKNOWN'] as const)[rng.int(3)]!,
      tradeId: rng.next() < 0.9 ? String(1_000_000 + i) : `id-é${i}`,
      ingestTime: time + 1000,
      venueSymbol: rng.next() < 0.5 ? null : 'VSYM',
      sequence: rng.next() < 0.7 ? null : { first: rng.next() < 0.1, lostIds: rng.next() < 0.2 ? rng.int(5) : 0, lostSince: time - 5000 },
    };
    const r = record(tick, rng.next() < 0.2);
    if (rng.next() < 0.01) {
      const at = rng.int(r.length);
      r[at] = r[at]! ^ 0xff;
    }
    out.push(r);
  }
  return out;
}

t.test('pre-aggregation: the same BatchOutput (partial bars, exact sums, late ticks, rejects, losses) on both kernels', async (t) => {
  const rng = new Prng(5);
  const interval = { name: '1s', micros: parseInterval('1s') };
  const symbols = Array.from({ length: 50 }, (_, i) => `SYM${i}`);
  let wm = -Infinity;
  let t0 = 1_704_067_200_000_000;
  let partials = 0;
  let late = 0;
  let rejects = 0;
  const bad: string[] = [];
  for (let b = 0; b < 30; b++) {
    const values = liveBatch(rng, 1 + rng.int(5000), t0, symbols);
    t0 += 20_000_000;
    const offsets = values.map((_, i) => b * 10_000 + i);
    const params = { interval, watermark: wm, maxOutOfOrder: 2_000_000, allowedLateness: 10_000_000, origin: 0, maxAhead: 5_000_000 };
    const input = (kernel: 'ts' | 'native'): BatchInput => ({ ...packBatch(values, offsets), ...params, kernel });
    const a = preAggregate(input('ts'));
    const n = preAggregate(input('native'));
    if (canonical(a) !== canonical(n)) bad.push(`batch ${b}: outputs differ`);
    wm = a.watermark;
    partials += a.partials.length;
    late += a.late.length;
    rejects += a.rejects.length;
  }
  t.same(bad, [], 'every batch folds to the same output');
  t.ok(partials > 100 && late > 10 && rejects > 10, `exercised: ${partials} partial bars, ${late} late ticks, ${rejects} rejects`);
  t.comment(`native fold: ${JSON.stringify(nativeFoldCounts)} (batches with rejects or late ticks are left to TickFolder)`);
});

/**
 * Batches with nothing the native fold declines (every record valid and ASCII, no late tick), made to reach every
 * branch of the fold: event-time ties broken by trade ids (numeric ones of different lengths and leading zeros, and
 * non-numeric ones), ticks out of order within the allowed out-of-orderness, so a symbol goes back to an earlier
 * bucket, sizes from 1e-9 to 1e12 (the binned sums' spill), and trade-id sequences with gaps.
 */
function cleanBatch(rng: Prng, n: number, t0: number, symbols: string[]): Buffer[] {
  const out: Buffer[] = [];
  let time = t0;
  for (let i = 0; i < n; i++) {
    time += rng.next() < 0.3 ? 0 : rng.int(5_000);
    const id = rng.int(4);
    const tick: Tick = {
      venue: rng.next() < 0.9 ? 'SIM' : 'OTHER',
      symbol: symbols[rng.int(symbols.length)]!,
      eventTime: time - rng.int(1_500_000),
      price: Math.round((100 + rng.next() * 10) * 100) / 100,
      size: rng.next() < 0.1 ? 10 ** (rng.int(22) - 9) * (1 + rng.next()) : rng.int(1000) / 1000 + 0.001,
      side: (['BUY', 'SELL', 'UNKNOWN'] as const)[rng.int(3)]!,
      tradeId: id === 0 ? String(rng.int(200)) : id === 1 ? `0${rng.int(200)}` : id === 2 ? `t-${rng.int(50)}` : String(1_000_000 + i),
      ingestTime: time + 1000,
      venueSymbol: rng.next() < 0.5 ? null : 'VSYM',
      sequence: rng.next() < 0.5 ? null : { first: rng.next() < 0.05, lostIds: rng.next() < 0.1 ? 1 + rng.int(5) : 0, lostSince: time - 5000 },
    };
    out.push(record(tick, rng.next() < 0.2));
  }
  return out;
}

t.test('the native fold: clean batches are folded in C++, with the same BatchOutput as TickFolder', async (t) => {
  const rng = new Prng(17);
  const interval = { name: '1s', micros: parseInterval('1s') };
  const symbols = Array.from({ length: 20 }, (_, i) => `SYM${i}`);
  let wm = -Infinity;
  let t0 = 1_704_067_200_000_000;
  const before = nativeFoldCounts.folded;
  const seen = { partials: 0, moreThanOneBucket: 0, losses: 0, spilled: 0 };
  const bad: string[] = [];
  const batches = 40;
  for (let b = 0; b < batches; b++) {
    const values = cleanBatch(rng, 1 + rng.int(4000), t0, symbols);
    t0 += 10_000_000; // past the batch's last tick: no tick of the next batch is late
    const offsets = values.map((_, i) => b * 10_000 + i);
    // Every third batch with buckets aligned to another origin.
    const params = { interval, watermark: wm, maxOutOfOrder: 2_000_000, allowedLateness: 10_000_000, origin: b % 3 === 2 ? 123_457 : 0, maxAhead: 5_000_000 };
    const a = preAggregate({ ...packBatch(values, offsets), ...params, kernel: 'ts' });
    const n = preAggregate({ ...packBatch(values, offsets), ...params, kernel: 'native' });
    if (canonical(a) !== canonical(n)) bad.push(`batch ${b}: outputs differ`);
    wm = a.watermark;
    seen.partials += a.partials.length;
    seen.losses += a.losses.length;
    seen.moreThanOneBucket += a.partials.length - new Set(a.partials.map((p) => p.symbol)).size;
    seen.spilled += a.partials.filter((p) => p.volume.length > 1).length;
  }
  t.same(bad, [], 'every batch folds to the same output');
  t.equal(nativeFoldCounts.folded - before, batches, `the native fold folded all ${batches} batches (none left to TickFolder)`, { counts: nativeFoldCounts });
  t.ok(seen.partials > 500 && seen.moreThanOneBucket > 500 && seen.losses > 50 && seen.spilled > 50, `exercised: ${JSON.stringify(seen)}`);
  // The same batch with a late tick, a reject or a non-ASCII id is left to TickFolder, whose output the kernel returns.
  const declinedBefore = { ...nativeFoldCounts };
  const base = cleanBatch(rng, 200, t0, symbols);
  const params = { interval, watermark: -Infinity, maxOutOfOrder: 2_000_000, allowedLateness: 10_000_000, origin: 0, maxAhead: 5_000_000 };
  const lateTick = record({ ...sampleOf(base), eventTime: t0 - 60_000_000 }, false);
  const nonAscii = record({ ...sampleOf(base), tradeId: 'é1' }, false);
  const broken = Buffer.from([0, 0, 0]);
  for (const [name, extra] of [
    ['late', lateTick],
    ['text', nonAscii],
    ['decode', broken],
  ] as const) {
    const values = [...base, extra];
    const offsets = values.map((_, i) => i);
    const a = preAggregate({ ...packBatch(values, offsets), ...params, kernel: 'ts' });
    const n = preAggregate({ ...packBatch(values, offsets), ...params, kernel: 'native' });
    t.equal(canonical(n), canonical(a), `a batch with one ${name} record: left to TickFolder, the same output`);
    t.equal(nativeFoldCounts[name] - declinedBefore[name], 1, `counted as declined (${name})`);
    t.ok(name !== 'late' || a.late.length + a.rejects.length > 0, 'the late tick is late');
  }
  const offsets = base.map((_, i) => i);
  const inexact = { ...params, origin: 0.5 };
  t.equal(
    canonical(preAggregate({ ...packBatch(base, offsets), ...inexact, kernel: 'native' })),
    canonical(preAggregate({ ...packBatch(base, offsets), ...inexact, kernel: 'ts' })),
    'buckets aligned to a fractional origin: left to TickFolder, the same output',
  );
  t.equal(nativeFoldCounts.inexact - declinedBefore.inexact, 1, 'counted as declined (inexact)');
});

/** A valid tick of the batch, decoded back (for variants of it). */
function sampleOf(values: Buffer[]): Tick {
  const c = new PackedCursor().of(packBatch(values.slice(0, 1), [0]));
  const tick = emptyTick();
  t.equal(c.read(0, tick), null);
  return { ...tick, tradeId: '5', sequence: null };
}

t.test('real venue trades (recorded sessions of five venues): same ticks and the same BatchOutput', async (t) => {
  const files = { BINANCE: 'BINANCE.ws.1.0.gz', BYBIT: 'BYBIT.ws.25.0.gz', COINBASE: 'COINBASE.ws.28.0.gz', KRAKEN: 'KRAKEN.ws.48.0.gz', OKX: 'OKX.ws.1.0.gz' };
  const ticks: Tick[] = [];
  for (const [venue, file] of Object.entries(files)) {
    const adapter = VENUE_ADAPTERS[venue as keyof typeof files];
    for (const f of recordedFrames(file))
      for (const { tick, venueSymbol } of adapter.parse(f.text, 1_700_000_000_000_000))
        ticks.push({ ...tick, venueSymbol: venueSymbol !== tick.symbol ? venueSymbol : null, sequence: null });
  }
  // In event-time order (the sessions were recorded in different years), so most trades fold into bars.
  ticks.sort((a, b) => a.eventTime - b.eventTime);
  const values = ticks.map((x, i) => record(x, i % 5 === 0));
  const batch = packBatch(
    values,
    values.map((_, i) => i),
  );
  t.same(differences(batch), [], `${values.length} recorded trades read the same through both kernels`);
  t.equal(counts(batch).rejected, 0, 'every recorded trade decodes');
  const params = { interval: { name: '1s', micros: 1_000_000 }, watermark: -Infinity, maxOutOfOrder: 2_000_000, allowedLateness: 10_000_000, origin: 0 };
  const a = preAggregate({ ...batch, ...params, kernel: 'ts' });
  const folded = nativeFoldCounts.folded;
  t.equal(
    canonical(preAggregate({ ...batch, ...params, kernel: 'native' })),
    canonical(a),
    `the same BatchOutput (${a.partials.length} partial bars, ${a.accepted} accepted)`,
  );
  t.ok(values.length > 100 && a.accepted > 200 && a.partials.length > 10, 'a real mix of venues, symbols and trade ids');
  t.equal(nativeFoldCounts.folded - folded, 1, 'folded by the native fold', { counts: nativeFoldCounts });
});
