// Symbol entitlement patterns: '*' is any run of characters (possibly empty), '?' exactly one, everything else literal.
// Matching is case-sensitive and whole-string. Wildcard patterns use a backtracking-bounded matcher rather than a
// RegExp: a pattern such as '*a*a*a*b' is O(pattern × symbol) here, where a regex could backtrack exponentially.
import { BadRequestError, describe } from '../errors.js';

export const MAX_PATTERN_LENGTH = 64;

/** True when `s` contains a wildcard ('*' or '?'), i.e. it names a set of symbols rather than one. */
export function isPattern(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/**
 * Throws BadRequestError unless `p` is a usable pattern: non-empty, at most 64 characters, no whitespace or
 * control characters. '/' is allowed: FX and crypto venues name pairs 'EUR/USD' (REST paths carry it
 * percent-encoded).
 */
export function validatePattern(p: string): void {
  if (typeof p !== 'string' || p.length === 0) throw new BadRequestError('symbol pattern must be a non-empty string');
  if (p.length > MAX_PATTERN_LENGTH) throw new BadRequestError(`symbol pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  // Whitespace hides in logs and URLs; control characters break logs.
  if (/[\s\p{Cc}]/u.test(p)) throw new BadRequestError(`symbol pattern ${describe(p)} must not contain whitespace or control characters`);
}

/**
 * Compiles patterns into one predicate. Patterns are not validated here (callers do so where the patterns come in).
 * An empty list matches nothing.
 */
export function compileSymbolPatterns(patterns: readonly string[]): (symbol: string) => boolean {
  const exact = new Set<string>();
  const globs: string[][] = [];
  let anything = false;
  for (const p of patterns) {
    if (!isPattern(p)) exact.add(p);
    else if (/^\*+$/.test(p)) anything = true;
    else globs.push(Array.from(p.replace(/\*{2,}/g, '*'))); // code points, so '?' is one character even outside the BMP
  }
  if (anything) return () => true;
  if (globs.length === 0) return (symbol) => exact.has(symbol);
  return (symbol) => {
    if (exact.has(symbol)) return true;
    const s = Array.from(symbol);
    return globs.some((g) => globMatch(g, s));
  };
}

// Classic wildcard matching: on a mismatch, retry from the most recent '*' consuming one more character.
// Only the last '*' needs remembering, which bounds the work to O(|pattern| × |symbol|).
function globMatch(p: readonly string[], s: readonly string[]): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let starSi = 0;
  while (si < s.length) {
    const c = p[pi];
    if (c === '*') {
      star = pi++;
      starSi = si;
    } else if (c !== undefined && (c === '?' || c === s[si])) {
      pi++;
      si++;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++starSi;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** A single symbol (not a pattern), valid as a stream name; throws BadRequestError otherwise. */
export function validateSymbol(s: unknown): asserts s is string {
  if (typeof s !== 'string') throw new BadRequestError(`symbol ${describe(s)} is not a string`);
  validatePattern(s);
  if (isPattern(s)) throw new BadRequestError(`symbol ${describe(s)} must be a symbol, not a pattern`);
}
