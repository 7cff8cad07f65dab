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
