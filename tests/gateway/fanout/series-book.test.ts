// The gateway's per-series state: one series per (interval, symbol), the sequence of final bars and the stale
// in-progress updates it drops, and the snapshot it gives a new subscriber.
import t from 'tap';
import type { Bar } from '../../../src/contracts/bar.js';
import { SeriesBook, seriesKey } from '../../../src/gateway/fanout/series-book.js';
import { flatBar } from '../../helpers/flat-bar.js';

/** A final bar of the series at `bucketStart` with three trades (the book orders in-progress versions by trade count). */
const bar = (symbol: string, interval: string, bucketStart: number, over: Partial<Bar> = {}): Bar => ({
  ...flatBar(symbol, interval, bucketStart, 1.5),
  tradeCount: 3,
  ...over,
});

t.test('one series per interval and symbol, keyed by its seriesKey', async (t) => {
  const book = new SeriesBook(10);
  const a = book.barSeries('1s', 'BTC-USD');
  t.equal(book.barSeries('1s', 'BTC-USD'), a, 'the same object the second time');
  t.not(book.barSeries('1m', 'BTC-USD'), a, 'another interval, another series');
  t.not(book.barSeries('1s', 'ETH-USD'), a, 'another symbol, another series');
  t.equal(book.bars.get(seriesKey('bars', '1s', 'BTC-USD')), a, 'found by its key');
  t.same([...book.symbols].sort(), ['BTC-USD', 'ETH-USD']);
  // Strings equal but not identical (as a decoder makes them) find the same series.
  t.equal(book.barSeries(['1', 's'].join(''), ['BTC', 'USD'].join('-')), a);
});

t.test('final bars and in-progress updates', async (t) => {
  const book = new SeriesBook(2);
  const s = book.barSeries('1s', 'X');
  t.equal(book.recordBar(bar('X', '1s', 1000)), 1);
  t.equal(book.recordBar(bar('X', '1s', 2000)), 2);
  t.equal(book.recordUpdate(bar('X', '1s', 3000, { final: false })), 2, 'an update carries the last final seq');
  t.equal(book.recordUpdate(bar('X', '1s', 2000, { final: false })), undefined, 'stale: its bucket is final already');
  t.equal(book.recordUpdate(bar('X', '1s', 3000, { final: false, tradeCount: 1 })), undefined, 'older than the open bar held');
  t.equal(book.currentBar('1s', 'X')!.bucketStart, 3000, 'the open bar is the current one');
  t.equal(book.recordBar(bar('X', '1s', 3000)), 3);
  t.equal(s.open, undefined, 'closed by its final bar');
  t.same(
    s.bars.map((b) => b.bucketStart),
    [2000, 3000],
    'keeps the last 2',
  );
  const snap = book.snapshot('bars', '1s', 'X');
  t.match(snap, { type: 'snapshot', seq: 3, open: null });
  t.same(book.snapshot('bars', '1s', 'Y'), { type: 'snapshot', channel: 'bars', symbol: 'Y', interval: '1s', seq: 0, bars: [], open: null });
  t.same(book.symbolsOf('bars', '1s'), ['X']);
});
