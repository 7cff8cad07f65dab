// PartitionPositions' bookkeeping, with a fake seek: a handled batch moves its partition past its last offset (exact
// beyond 2^53), a start never moves a partition back, and a rejoin seeks only the assigned partitions it knows.
import t from 'tap';
import { PartitionPositions } from '../../src/stream/partition-positions.js';

t.test('positions: start, handled batches, and the seeks of a rejoin', async (t) => {
  const p = new PartitionPositions();
  p.startAt('bars', [
    { partition: 0, offset: '10' },
    { partition: 1, offset: '0' },
    { partition: 2, offset: '-1' },
  ]);
  t.equal(p.get('bars', 0), '10', 'a partition starts at its end');
  t.equal(p.get('bars', 2), undefined, 'an offset below zero (no end known) gives no position');
  p.handled('bars', 0, '41');
  t.equal(p.get('bars', 0), '42', 'after a batch: the offset after its last record');
  p.startAt('bars', [{ partition: 0, offset: '50' }]);
  t.equal(p.get('bars', 0), '42', 'a later start does not move a partition that has a position');
  p.handled('ticks', 3, '9007199254740993');
  t.equal(p.get('ticks', 3), '9007199254740994', 'offsets past 2^53 stay exact');

  const seeks: { topic: string; partition: number; offset: string }[] = [];
  const n = p.resume({ seek: (s) => void seeks.push({ ...s, offset: String(s.offset) }) }, { bars: [0, 1, 2, 3], other: [0] });
  t.equal(n, 2, 'two assigned partitions have positions');
  t.same(
    seeks,
    [
      { topic: 'bars', partition: 0, offset: '42' },
      { topic: 'bars', partition: 1, offset: '0' },
    ],
    'each sought to its position; unknown partitions and topics are left to kafkajs',
  );
});
