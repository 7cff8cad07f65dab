// detachValues: values lying in a larger buffer (a fetch response) copied out once with their positions, into
// buffers of their own that can be transferred to a worker while the response stays readable.
import t from 'tap';
import { detachValues, PackedCursor } from '../../src/stream/packed-batch.js';

t.test('values copied out of a shared buffer keep their bytes, lengths and offsets', async (t) => {
  // "hdr" bytes between values stand for record headers; value 2 is null.
  const response = Buffer.from('..hdrAAAhdrBBBBBhdrhdrCC..');
  const run = {
    data: response,
    starts: Int32Array.from([5, 11, 19, 22]),
    lengths: Int32Array.from([3, 5, -1, 2]),
    offsets: Float64Array.from([7, 8, 9, 10]),
  };
  const out = detachValues(run);
  t.not(out.data.buffer, response.buffer, 'a buffer of its own');
  t.equal(out.data.byteLength, 24 - 5, 'one span: from the first value to the end of the last');
  const text = (i: number) => (out.lengths[i]! < 0 ? null : Buffer.from(out.data.subarray(out.starts[i]!, out.starts[i]! + out.lengths[i]!)).toString());
  t.same([0, 1, 2, 3].map(text), ['AAA', 'BBBBB', null, 'CC']);
  t.same(Array.from(out.offsets), [7, 8, 9, 10]);
  t.not(out.offsets.buffer, run.offsets.buffer, 'positions copied too');
  structuredClone(out, { transfer: [out.data.buffer, out.starts.buffer, out.lengths.buffer, out.offsets.buffer] as ArrayBuffer[] });
  t.equal(response.toString(), '..hdrAAAhdrBBBBBhdrhdrCC..', 'transferring the copy leaves the response whole');
  t.same(Array.from(run.offsets), [7, 8, 9, 10]);
  t.same(detachValues({ ...run, starts: new Int32Array(0), lengths: new Int32Array(0), offsets: new Float64Array(0) }).lengths.length, 0, 'an empty run');
});

t.test('a cursor reads detached values in place', async (t) => {
  const run = { data: Buffer.from('xxabcyydef'), starts: Int32Array.from([2, 7]), lengths: Int32Array.from([3, 3]), offsets: Float64Array.from([1, 2]) };
  const c = new PackedCursor().of(detachValues(run));
  t.equal(c.count, 2);
  t.equal(c.offset(1), 2);
});
