// A trade's place in its venue's sequence of trade ids: the consecutive ids it stands for (one, or OKX's `count`).
import { DecodeError, describe } from '../../errors.js';
import type { VenueTrade } from '../venues/venue-adapter.js';

/** The first and last venue trade id a trade stands for, both included (equal for a single fill). */
export interface IdRange {
  first: bigint;
  last: bigint;
}

const DECIMAL = /^\d{1,40}$/;

/** A trade id of decimal digits as a BigInt (leading zeros allowed); undefined for anything else. */
export function decimalId(id: string): bigint | undefined {
  return DECIMAL.test(id) ? BigInt(id) : undefined;
}

/**
 * The ids of a trade of a venue whose trade ids are consecutive integers. BigInt, so ids of any length compare
 * exactly (an id past 2^53 as a string is not rounded). DecodeError when the id is not decimal digits, or when its
 * idSpan would reach below id 0: such a trade cannot be placed in the sequence.
 */
export function idRange(trade: VenueTrade): IdRange {
  const id = trade.tick.tradeId;
  const last = decimalId(id);
  if (last === undefined)
    throw new DecodeError(
      `${trade.tick.venue} ${trade.venueSymbol} trade id ${describe(id)} is not a decimal number: this venue's trade ids are sequenced as consecutive integers`,
    );
  const span = trade.idSpan ?? 1;
  if (!Number.isSafeInteger(span) || span < 1 || BigInt(span) > last + 1n)
    throw new DecodeError(`${trade.tick.venue} ${trade.venueSymbol} trade ${id} stands for ${describe(span)} fills, which its id cannot end`);
  return { first: last - BigInt(span) + 1n, last };
}
