// The public surface: every indicator drives from one loop over real bars through the common interface.
import t from 'tap';
import type { Bar } from '../../../../src/contracts/bar.js';
import { Atr, Bollinger, Ema, Macd, Rsi, Sma, Vwap, type Indicator } from '../../../../src/aggregate/signals/indicators/index.js';
import { sp500 } from './reference.js';

/** Close-only indicators take a number; adapt them to bars. */
function onClose<O>(ind: Indicator<number, O>): Indicator<Bar, O> {
  return {
    update: (b) => ind.update(b.close),
    get ready() {
      return ind.ready;
    },
    get value() {
      return ind.value;
    },
  };
}

t.test('ready flips exactly when the first value comes out, and value is the last output', async (t) => {
  const all: [string, Indicator<Bar, unknown>, number][] = [
    ['SMA(20)', onClose(new Sma(20)), 19],
    ['EMA(20)', onClose(new Ema(20)), 19],
    ['RSI(14)', onClose(new Rsi(14)), 14],
    ['MACD(12,26,9)', onClose(new Macd()), 33],
    ['Bollinger(20,2)', onClose(new Bollinger()), 19],
    ['ATR(14)', new Atr(), 14],
    ['VWAP', new Vwap(), 0],
  ];
  const bars = sp500();
  for (const [name, ind, warmUp] of all) {
    let first = -1;
    let consistent = true;
    bars.forEach((bar, i) => {
      const v = ind.update(bar);
      if (v !== undefined && first < 0) first = i;
      if (ind.ready !== first >= 0 || ind.value !== v) consistent = false;
    });
    t.equal(first, warmUp, `${name}: first value on bar ${warmUp}`);
    t.ok(consistent, `${name}: ready and value track update's result on all ${bars.length} bars`);
  }
});
