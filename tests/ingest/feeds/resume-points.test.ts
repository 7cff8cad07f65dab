// ResumePoints: of the ticks read from the end of the ticks topic, the highest trade id per venue symbol of one venue's
// feed — other venues, other symbols and ids that are not decimal left out, ids compared as numbers of any length.
import t from 'tap';
import { ResumePoints } from '../../../src/ingest/feeds/resume-points.js';

const tick = (venue: string, symbol: string, tradeId: string) => ({ venue, symbol, tradeId });

t.test('the highest decimal id per venue symbol of the venue, numerically', async (t) => {
  const fold = new ResumePoints(
    'BINANCE',
    new Map([
      ['BTC-USDT', 'BTCUSDT'],
      ['ETH-USDT', 'ETHUSDT'],
    ]),
  );
  t.same(fold.points, new Map(), 'nothing read: no resume point');
  for (const x of [
    tick('BINANCE', 'BTC-USDT', '999'),
    tick('BINANCE', 'BTC-USDT', '1000'), // longer, not lexically greater
    tick('BINANCE', 'BTC-USDT', '998'), // lower after higher: the highest stays
    tick('OKX', 'BTC-USDT', '5000'), // another venue's trade of the same symbol
    tick('BINANCE', 'SOL-USDT', '7000'), // a symbol this feed does not follow
    tick('BINANCE', 'ETH-USDT', '9007199254740993'), // past 2^53: exact
    tick('BINANCE', 'ETH-USDT', '9007199254740992'),
    tick('BINANCE', 'ETH-USDT', 'a1b2'), // not decimal: no order
  ])
    fold.add(x);
  t.same(
    fold.points,
    new Map([
      ['BTCUSDT', '1000'],
      ['ETHUSDT', '9007199254740993'],
    ]),
  );
});

t.test('leading zeros are read as the number', async (t) => {
  const fold = new ResumePoints('SIM', new Map([['BTC-USD', 'BTC-USD']]));
  fold.add(tick('SIM', 'BTC-USD', '000000000042'));
  fold.add(tick('SIM', 'BTC-USD', '41'));
  t.same(fold.points, new Map([['BTC-USD', '42']]));
});
