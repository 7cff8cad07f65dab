// PostgreSQL array literals built directly ('{1.5,2,NaN}', '{"BTC-USDT","ETH\"X"}'), for the bulk upserts that pass
// one array per column to unnest. pg would build the same text from JS arrays, but through a generic path (a
// prepareValue and an escape per element) that was a sixth of the aggregator's main thread at 10,000 symbols
// together with the ISO timestamps these replace (docs/benchmarks.md, Where the live path's time goes).

/**
 * float8[] / int8[] / int[]: each number as JS prints it, which PostgreSQL reads back to the same double
 * (shortest round-trip form; NaN, Infinity and -Infinity are PostgreSQL's spellings too). −0 prints as 0, as pg does.
 */
export function numberArray(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** text[]: every element quoted, backslash and double quote escaped (so commas, braces, spaces and NULL stay text). */
export function textArray(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i > 0) out += ',';
    out += '"' + (/["\\]/.test(v) ? v.replace(/["\\]/g, '\\$&') : v) + '"';
  }
  return out + '}';
}

/** bool[]: t, f, or NULL for null. */
export function boolArray(values: readonly (boolean | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    out += v === null ? 'NULL' : v ? 't' : 'f';
  }
  return out + '}';
}
