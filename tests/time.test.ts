// Strict ISO-8601 instants: what Date.parse takes for valid dates, never a rolled-over one.
import t from 'tap';
import { parseIsoMicros } from '../src/time.js';

t.test('valid instants equal Date.parse, with microseconds', async (t) => {
  const cases = [
    '2024-01-02',
    '2024-01-02T03:04:05Z',
    '2024-01-02T03:04Z',
    '2024-02-29T23:59:59.999Z',
    '2024-01-02T03:04:05+02:00',
    '2024-01-02T03:04:05-0530',
    '1970-01-01T00:00:00Z',
    '2199-12-31T23:59:59Z',
  ];
  for (const c of cases) t.equal(parseIsoMicros(c), Date.parse(c) * 1000, c);
  t.equal(parseIsoMicros('2024-01-02T03:04:05.123456Z'), Date.parse('2024-01-02T03:04:05.123Z') * 1000 + 456, 'µs kept');
  t.equal(parseIsoMicros('0024-03-01T00:00:00Z'), Date.parse('0024-03-01T00:00:00Z') * 1000, 'year 24 is year 24, not 1924');
  // Every day of a leap and a common year, against Date.UTC.
  for (const year of [2023, 2024]) {
    for (let m = 1; m <= 12; m++) {
      const days = new Date(Date.UTC(year, m, 0)).getUTCDate();
      for (let d = 1; d <= 31; d++) {
        const s = `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
        const got = parseIsoMicros(s);
        if (d <= days) t.equal(got, Date.UTC(year, m - 1, d) * 1000, s);
        else t.equal(got, undefined, `${s} does not exist`);
      }
    }
  }
});

t.test('not instants', async (t) => {
  for (const s of [
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '2024-00-10',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:60Z',
    '2024-01-01T10:00:60Z',
    '2024-01-01T10:00:00+25:00',
    'yesterday',
    '2024-1-1',
    '20240101',
    '',
    '2024-01-01T',
    '2024-01-01 junk',
  ])
    t.equal(parseIsoMicros(s), undefined, JSON.stringify(s));
});
