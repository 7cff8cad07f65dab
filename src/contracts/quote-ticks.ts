// Ticks made from quotes, for symbols that have quotes and no trades (FX at a broker): TE_PUSH_QUOTE_TICKS rules
// `pattern,pattern=side;...` (first match wins) name the symbols and the price each takes — the bid, the ask or
// the mid. Each new quote of such a symbol becomes one tick at that price with size 1, so a bar's volume is the
// number of quotes in it (what MetaTrader calls tick volume). The ticks are marked: their trade id is
// `Q<B|A|M>:<quoteId>` and their Kafka record carries the header te-synthetic (QUOTE_TICK_HEADER).
import { InvalidArgumentError } from '../errors.js';
import type { Quote } from './quote.js';
import { compileSymbolPatterns, validatePattern } from './symbol-pattern.js';
import type { Tick } from './tick.js';

export const QUOTE_SIDES = ['bid', 'ask', 'mid'] as const;
export type QuoteSide = (typeof QUOTE_SIDES)[number];

/** The Kafka header on a tick made from a quote: its value is `quote-<side>`. */
export const QUOTE_TICK_HEADER = 'te-synthetic';

interface Rule {
  match: (symbol: string) => boolean;
  side: QuoteSide;
}

export class QuoteTickRules {
  private constructor(private readonly rules: readonly Rule[]) {}

  /**
   * `EUR*,GBPUSD=mid;USDJPY=bid`: symbol patterns ('*', '?'), '=', bid, ask or mid; rules separated by ';'.
   * '' or 'off' = no symbol. Throws InvalidArgumentError naming the bad rule.
   */
  static parse(text: string): QuoteTickRules {
    const t = text.trim();
    if (t === '' || t === 'off') return new QuoteTickRules([]);
    return new QuoteTickRules(
      t.split(';').map((part) => {
        const m = /^\s*([^=]+?)\s*=\s*([a-z]+)\s*$/.exec(part);
        if (!m) throw new InvalidArgumentError(`quote tick rule '${part.trim()}' is not pattern,pattern=bid|ask|mid`);
        const [, list, side] = m as unknown as [string, string, string];
        if (!(QUOTE_SIDES as readonly string[]).includes(side))
          throw new InvalidArgumentError(`quote tick rule '${part.trim()}': side '${side}' is not one of ${QUOTE_SIDES.join(', ')}`);
        const patterns = list.split(',').map((p) => p.trim());
        for (const p of patterns) {
          try {
            validatePattern(p);
          } catch (err) {
            throw new InvalidArgumentError(`quote tick rule '${part.trim()}': ${(err as Error).message}`);
          }
        }
        return { match: compileSymbolPatterns(patterns), side: side as QuoteSide };
      }),
    );
  }

  /** The side whose price a quote of `symbol` becomes a tick at, or undefined: its quotes make no ticks. */
  sideOf(symbol: string): QuoteSide | undefined {
    for (const r of this.rules) if (r.match(symbol)) return r.side;
    return undefined;
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }
}

/** The tick a quote becomes at `side`'s price: size 1, side UNKNOWN (no trade happened), trade id `Q<B|A|M>:<quoteId>`. */
export function quoteTick(q: Quote, side: QuoteSide): Tick {
  const price = side === 'bid' ? q.bid : side === 'ask' ? q.ask : (q.bid + q.ask) / 2;
  return {
    venue: q.venue,
    symbol: q.symbol,
    eventTime: q.eventTime,
    price,
    size: 1,
    side: 'UNKNOWN',
    tradeId: `Q${side[0]!.toUpperCase()}:${q.quoteId}`,
    ingestTime: q.ingestTime,
  };
}
