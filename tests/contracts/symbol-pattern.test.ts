// Symbol patterns: '*' any run, '?' one character, everything else literal (regex metacharacters included).
import t from 'tap';
import { compileSymbolPatterns, isPattern, validatePattern } from '../../src/contracts/symbol-pattern.js';

t.test('isPattern', async (t) => {
  t.equal(isPattern('BTC-USD'), false);
  t.equal(isPattern('BTC-*'), true);
  t.equal(isPattern('BTC-US?'), true);
  t.equal(isPattern('*'), true);
  t.equal(isPattern('A.B+C'), false, 'regex metacharacters are not wildcards');
});

t.test('empty list matches nothing', async (t) => {
  const m = compileSymbolPatterns([]);
  for (const s of ['', 'A', '*', 'BTC-USD']) t.equal(m(s), false, JSON.stringify(s));
});

t.test('exact, star and question mark', async (t) => {
  const cases: [string[], string, boolean][] = [
    [['BTC-USD'], 'BTC-USD', true],
    [['BTC-USD'], 'BTC-USDT', false],
    [['BTC-USD'], 'btc-usd', false],
    [['BTC-*'], 'BTC-USD', true],
    [['BTC-*'], 'BTC-', true],
    [['BTC-*'], 'BTC', false],
    [['BTC-*'], 'XBTC-USD', false],
    [['*-USD'], 'ETH-USD', true],
    [['*-USD'], 'ETH-USDT', false],
    [['B*D'], 'BD', true],
    [['B*D'], 'BTC-USD', true],
    [['B*D'], 'BTC-USDT', false],
    [['*'], '', true],
    [['*'], 'anything at all', true],
    [['**'], 'X', true],
    [['?'], 'A', true],
    [['?'], '', false],
    [['?'], 'AB', false],
    [['ETH-US?'], 'ETH-USD', true],
    [['ETH-US?'], 'ETH-US', false],
    [['ETH-US?'], 'ETH-USDT', false],
    [['?*'], '', false],
    [['?*'], 'A', true],
    [['*a*a*b'], 'aaab', true],
    [['*a*a*b'], 'ab', false],
    [['a**b'], 'ab', true],
    [['a*b*c'], 'abxbxc', true],
    [['a*b*c'], 'acb', false],
    [['?'], '€', true],
    [['?'], '𝔸', true], // one code point outside the BMP (two UTF-16 units)
    [['BTC-*', 'ETH-USD'], 'ETH-USD', true],
    [['BTC-*', 'ETH-USD'], 'ETH-EUR', false],
    [['BTC-*', 'ETH-USD'], 'BTC-EUR', true],
  ];
  for (const [patterns, symbol, want] of cases)
    t.equal(compileSymbolPatterns(patterns)(symbol), want, `${JSON.stringify(patterns)} ~ ${JSON.stringify(symbol)}`);
});

t.test('regex metacharacters are literal', async (t) => {
  const cases: [string, string, boolean][] = [
    ['A.B', 'A.B', true],
    ['A.B', 'AxB', false],
    ['A+', 'A+', true],
    ['A+', 'AA', false],
    ['(A|B)', '(A|B)', true],
    ['(A|B)', 'A', false],
    ['[AB]', '[AB]', true],
    ['[AB]', 'A', false],
    ['^A$', '^A$', true],
    ['^A$', 'A', false],
    ['A\\d', 'A\\d', true],
    ['A\\d', 'A1', false],
    ['A{2}', 'A{2}', true],
    ['A{2}', 'AA', false],
    ['.*', '.*', true],
    ['.*', '.xyz', true],
    ['.*', 'xyz', false],
    ['$*', '$USD', true],
    ['a.?', 'a.b', true],
    ['a.?', 'axb', false],
  ];
  for (const [pattern, symbol, want] of cases)
    t.equal(compileSymbolPatterns([pattern])(symbol), want, `${JSON.stringify(pattern)} ~ ${JSON.stringify(symbol)}`);
});

t.test('many stars stay fast', async (t) => {
  // A naive regex would backtrack exponentially here.
  const m = compileSymbolPatterns(['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b']);
  const start = performance.now();
  t.equal(m('a'.repeat(200)), false);
  t.ok(performance.now() - start < 500, 'bounded time');
});

t.test('validatePattern', async (t) => {
  for (const ok of ['BTC-USD', '*', 'BTC-*', 'ETH-US?', 'A.B', 'EUR/USD', 'x'.repeat(64)]) t.doesNotThrow(() => validatePattern(ok), JSON.stringify(ok));
  for (const [bad, re] of [
    ['', /non-empty/],
    ['x'.repeat(65), /longer than 64/],
    ['BTC USD', /must not contain/],
    ['BTC\tUSD', /must not contain/],
    ['BTC\nUSD', /must not contain/],
    ['BTC\u0000', /must not contain/],
    ['BTC\u007f', /must not contain/],
    ['BTC\u00a0USD', /must not contain/],
  ] as const) {
    t.throws(() => validatePattern(bad), { name: 'BadRequestError', code: 'TE_BAD_REQUEST', message: re }, JSON.stringify(bad));
  }
});
