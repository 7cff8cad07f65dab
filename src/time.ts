// Microsecond timestamps to and from the textual forms the stores take, without losing a microsecond.

/** µs since epoch → '2024-01-02T03:04:05.123456Z' (Date only carries milliseconds). */
export function microsToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  const micro = us - ms * 1000;
  const iso = new Date(ms).toISOString(); // ...sss Z
  return `${iso.slice(0, -1)}${String(micro).padStart(3, '0')}Z`;
}

/** µs since epoch → the UTC day it falls in, as 'YYYY-MM-DD'. */
export function microsToDay(us: number): string {
  return new Date(Math.floor(us / 86_400_000_000) * 86_400_000).toISOString().slice(0, 10);
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO-8601 instant ('2024-01-02', '2024-01-02T03:04:05.123456Z', '…+02:00') → µs since the epoch, or undefined
 * when it is not one. Strict where Date.parse is lenient: the day must exist in its month ('2024-02-30' is
 * refused, not rolled over to March), hours below 24, minutes and seconds below 60. Without an offset, UTC.
 */
export function parseIsoMicros(raw: string): number | undefined {
  const m = ISO_INSTANT.exec(raw);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(z[2]) > 23 || Number(z[3]) > 59) return undefined;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // years below 100 too (Date.UTC would read 0024 as 1924)
  date.setUTCHours(Number(h), Number(mi) - offsetMin, Number(s), 0);
  return date.getTime() * 1000 + Number(frac.padEnd(6, '0'));
}
