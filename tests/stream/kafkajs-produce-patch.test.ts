// kafkajs 2.2.4 found a produce request's first and last record timestamps by sorting every message's timestamp as a
// string: O(n log n) string compares per request, 4 % of the aggregator's main thread when it produces thousands of
// in-progress updates a round (BENCH_PROFILE=1, docs/benchmarks.md), and wrong when the timestamps differ in length.
// patches/kafkajs+2.2.4.patch finds them in one pass, numerically. This checks the installed copy is the patched one
// and what it hands the record batch: the smallest and largest timestamps, each record's delta from the first.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import t from 'tap';

const require = createRequire(import.meta.url);
const requestPath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
const batchPath = require.resolve('kafkajs/src/protocol/recordBatch/v0/index.js');
const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');

interface BatchArgs {
  firstTimestamp: string | number;
  maxTimestamp: string | number;
  records: unknown[];
}

t.test('the installed kafkajs finds the first and last timestamps in one pass (npm install applied the patch)', async (t) => {
  t.match(readFileSync(requestPath, 'utf8'), /tick-engine patch: the first and last timestamps in one pass/, requestPath);
});

t.test('first and last timestamps: the smallest and the largest, numerically; each record a delta from the first', async (t) => {
  // Capture what the request hands the record batch and each record (the request module destructures them at load).
  const batches: BatchArgs[] = [];
  const deltas: number[] = [];
  const batchModule = require(batchPath) as { RecordBatch: (a: BatchArgs) => Promise<unknown> };
  const realBatch = batchModule.RecordBatch;
  batchModule.RecordBatch = async (a) => {
    batches.push(a);
    return realBatch(a);
  };
  const realRecord = require(recordPath) as (a: { timestampDelta: number }) => unknown;
  require.cache[recordPath]!.exports = (a: { timestampDelta: number }) => {
    deltas.push(a.timestampDelta);
    return realRecord(a);
  };
  const request = require(requestPath) as (a: object) => { encode(): Promise<unknown> };
  const now = Date.now();
  const messages = [
    { key: 'A', value: Buffer.from('1'), timestamp: '1700000000300' },
    { key: 'B', value: Buffer.from('2'), timestamp: '1700000000100' },
    { key: 'C', value: Buffer.from('3') },
    { key: 'D', value: Buffer.from('4'), timestamp: '999999999999' },
  ];
  await request({ acks: -1, timeout: 1000, topicData: [{ topic: 'x', partitions: [{ partition: 0, messages }] }] }).encode();
  t.equal(batches.length, 1);
  t.equal(String(batches[0]!.firstTimestamp), '999999999999', 'the smallest (a string sort put 1700000000100 first)');
  t.equal(String(batches[0]!.maxTimestamp), '1700000000300');
  t.equal(deltas.length, 4);
  t.same([deltas[0], deltas[1], deltas[3]], [1700000000300 - 999999999999, 1700000000100 - 999999999999, 0]);
  t.ok(deltas[2]! >= now - 999999999999, 'a record without a timestamp is stamped now');

  batches.length = 0;
  await request({
    acks: -1,
    timeout: 1000,
    topicData: [{ topic: 'x', partitions: [{ partition: 0, messages: [{ key: 'E', value: Buffer.from('5') }] }] }],
  }).encode();
  t.equal(batches[0]!.firstTimestamp, batches[0]!.maxTimestamp, 'no timestamps: both now');
  t.ok(Number(batches[0]!.firstTimestamp) >= now);
});
