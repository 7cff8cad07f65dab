// Crossing helpers: direction of a crossing between two consecutive values, tie convention, warm-up, and use on real data.
import t from 'tap';
import { crossing, levelCrossing, Rsi, rsiZoneCrossing, Sma, type CrossDirection } from '../../../../src/aggregate/signals/indicators/index.js';
import { sp500 } from './reference.js';

t.test('a crosses b', async (t) => {
  t.equal(crossing(1, 2, 3, 2), 'up');
  t.equal(crossing(3, 2, 1, 2), 'down');
  t.equal(crossing(1, 2, 1.5, 2), undefined, 'still below');
  t.equal(crossing(3, 2, 4, 2), undefined, 'still above');
  t.equal(crossing(1, 5, 4, 3), 'up', 'both lines move');
});

t.test('ties: at-or-below then strictly above is up; a pass through a tie is seen once, on leaving it', async (t) => {
  t.equal(crossing(1, 2, 2, 2), undefined, 'reaching the tie is not a crossing');
  t.equal(crossing(2, 2, 3, 2), 'up', 'leaving the tie upwards is');
  t.equal(crossing(2, 2, 1, 2), 'down');
  t.equal(crossing(2, 2, 2, 2), undefined);
});

t.test('warm-up and NaN give no signal', async (t) => {
  t.equal(crossing(undefined, 2, 3, 2), undefined);
  t.equal(crossing(1, 2, 3, undefined), undefined);
  t.equal(crossing(NaN, 2, 3, 2), undefined);
  t.equal(levelCrossing(undefined, 80, 70), undefined);
});

t.test('level and RSI zone crossings', async (t) => {
  t.equal(levelCrossing(69, 71, 70), 'up');
  t.equal(levelCrossing(71, 69, 70), 'down');
  t.equal(rsiZoneCrossing(65, 75), 'up', 'into overbought');
  t.equal(rsiZoneCrossing(75, 65), undefined, 'leaving overbought is not an entry');
  t.equal(rsiZoneCrossing(35, 25), 'down', 'into oversold');
  t.equal(rsiZoneCrossing(25, 35), undefined);
  t.equal(rsiZoneCrossing(20, 80), 'up', 'straight across both levels');
  t.equal(rsiZoneCrossing(80, 20), 'down');
  t.equal(rsiZoneCrossing(50, 60), undefined);
  t.equal(rsiZoneCrossing(75, 85, 80, 20), 'up', 'custom levels');
});

t.test('on the real series: SMA(50)/SMA(200) crosses alternate, RSI(14) enters both zones', async (t) => {
  const fast = new Sma(50);
  const slow = new Sma(200);
  const rsi = new Rsi(14);
  const crosses: CrossDirection[] = [];
  const zones = { up: 0, down: 0 };
  for (const bar of sp500()) {
    const [pf, ps, pr] = [fast.value, slow.value, rsi.value];
    const [f, s, r] = [fast.update(bar.close), slow.update(bar.close), rsi.update(bar.close)];
    const c = crossing(pf, ps, f, s);
    if (c) crosses.push(c);
    const z = rsiZoneCrossing(pr, r);
    if (z) zones[z]++;
  }
  t.comment(`${crosses.length} SMA(50)/SMA(200) crosses; RSI(14) entered overbought ${zones.up} times, oversold ${zones.down} times`);
  t.ok(crosses.length > 10, 'crosses found');
  t.ok(
    crosses.every((c, i) => i === 0 || c !== crosses[i - 1]),
    'up and down alternate',
  );
  t.ok(zones.up > 10 && zones.down > 10, 'both zones entered');
});
