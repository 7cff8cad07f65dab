// The Kafka client's per-record costs, the project's patched kafkajs (patches/kafkajs+2.2.4.patch) beside the
// upstream release of the same version in one run: encoding a produce request (records, batch, CRC-32C), decoding a
// record batch, and the default partitioner's murmur2 hash of a key — CPU ns per record (or key), best of 5 rounds.
// The upstream copy is fetched from the npm registry once (`npm pack`) into .local/bench-cache/ (or pass a directory
// holding an unpacked kafkajs as BENCH_KAFKAJS_UPSTREAM). It also checks both encode the same bytes and decode the same
// records. No servers. Writes JSON to bench/results/.
// Knobs: BENCH_CODEC_RECORDS (5,000 per request), BENCH_CODEC_VALUE_BYTES (65, a tick's record), BENCH_KAFKAJS_UPSTREAM.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { projectRoot } from '../src/paths.js';

const RECORDS = Number(process.env.BENCH_CODEC_RECORDS ?? 5_000);
const VALUE_BYTES = Number(process.env.BENCH_CODEC_VALUE_BYTES ?? 65);
const ROUNDS = 5;
const require = createRequire(import.meta.url);
const installed = dirname(require.resolve('kafkajs/package.json'));
const version = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string }).version;

/** An unpacked upstream kafkajs of the installed version. */
function upstream(): string {
  const given = process.env.BENCH_KAFKAJS_UPSTREAM;
  if (given) return given;
  const cache = join(projectRoot(), '.local', 'bench-cache', `kafkajs-${version}`);
  if (!existsSync(join(cache, 'package', 'package.json'))) {
    mkdirSync(cache, { recursive: true });
    process.stderr.write(`[bench] fetching kafkajs@${version} from the npm registry (once) into ${cache}\n`);
    const tgz = execFileSync('npm', ['pack', `kafkajs@${version}`, '--silent', '--pack-destination', cache], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!;
    execFileSync('tar', ['-xzf', join(cache, tgz), '-C', cache]);
  }
  return join(cache, 'package');
}

type Encoded = { buffer: Buffer };
interface Client {
  label: string;
  request: (a: object) => { encode(): Promise<Encoded> };
  decodeBatch: (d: object) => Promise<{ records: { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers: object }[] }>;
  Decoder: new (b: Buffer) => object;
  murmur2: (key: string) => number;
}
const load = (label: string, dir: string): Client => ({
  label,
  request: require(join(dir, 'src/protocol/requests/produce/v3/request.js')),
  decodeBatch: require(join(dir, 'src/protocol/recordBatch/v0/decoder.js')),
  Decoder: require(join(dir, 'src/protocol/decoder.js')),
  murmur2: require(join(dir, 'src/producer/partitioners/default/murmur2.js')),
});

// One request of RECORDS messages over 4 partitions, as the engine's producers send them: a symbol key, a value of
// VALUE_BYTES, a string timestamp, one message in 64 with a `published` header.
const now = 1_764_777_000_000;
const topicData = [
  {
    topic: 'ticks',
    partitions: [0, 1, 2, 3].map((partition) => ({
      partition,
      firstSequence: 0,
      messages: Array.from({ length: RECORDS / 4 }, (_, i) => ({
        key: `SYM${(i * 7 + partition) % 500}`,
        value: Buffer.alloc(VALUE_BYTES, i & 255),
        timestamp: String(now + i),
        headers: i % 64 === 0 ? { published: Buffer.from(String(now)) } : undefined,
      })),
    })),
  },
];
const args = { acks: -1, timeout: 30_000, topicData };
const keys = Array.from({ length: RECORDS }, (_, i) => `SYM${i % 500}`);

/** CPU ns per item of `fn` (which handles `items` items), best of ROUNDS rounds of about 0.3 s. */
async function cpuNsPer(items: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < 5; i++) await fn(); // warm-up
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const t0 = process.cpuUsage();
    let used = 0;
    do {
      await fn();
      n++;
      const c = process.cpuUsage(t0);
      used = c.user + c.system;
    } while (used < 300_000);
    best = Math.min(best, (used * 1000) / (n * items));
  }
  return best;
}

/** The first partition's record batch: past transactional id, acks, timeout, the topic array and name, the partition array, the partition and the batch's size. */
const batchOf = (request: Buffer) => {
  const start = 2 + 2 + 4 + 4 + 2 + Buffer.byteLength('ticks') + 4 + 4 + 4;
  return request.subarray(start, start + request.readInt32BE(start - 4));
};

async function measure(c: Client) {
  const realNow = Date.now;
  Date.now = () => now; // identical bytes from both clients
  const encoded = (await c.request(args).encode()).buffer;
  Date.now = realNow;
  const encode = await cpuNsPer(RECORDS, () => c.request(args).encode());
  const batch = batchOf(encoded);
  const perBatch = RECORDS / 4;
  const decode = await cpuNsPer(perBatch, () => c.decodeBatch(new c.Decoder(batch)));
  const hash = await cpuNsPer(keys.length, () => {
    let x = 0;
    for (const k of keys) x ^= c.murmur2(k);
    return x;
  });
  const decoded = await c.decodeBatch(new c.Decoder(batch));
  return { encode, decode, hash, encoded, decoded, hashes: keys.slice(0, 500).map(c.murmur2) };
}

const ref = load(`upstream kafkajs ${version}`, upstream());
const ours = load(`kafkajs ${version} + patches/`, installed);
process.stderr.write(`[bench] ${RECORDS} records of ${VALUE_BYTES} B per request, best of ${ROUNDS}\n`);
// Alternate the two, twice, and keep each one's best.
const runs = [await measure(ref), await measure(ours), await measure(ref), await measure(ours)];
const best = (i: number, k: 'encode' | 'decode' | 'hash') => Math.min(runs[i]![k], runs[i + 2]![k]);
const show = (d: unknown) => JSON.stringify(d, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? 'buf' : v));
const sameBytes = runs[0]!.encoded.equals(runs[1]!.encoded);
const sameRecords =
  runs[0]!.decoded.records.length === runs[1]!.decoded.records.length &&
  runs[0]!.decoded.records.every((r, i) => {
    const o = runs[1]!.decoded.records[i]!;
    return (
      r.offset === o.offset &&
      r.timestamp === o.timestamp &&
      String(r.key) === String(o.key) &&
      r.value!.equals(o.value!) &&
      show(r.headers) === show(o.headers)
    );
  });
const sameHashes = runs[0]!.hashes.every((h, i) => h === runs[1]!.hashes[i]);

const rows = (['encode', 'decode', 'hash'] as const).map((k) => ({
  measure: { encode: 'encode a produce request, per record', decode: 'decode a record batch, per record', hash: 'murmur2 of a key (default partitioner)' }[k],
  upstreamNs: Math.round(best(0, k)),
  patchedNs: Math.round(best(1, k)),
  speedup: +(best(0, k) / best(1, k)).toFixed(2),
}));
console.log(`\n| CPU ns per record | ${ref.label} (reference) | ${ours.label} | ratio |\n|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.measure} | ${r.upstreamNs.toLocaleString('en-US')} | ${r.patchedNs.toLocaleString('en-US')} | ${r.speedup}× |`);
console.log(
  `\nsame request bytes: ${sameBytes ? 'yes' : 'NO'}; same decoded records: ${sameRecords ? 'yes' : 'NO'}; same hashes: ${sameHashes ? 'yes' : 'NO'}`,
);

const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `kafkajs-codec-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`);
const result = {
  when: new Date().toISOString(),
  loadavg: loadavg(),
  records: RECORDS,
  valueBytes: VALUE_BYTES,
  rounds: ROUNDS,
  rows,
  sameBytes,
  sameRecords,
  sameHashes,
};
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(`saved ${file}`);
if (!sameBytes || !sameRecords || !sameHashes) process.exitCode = 1;
