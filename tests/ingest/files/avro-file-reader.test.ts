// Avro object container files written by avsc's own encoder (an independent writer): the reader gives back
// exactly the ticks written, with either codec and any block and chunk size; a file that is not a tick file,
// or is damaged, is a DecodeError that says why.
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import avro from 'avsc';
import { avroTickCursors } from '../../../src/ingest/files/avro-file-reader.js';
import { readAvroTickBatches, recordCursors } from '../../helpers/tick-records.js';
import type { TickCursor } from '../../../src/contracts/tick-cursor.js';
import { replay, type ReplayPartition } from '../../../src/runtime/replay.js';
import type { Bar } from '../../../src/contracts/bar.js';
import { loadConfig } from '../../../src/config.js';
import { FeedSimulator } from '../../../src/ingest/simulator.js';
import type { Tick } from '../../../src/contracts/tick.js';
import { projectRoot } from '../../../src/paths.js';

const tickType = avro.Type.forSchema(JSON.parse(readFileSync(join(projectRoot(), 'schemas/tick.avsc'), 'utf8')) as avro.Schema);
const dir = mkdtempSync(join(tmpdir(), 'avro-file-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function write(path: string, type: avro.Type, records: unknown[], opts: { codec?: string; blockSize?: number } = {}): Promise<void> {
  const enc = new avro.streams.BlockEncoder(type, opts);
  const out = createWriteStream(path);
  enc.pipe(out);
  for (const r of records) enc.write(r);
  enc.end();
  await once(out, 'close');
}

async function read(path: string, chunkBytes?: number): Promise<{ offset: number; tick?: Tick }[]> {
  const out: { offset: number; tick?: Tick }[] = [];
  for await (const batch of readAvroTickBatches(path, chunkBytes)) out.push(...batch);
  return out;
}

const sim = new FeedSimulator({ symbols: 20, rate: 1000, seed: 21, start: Date.parse('2024-01-01T00:00:00Z') * 1000, jitter: 50_000, venue: 'SIM' });
const ticks = Array.from({ length: 30_000 }, () => sim.next());
ticks[7] = { ...ticks[7]!, symbol: 'ÄÖÜ-€', tradeId: 'é'.repeat(40) }; // non-ASCII and long strings survive too

for (const codec of ['null', 'deflate']) {
  t.test(`codec ${codec}: every tick back, in order, for any block and chunk size`, async (t) => {
    for (const [blockSize, chunk] of [
      [64 * 1024, 256 * 1024],
      [1000, 333],
    ] as const) {
      const path = join(dir, `ticks-${codec}-${blockSize}.avro`);
      await write(path, tickType, ticks, { codec, blockSize });
      const got = await read(path, chunk);
      t.equal(got.length, ticks.length, `${got.length} records (blocks of ${blockSize} bytes, chunks of ${chunk})`);
      t.same(
        got.map((r) => r.offset),
        ticks.map((_, i) => i + 1),
        'offsets are record positions from 1',
      );
      t.same(
        got.map((r) => r.tick),
        ticks.map((x) => ({ ...x, venueSymbol: null, sequence: null })),
        'the ticks written, field for field (a version 1 file: null for the fields version 2 added)',
      );
    }
  });
}

t.test('replay over the blocks (decoded in place) gives the same bars as over the same ticks as records', async (t) => {
  const config = loadConfig({ env: { TE_INTERVALS: '1s,5s,1m', TE_ALLOWED_LATENESS_MS: '500', TE_MAX_OUT_OF_ORDER_MS: '200' } });
  const path = join(dir, 'replay.avro');
  await write(path, tickType, ticks, { codec: 'deflate', blockSize: 8192 });
  const run = async (batches: () => AsyncIterable<TickCursor>) => {
    const bars: Bar[] = [];
    async function* parts(): AsyncGenerator<ReplayPartition> {
      yield { partition: 0, batches: batches() };
    }
    const stats = await replay(config, parts(), (b) => void bars.push(...b));
    return { stats, bars: JSON.stringify(bars) };
  };
  const fromBlocks = await run(() => avroTickCursors(path));
  const fromRecords = await run(() => recordCursors([ticks.map((tick, i) => ({ offset: i + 1, tick }))]));
  t.equal(fromBlocks.stats.records, ticks.length);
  t.ok(fromBlocks.stats.bars > 200, `${fromBlocks.stats.bars} bar versions`);
  t.same(fromBlocks.stats, fromRecords.stats, 'same counts');
  t.equal(fromBlocks.bars, fromRecords.bars, 'byte-identical bars');
});

t.test('not a tick file, or damaged: a DecodeError saying why', async (t) => {
  const other = avro.Type.forSchema({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] });
  const wrongSchema = join(dir, 'other.avro');
  await write(wrongSchema, other, [{ x: 1 }]);
  await t.rejects(read(wrongSchema), { code: 'TE_DECODE', message: /schema is not a version of the tick schema/ });

  const notAvro = join(dir, 'not.avro');
  writeFileSync(notAvro, 'venue,symbol\n');
  await t.rejects(read(notAvro), { code: 'TE_DECODE', message: /not an Avro object container file/ });

  const good = join(dir, 'good.avro');
  await write(good, tickType, ticks.slice(0, 2000), { blockSize: 4096 });
  const bytes = readFileSync(good);
  const truncated = join(dir, 'truncated.avro');
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
  await t.rejects(read(truncated), { code: 'TE_DECODE', message: /ends inside block/ });

  const badSync = Buffer.from(bytes);
  badSync[badSync.length - 1] = badSync[badSync.length - 1]! ^ 0xff; // the last block's sync marker
  const damaged = join(dir, 'damaged.avro');
  writeFileSync(damaged, badSync);
  await t.rejects(read(damaged), { code: 'TE_DECODE', message: /does not end with the file's sync marker/ });
});

t.test('a damaged header count is refused at once (avsc alone looped for ever on it; found by fuzzing)', async (t) => {
  const long = avro.Type.forSchema('long');
  const cases: [string, Buffer][] = [
    ['a metadata block of 2^52 entries', Buffer.concat([Buffer.from('Obj\x01', 'latin1'), long.toBuffer(2 ** 52), Buffer.alloc(40, 2)])],
    ['a negative block of 2^52 entries', Buffer.concat([Buffer.from('Obj\x01', 'latin1'), long.toBuffer(-(2 ** 52)), long.toBuffer(10), Buffer.alloc(40, 2)])],
    ['a metadata item of 2^40 bytes', Buffer.concat([Buffer.from('Obj\x01', 'latin1'), long.toBuffer(1), long.toBuffer(2 ** 40), Buffer.alloc(40, 2)])],
    ['a negative metadata length', Buffer.concat([Buffer.from('Obj\x01', 'latin1'), long.toBuffer(1), long.toBuffer(-3), Buffer.alloc(40, 2)])],
  ];
  for (const [what, bytes] of cases) {
    const path = join(dir, 'damaged-header.avro');
    writeFileSync(path, bytes);
    const t0 = Date.now();
    await t.rejects(
      (async () => {
        for await (const _ of readAvroTickBatches(path)) void _;
      })(),
      { code: 'TE_DECODE', message: /header/ },
      what,
    );
    t.ok(Date.now() - t0 < 5000, `${what}: refused in ${Date.now() - t0} ms`);
  }
});

t.test('a block count beyond 2^53 is a DecodeError (avsc threw its own error; found by fuzzing)', async (t) => {
  const good = join(dir, 'good-for-damage.avro');
  const few = new FeedSimulator({ symbols: 3, rate: 100, seed: 3, start: Date.UTC(2024, 0, 1) * 1000, jitter: 0, venue: 'SIM' });
  await write(
    good,
    tickType,
    Array.from({ length: 5 }, () => ({ ...few.next(), ingestTime: 0 })),
  );
  const bytes = readFileSync(good);
  // The header ends with the file's 16-byte sync marker (which also ends the last block); the first block's
  // count follows it: put a 9-byte varint (2^62) in front of it.
  const headerEnd = bytes.indexOf(bytes.subarray(bytes.length - 16)) + 16;
  const damaged = Buffer.concat([bytes.subarray(0, headerEnd), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), bytes.subarray(headerEnd)]);
  const path = join(dir, 'huge-count.avro');
  writeFileSync(path, damaged);
  await t.rejects(
    (async () => {
      for await (const _ of readAvroTickBatches(path)) void _;
    })(),
    { code: 'TE_DECODE', message: /not a usable number/ },
  );
});
