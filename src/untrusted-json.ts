// JSON from clients: parsed only within a nesting limit (JSON.stringify or a recursive walk of a value nested
// 100,000 deep overflows the stack). Quoting client values in messages: `describe` in errors.ts.
import { BadRequestError } from './errors.js';

/** Deeper than any request this engine takes (a subscribe request is 2 levels deep). */
export const MAX_JSON_DEPTH = 32;

/** The deepest nesting of arrays and objects in `text`, stopping as soon as it passes `limit`. Strings are skipped. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** JSON.parse with a nesting limit; every failure is a BadRequestError saying what was wrong. */
export function parseUntrustedJson(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) throw new BadRequestError(`${what} is nested deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError(`${what} is not valid JSON`);
  }
}
