// The files `ingest --file` reads, from any committed position: a resumed read yields exactly the records after it —
// for plain files (seek), zipped ones (inflate and skip), Avro container files (skip records) — and the formats are
// told apart.
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import avro from 'avsc';
import { DecodeError } from '../../../src/errors.js';
import { CSV_HEADER, tickToCsv } from '../../../src/ingest/files/csv-ticks.js';
import { fileSha256, openTickFile, type FileBatch, type TickFile } from '../../../src/ingest/files/tick-file.js';
import { FeedSimulator } from '../../../src/ingest/simulator.js';
import { Prng } from '../../../src/ingest/prng.js';
import { START, type FilePosition } from '../../../src/stream/ingest-progress.js';
import { schema } from '../../../src/stream/schemas.js';
import { writeZip } from '../../helpers/zip.js';

const dir = mkdtempSync(join(tmpdir(), 'tick-file-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A spot trades dump of `n` rows, every 97th malformed, some blank lines. */
function dump(n: number, seed: number): string {
  const rng = new Prng(seed);
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 97 === 50) rows.push(`${4000000000 + i},not-a-price,1,1,1709251200000,True,True`);
    else
      rows.push(
        `${4000000000 + i},${(60000 + rng.u32() / 2 ** 22).toFixed(2)},0.00${1 + (i % 9)}00000,1.0,${1709251200000 + i * 7},${i % 3 === 0 ? 'True' : 'False'},True`,
      );
    if (i % 501 === 7) rows.push('');
  }
  return rows.join('\n') + '\n';
}

async function all(file: TickFile, from: FilePosition, max: number): Promise<FileBatch[]> {
  const out: FileBatch[] = [];
  for await (const b of file.batches(from, max)) out.push(b);
  return out;
}

const flat = (batches: FileBatch[]) => batches.flatMap((b) => b.records.map((r) => ({ where: r.where, tick: r.tick, error: r.error })));

t.test('a read resumed at any batch end yields exactly the records after it: plain and zipped', async (t) => {
  const text = dump(3000, 7);
  const plain = join(dir, 'BTCUSDT-trades-2024-03-01.csv');
  const zipped = join(dir, 'BTCUSDT-trades-2024-03-01.zip');
  writeFileSync(plain, text);
  writeZip(zipped, 'BTCUSDT-trades-2024-03-01.csv', Buffer.from(text));
  for (const path of [plain, zipped]) {
    const file = await openTickFile(path);
    const whole = await all(file, START, 250);
    const records = flat(whole);
    t.equal(records.length, 3000, `${path}: every row is a record`);
    t.equal(records.filter((r) => r.error).length, 31, 'the malformed ones with a reason');
    t.equal(whole.at(-1)!.end.byte, Buffer.byteLength(text), 'the last position is the end of the file');
    for (const cut of [0, 1, 5, whole.length - 1]) {
      const from = whole[cut]!.end;
      const rest = flat(await all(file, from, 333));
      t.same(rest, records.slice(from.records), `resumed after record ${from.records} (line ${from.line}, byte ${from.byte})`);
    }
  }
});

t.test('the tick CSV format, resumed', async (t) => {
  const sim = new FeedSimulator({ symbols: 3, rate: 100, seed: 3, start: Date.UTC(2024, 0, 1) * 1000, jitter: 0, venue: 'SIM' });
  const path = join(dir, 'ticks.csv');
  writeFileSync(path, [CSV_HEADER, ...Array.from({ length: 1000 }, () => tickToCsv(sim.next())), 'SIM,X,1,2'].join('\n') + '\n');
  const file = await openTickFile(path);
  t.equal(file.format, 'ticks-csv');
  const whole = await all(file, START, 100);
  const records = flat(whole);
  t.equal(records.length, 1001);
  t.match(records[1000]!.error, /line 1002: expected 7 fields/);
  t.same(flat(await all(file, whole[4]!.end, 64)), records.slice(500));
});

for (const version of [1, 2]) {
  t.test(`Avro container files of tick schema version ${version}, resumed by record`, async (t) => {
    const sim = new FeedSimulator({ symbols: 2, rate: 50, seed: 5, start: Date.UTC(2024, 0, 1) * 1000, jitter: 0, venue: 'SIM' });
    const path = join(dir, `ticks-v${version}.avro`);
    const seq = (i: number) => (version === 2 && i % 3 === 0 ? { first: i === 0, lostIds: i % 7, lostSince: 1_704_067_200_000_000 + i } : null);
    const ticks = Array.from({ length: 700 }, (_, i) => ({
      ...sim.next(),
      ingestTime: 1,
      venueSymbol: version === 2 && i % 2 ? 'BTCUSD' : null,
      sequence: seq(i),
    }));
    // Written through our own file stream and awaited until it is closed: avsc's createFileEncoder 'finish' comes
    // before its file stream has flushed, and a read right after it saw a truncated file (1 run in 4).
    const enc = new avro.streams.BlockEncoder(schema('tick', { version }).type, { blockSize: 4096, codec: 'deflate' });
    const out = createWriteStream(path);
    enc.pipe(out);
    for (const x of ticks) enc.write(x);
    enc.end();
    await once(out, 'close');
    const file = await openTickFile(path);
    t.match(file, { format: 'ticks-avro', unit: 'records' });
    const whole = await all(file, START, 64);
    // Version 1 files read with null for the fields version 2 added.
    t.same(
      flat(whole).map((r) => ({ ...r.tick, sequence: r.tick?.sequence ? { ...r.tick.sequence } : null })),
      ticks,
    );
    if (version === 2) t.ok(ticks.some((x) => x.sequence) && ticks.some((x) => x.venueSymbol), 'venue symbols and sequences among them');
    t.same(flat(await all(file, { records: 300, line: 0, byte: 0 }, 64)), flat(whole).slice(300));
  });
}

t.test('a damaged archive fails at its CRC, an archive of two files at once', async (t) => {
  const text = dump(400, 11);
  const path = join(dir, 'BTCUSDT-trades-2024-03-02.zip');
  writeZip(path, 'BTCUSDT-trades-2024-03-02.csv', Buffer.from(text));
  const bytes = readFileSync(path);
  // The CRC in the central directory (offset 16 of its entry) no longer matches the data.
  const central = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bytes.writeUInt32LE((bytes.readUInt32LE(central + 16) ^ 1) >>> 0, central + 16);
  writeFileSync(path, bytes);
  const file = await openTickFile(path);
  await t.rejects(all(file, START, 1000), { code: 'TE_DECODE', message: /CRC-32/ });
  await t.rejects(openTickFile(join(dir, 'ticks-v2.avro'), { format: 'ticks-csv' }), DecodeError);
});

t.test('the identity hash is the SHA-256 of the bytes', async (t) => {
  const path = join(dir, 'abc.csv');
  writeFileSync(path, 'abc');
  t.equal(await fileSha256(path), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'FIPS 180-2 test vector');
});
