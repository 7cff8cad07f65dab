// Strings from wire bytes: utf8String and the interner always give what Buffer#toString('utf8') gives, for
// every length and byte pattern, whatever was interned before (collisions, the same words at another length).
import t from 'tap';
import { Prng } from '../src/ingest/prng.js';
import { StringInterner, utf8String, viewOf } from '../src/wire-strings.js';

/** Byte strings that stress the interner: shared prefixes and suffixes, every length to 40, non-ASCII. */
function keys(rng: Prng): Buffer[] {
  const out: Buffer[] = [];
  for (let n = 0; n <= 40; n++) {
    for (let k = 0; k < 30; k++) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = rng.next() < 0.8 ? 0x41 + rng.int(4) : rng.int(256);
      out.push(b);
    }
  }
  // Same leading and trailing four bytes, different middles or lengths (what the 8-byte word key covers).
  for (const s of [
    'ABCDABCD',
    'ABCDXABCD',
    'ABCDEFGH',
    'ABCDFFGH',
    'ABCDEFG',
    'ABCEFG',
    'ABCD',
    'BCD',
    'BTC-USD',
    'BTC-USDT',
    'ETH-USD',
    'SYM0001',
    'SYM0010',
    'SYM1000',
  ])
    out.push(Buffer.from(s));
  out.push(Buffer.from('é€𝄞', 'utf8'), Buffer.from([0xc3]), Buffer.from([0xff, 0x41, 0x42, 0x43]));
  // More keys than slots sharing their first four bytes and length: slots collide, only the rest differs.
  for (let k = 0; k < 3000; k++)
    out.push(Buffer.from(`SYM0${String(rng.int(10000)).padStart(4, '0')}`), Buffer.from(`ABCD${String(rng.int(100)).padStart(2, '0')}`));
  for (let k = 0; k < 3000; k++)
    out.push(Buffer.from(`${String(rng.int(10000)).padStart(4, '0')}USDT`), Buffer.from(`${String(rng.int(100)).padStart(2, '0')}USD`));
  return out;
}

t.test('interned strings equal Buffer#toString for any bytes, wherever they lie in a buffer', async (t) => {
  const rng = new Prng(17);
  const all = keys(rng);
  const interner = new StringInterner();
  let checked = 0;
  for (let round = 0; round < 8; round++) {
    // Each key at a random place in a shared buffer (offsets, and keys at the very end of it, vary).
    for (const key of all) {
      const before = rng.int(9);
      const after = rng.next() < 0.3 ? 0 : rng.int(9);
      const buf = Buffer.alloc(before + key.length + after, 0x41 + rng.int(3));
      key.copy(buf, before);
      const got = interner.get(buf, before, key.length);
      const expected = key.toString('utf8');
      if (got !== expected) return t.fail(`round ${round}: [${[...key].join()}] gave ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
      checked++;
    }
  }
  t.pass(`${checked} lookups`);
});

t.test('a repeated key returns the same string object (found, not rebuilt)', async (t) => {
  const interner = new StringInterner();
  for (const s of ['SIM', 'BINANCE', 'BTC-USDT', 'AAPL240119C00150000']) {
    const a = interner.get(Buffer.from(`x${s}`), 1, s.length);
    const b = interner.get(Buffer.from(`${s}yy`), 0, s.length);
    t.equal(a, s);
    t.ok(Object.is(a, b), `${s}: one string`);
  }
});

t.test('utf8String equals Buffer#toString for ASCII, UTF-8 and invalid bytes', async (t) => {
  const rng = new Prng(4);
  for (let round = 0; round < 2000; round++) {
    const n = rng.int(40);
    const b = Buffer.alloc(n + 4);
    for (let i = 0; i < b.length; i++) b[i] = rng.next() < 0.9 ? 0x20 + rng.int(95) : rng.int(256);
    const s = rng.int(4);
    if (utf8String(b, s, n) !== b.toString('utf8', s, s + n)) return t.fail(`round ${round}`);
  }
  t.pass('2000 rounds');
});

t.test('viewOf reads the buffer with its own indices, a pooled slice included', async (t) => {
  const pool = Buffer.alloc(64);
  const b = pool.subarray(13, 40);
  b.writeDoubleLE(1.25, 3);
  b.writeInt32LE(-7, 11);
  t.equal(viewOf(b).getFloat64(3, true), 1.25);
  t.equal(viewOf(b).getInt32(11, true), -7);
  const c = Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  t.equal(viewOf(c).getFloat64(0, true), 1, 'another buffer: a view of it, not of the last one');
});
