// TE_RETENTION and durations: parsed values against hand-computed microseconds, and each bad value refused naming the key.
import t from 'tap';
import { parseDuration, RetentionPolicy } from '../../src/contracts/retention.js';
import { loadConfig } from '../../src/config.js';
import { ConfigError, ERROR_CODES } from '../../src/errors.js';

const DAY = 86_400 * 1e6;

t.test('durations', async (t) => {
  t.equal(parseDuration('90s'), 90e6);
  t.equal(parseDuration('12h'), 12 * 3600e6);
  t.equal(parseDuration('7d'), 7 * DAY);
  t.equal(parseDuration('2w'), 14 * DAY);
  for (const bad of ['0d', '7', 'd', '1.5d', '-1d', '7y']) t.throws(() => parseDuration(bad), { code: ERROR_CODES.invalidArg }, bad);
});

t.test('retention per interval, the default, and the longest', async (t) => {
  const p = RetentionPolicy.parse('1s=7d, 1m=180d,1d=forever');
  t.equal(p.keep('1s'), 7 * DAY);
  t.equal(p.keep('1m'), 180 * DAY);
  t.equal(p.keep('1d'), null);
  t.equal(p.keep('5m'), null, 'not named, no *: kept for ever');
  t.equal(p.longest, null, 'one interval kept for ever: no whole chunk ever expires');
  t.same(p.finite, [
    ['1s', 7 * DAY],
    ['1m', 180 * DAY],
  ]);
  const q = RetentionPolicy.parse('1s=3d,*=30d');
  t.equal(q.keep('1h'), 30 * DAY);
  t.equal(q.longest, 30 * DAY);
  t.equal(RetentionPolicy.parse('1s=3d,1m=10d').longest, null, 'unnamed intervals kept for ever');
  t.equal(RetentionPolicy.parse('*=5d,1s=1d').longest, 5 * DAY);
  t.ok(RetentionPolicy.parse('').keepsAll);
});

t.test('bad TE_RETENTION and TE_COMPRESS_AFTER are refused at start-up, naming the key', async (t) => {
  for (const bad of ['1s', '1s=7', '1x=7d', '1s=7d,1s=8d', '1d=1h', '*=1d,*=2d', '1s=7d,,1m=1d']) {
    const err = t.throws(() => loadConfig({ env: { TE_RETENTION: bad } }), ConfigError, bad) as unknown as ConfigError;
    t.equal(err.key, 'TE_RETENTION', `${bad}: ${err.message}`);
  }
  const err = t.throws(() => loadConfig({ env: { TE_COMPRESS_AFTER: 'soon' } })) as unknown as ConfigError;
  t.equal(err.key, 'TE_COMPRESS_AFTER');
  t.equal(loadConfig({ env: { TE_COMPRESS_AFTER: 'off', TE_RETENTION: '1s=7d,1m=180d,1d=forever' } }).retention, '1s=7d,1m=180d,1d=forever');
});
