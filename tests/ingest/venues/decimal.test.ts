// Venue numbers and times: decimal strings strictly, timestamps to exact µs (9-digit fractions without Date.parse's ms).
import t from 'tap';
import { isoToMicros, msToMicros, parseDecimal, secondsToMicros } from '../../../src/ingest/venues/decimal.js';
import { Prng } from '../../../src/ingest/prng.js';

const L = 'V trade "q" (quantity)';

t.test('decimal strings: plain notation only, never negative', async (t) => {
  t.equal(parseDecimal('0.35280000', L), 0.3528);
  t.equal(parseDecimal('30236', L), 30236);
  t.equal(parseDecimal('0.00000638', L), 0.00000638);
  t.equal(parseDecimal('0', L), 0, 'zero is well-formed (the tick validation rejects it)');
  t.equal(parseDecimal(6423.46326, L), 6423.46326, 'a JSON number (Kraken v2) as is');
  t.ok(Object.is(parseDecimal(-0, L), 0), '-0 becomes 0');
  for (const bad of ['', 'abc', 'NaN', 'Infinity', '1e5', '1E5', ' 1', '1 ', '+1', '0x10', '1.2.3', '.5', '5.', '1,5', '١٢']) {
    t.throws(() => parseDecimal(bad, L), { code: 'TE_DECODE', message: /^V trade "q" \(quantity\) ".*" is not a decimal number$/ }, JSON.stringify(bad));
  }
  t.throws(() => parseDecimal('-1.5', L), { code: 'TE_DECODE', message: 'V trade "q" (quantity) "-1.5" is negative' });
  t.throws(() => parseDecimal(-2, L), { code: 'TE_DECODE', message: 'V trade "q" (quantity) -2 is negative' });
  t.throws(() => parseDecimal('9'.repeat(400), L), { code: 'TE_DECODE', message: /is too large$/ });
  t.throws(() => parseDecimal(undefined, L), { code: 'TE_DECODE', message: 'V trade "q" (quantity) is missing' });
  t.throws(() => parseDecimal(null, L), { code: 'TE_DECODE', message: 'V trade "q" (quantity) is missing' });
  for (const bad of [true, {}, [], NaN, Infinity]) t.throws(() => parseDecimal(bad, L), { code: 'TE_DECODE' }, String(bad));
});

t.test('a decimal string gives the same double as the same digits sent as a JSON number', async (t) => {
  const rng = new Prng(3);
  for (let i = 0; i < 2000; i++) {
    const digits = `${Math.floor(rng.next() * 1e6)}.${String(Math.floor(rng.next() * 1e8)).padStart(8, '0')}`;
    t.equal(parseDecimal(digits, L), parseDecimal(JSON.parse(digits) as number, L), digits);
  }
});

t.test('milliseconds: integers or digit strings → µs', async (t) => {
  t.equal(msToMicros(1633998523963, L), 1633998523963000);
  t.equal(msToMicros('1652459224818', L), 1652459224818000);
  for (const bad of [1.5, -1, '1e12', '', '12a', ' 1', '99999999999999999', 2 ** 53, true, {}])
    t.throws(() => msToMicros(bad, L), { code: 'TE_DECODE' }, String(bad));
  t.throws(() => msToMicros(9_007_199_254_741, L), { code: 'TE_DECODE', message: /is out of range$/ }, 'µs past 2^53');
  t.throws(() => msToMicros(undefined, L), { code: 'TE_DECODE', message: /is missing$/ });
});

// Expected values written by hand: the whole seconds from `date -u -d <instant> +%s`, the fraction's first 6 digits appended.
t.test('ISO-8601 → µs exactly, with 6- and 9-digit fractions', async (t) => {
  t.equal(isoToMicros('2021-04-17T16:43:30.244075Z', L), 1618677810_244075, '6 digits (Coinbase Exchange)');
  t.equal(isoToMicros('2023-02-09T20:19:35.396251350Z', L), 1675973975_396251, '9 digits: the nanoseconds are dropped');
  t.equal(isoToMicros('2023-02-09T20:19:35.999999999Z', L), 1675973975_999999, '9 digits never round into the next second');
  t.equal(isoToMicros('2023-02-09T20:19:35.39625135Z', L), 1675973975_396251, '8 digits (the Coinbase doc example envelope)');
  t.equal(isoToMicros('2019-08-14T20:42:27.265Z', L), 1565815347_265000, '3 digits');
  t.equal(isoToMicros('2023-09-25T07:48:36.925533Z', L), 1695628116_925533, 'Kraken v2 doc example');
  t.equal(isoToMicros('2024-02-29T23:59:59Z', L), 1709251199_000000, 'no fraction, a leap day');
  t.equal(isoToMicros('1999-12-31T23:59:59.000001Z', L), 946684799_000001);
  for (const bad of [
    '2023-02-30T00:00:00Z',
    '2021-04-17T24:00:00Z',
    '2021-04-17 16:43:30Z',
    '2021-04-17T16:43:30.1234567890Z',
    '2021-04-17T16:43:30+00:00',
    '2021-04-17T16:43:30',
    '2021-04-17T16:43Z',
    '2021-04-17',
    '2021-04-17t16:43:30z',
    '',
    1618677810,
  ]) {
    t.throws(
      () => isoToMicros(bad, L),
      { code: 'TE_DECODE', message: /^V trade "q" \(quantity\) .* (is not an ISO-8601 UTC time|is not a date and time that exist)/ },
      String(bad),
    );
  }
});

t.test('ISO-8601 agrees with Date at the millisecond and keeps every digit below it', async (t) => {
  const rng = new Prng(7);
  for (let i = 0; i < 2000; i++) {
    const ms = 946_684_800_000 + Math.floor(rng.next() * 7_000_000_000_000);
    const sub = String(Math.floor(rng.next() * 1e6)).padStart(6, '0'); // digits 4-9 of the fraction
    const iso = new Date(ms).toISOString().slice(0, -1) + sub + 'Z';
    t.equal(isoToMicros(iso, L), ms * 1000 + Number(sub.slice(0, 3)), iso);
  }
});

t.test('seconds with a fraction (Kraken v1) → µs exactly', async (t) => {
  t.equal(secondsToMicros('1618678142.557535', L), 1618678142_557535);
  t.equal(secondsToMicros('1618678142.5', L), 1618678142_500000);
  t.equal(secondsToMicros('1618678142', L), 1618678142_000000);
  t.equal(secondsToMicros('1618678142.123456789', L), 1618678142_123456, 'digits past the µs dropped');
  for (const bad of ['1.6e9', '-1', '', 'abc', '1618678142.', '.5', 1618678142.5, '99999999999.999999']) {
    t.throws(() => secondsToMicros(bad, L), { code: 'TE_DECODE' }, String(bad));
  }
});
