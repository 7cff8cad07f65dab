// Ring buffer: FIFO order, eviction once full, indexing oldest-first, clear.
import t from 'tap';
import { RingBuffer } from '../../../../src/aggregate/signals/indicators/ring-buffer.js';

t.test('evicts the oldest value once full', async (t) => {
  const r = new RingBuffer(3);
  t.same(
    [1, 2, 3].map((x) => r.push(x)),
    [undefined, undefined, undefined],
  );
  t.ok(r.full);
  t.same(
    [4, 5, 6, 7].map((x) => r.push(x)),
    [1, 2, 3, 4],
  );
  t.same(
    [0, 1, 2].map((i) => r.at(i)),
    [5, 6, 7],
    'oldest first',
  );
  t.equal(r.at(3), undefined);
  t.equal(r.at(-1), undefined);
  r.clear();
  t.equal(r.size, 0);
  t.equal(r.push(9), undefined);
  t.equal(r.at(0), 9);
  t.throws(() => new RingBuffer(0), { code: 'TE_INVALID_ARG' });
});
