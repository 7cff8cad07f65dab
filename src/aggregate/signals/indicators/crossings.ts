// Pure helpers that turn two consecutive indicator values into a crossing signal: 'up', 'down' or nothing.
//
// Equality convention (as TradingView's crossover): a crosses above b when it was at or below b and is now strictly
// above. A path that passes through a tie (below, equal, above) is therefore reported once, on the step that leaves the
// tie, and never missed; the price is that a touch and retreat (above, equal, above) also reports 'up'. A stateless
// pairwise helper cannot have both; callers that must ignore touches can keep the last strict side themselves.
// Undefined (warm-up) or NaN on either step gives no signal.

export type CrossDirection = 'up' | 'down';

/** Did a cross b between the previous update (prevA, prevB) and this one (a, b)? */
export function crossing(prevA: number | undefined, prevB: number | undefined, a: number | undefined, b: number | undefined): CrossDirection | undefined {
  if (prevA === undefined || prevB === undefined || a === undefined || b === undefined) return undefined;
  if (prevA <= prevB && a > b) return 'up';
  if (prevA >= prevB && a < b) return 'down';
  return undefined;
}

/** Did the value cross a fixed level between two consecutive updates? */
export function levelCrossing(prev: number | undefined, curr: number | undefined, level: number): CrossDirection | undefined {
  return crossing(prev, level, curr, level);
}

/**
 * RSI zone entries: 'up' when RSI rises above `overbought`, 'down' when it falls below `oversold`. Leaving a zone
 * (back below 70, back above 30) is not a signal here; use levelCrossing for that.
 */
export function rsiZoneCrossing(prev: number | undefined, curr: number | undefined, overbought = 70, oversold = 30): CrossDirection | undefined {
  if (levelCrossing(prev, curr, overbought) === 'up') return 'up';
  if (levelCrossing(prev, curr, oversold) === 'down') return 'down';
  return undefined;
}
