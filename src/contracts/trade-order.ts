// The order of two trades of one venue that share an event time: the venue's own, by trade id.
//
// Venues number their trades (Binance, Bybit's exec ids aside, OKX, Kraken's v2 trade_id, Coinbase): a numeric
// id compares as a number, so "9" comes before "10" — a plain string comparison would put "10" first and make
// the wrong trade a bar's open or close. Ids that are not all decimal digits (UUIDs, Bybit's exec ids) compare
// as strings, after every numeric id. The order is total: numerically equal ids ("07", "7") fall back to the
// string order, so open and close never depend on which partial bar merged first.

/** Whether `a` is a trade id ordered before `b` (never true for equal ids). */
export function tradeIdBefore(a: string, b: string): boolean {
  return compareTradeIds(a, b) < 0;
}

/** Negative, zero or positive as `a` comes before, is, or comes after `b` in the venue's order. */
export function compareTradeIds(a: string, b: string): number {
  if (a === b) return 0;
  const da = digitsFrom(a);
  const db = digitsFrom(b);
  if (da >= 0 && db >= 0) {
    // Both numeric: fewer significant digits is smaller; same count compares digit by digit.
    const byLength = a.length - da - (b.length - db);
    if (byLength !== 0) return byLength;
    for (let i = 0; i < a.length - da; i++) {
      const d = a.charCodeAt(da + i) - b.charCodeAt(db + i);
      if (d !== 0) return d;
    }
  } else if (da >= 0) return -1;
  else if (db >= 0) return 1;
  return a < b ? -1 : 1;
}

/** Where the significant digits of a numeric id start (past leading zeros; a.length for "0…0"), or -1 if not numeric. */
function digitsFrom(s: string): number {
  if (s.length === 0) return -1;
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    if (start < 0 && c !== 48) start = i;
  }
  return start < 0 ? s.length : start;
}
