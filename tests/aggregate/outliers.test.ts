// A tick dated far ahead of its ingest time is invalid and never moves the watermark: before TE_MAX_FUTURE_MS,
// one tick dated 2199 made every later tick of its partition late.
import t from 'tap';
import { TickFolder } from '../../src/aggregate/tick-folder.js';
import { RecordsCursor } from '../helpers/tick-records.js';
import type { Tick } from '../../src/contracts/tick.js';

const T = Date.UTC(2026, 11, 1) * 1000;
const tick = (i: number, eventTime: number): Tick => ({
  venue: 'SIM',
  symbol: 'BTC-USD',
  eventTime,
  price: 100 + i,
  size: 1,
  side: 'BUY',
  tradeId: String(i),
  ingestTime: T + 10_000_000, // stamped by the feed
});

function fold(maxAhead?: number) {
  const f = new TickFolder({
    interval: { name: '1s', micros: 1_000_000 },
    watermark: -Infinity,
    maxOutOfOrder: 1_000_000,
    allowedLateness: 0,
    maxAhead,
    origin: 0,
  });
  const ticks = [
    tick(0, T),
    tick(1, T + 500_000),
    tick(2, Date.UTC(2199, 0, 1) * 1000),
    ...Array.from({ length: 8 }, (_, i) => tick(3 + i, T + 1_000_000 * (i + 1))),
  ];
  const cursor = new RecordsCursor(ticks.map((tick, offset) => ({ offset, tick })));
  for (let i = 0; i < cursor.count; i++) f.addFrom(cursor, i, i);
  return f.result();
}

t.test('with the bound: the outlier is dead-lettered as invalid, the rest aggregate', async (t) => {
  const out = fold(60_000_000);
  t.same(
    out.rejects.map((r) => [r.index, r.code]),
    [[2, 'TE_INVALID_TICK']],
    'only the outlier',
  );
  t.match(out.rejects[0]!.reason, /ahead of ingestTime/);
  t.equal(out.accepted, 10);
  t.equal(out.watermark, T + 8_000_000 - 1_000_000, 'the watermark follows the real ticks');
});

t.test('without it (the failure the bound fixes): every later tick is late', async (t) => {
  const out = fold(undefined);
  t.equal(out.rejects.filter((r) => r.code === 'TE_LATE_TICK').length, 8, 'all 8 later ticks dead-lettered as late');
});
