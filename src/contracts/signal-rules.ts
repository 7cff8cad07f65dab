// Which signals run for which streams: TE_SIGNALS rules `pattern@interval=name,name;...`, first match wins.
// A stream no rule matches computes no indicators at all.
import { compileSymbolPatterns, validatePattern } from './symbol-pattern.js';
import { InvalidArgumentError } from '../errors.js';

export const SIGNAL_NAMES = ['sma_cross', 'macd_cross', 'rsi_zone', 'bollinger_breakout'] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

interface Rule {
  match: (symbol: string) => boolean;
  interval: string;
  names: ReadonlySet<SignalName>;
}

export const ALL_SIGNALS = `*@*=${SIGNAL_NAMES.join(',')}`;

export class SignalRules {
  private readonly rules: Rule[];

  private constructor(rules: Rule[]) {
    this.rules = rules;
  }

  /** Every signal for every stream. */
  static all(): SignalRules {
    return SignalRules.parse(ALL_SIGNALS);
  }

  /**
   * `BTC-*@1m=sma_cross,rsi_zone;*@*=macd_cross` — symbol pattern ('*', '?'), '@', an interval name or '*',
   * '=', signal names. 'off' (or nothing) = no signals. Throws InvalidArgumentError naming the bad part.
   */
  static parse(text: string, intervals?: readonly string[]): SignalRules {
    const t = text.trim();
    if (t === '' || t === 'off') return new SignalRules([]);
    const rules = t.split(';').map((part) => {
      const m = /^\s*([^@=\s]+)@([^=\s]+)\s*=\s*([a-z_,\s]+)$/.exec(part);
      if (!m) throw new InvalidArgumentError(`signal rule '${part.trim()}' is not pattern@interval=name,name`);
      const [, pattern, interval, list] = m as unknown as [string, string, string, string];
      validatePattern(pattern);
      if (interval !== '*' && intervals && !intervals.includes(interval))
        throw new InvalidArgumentError(`signal rule '${part.trim()}': interval ${interval} is not one of ${intervals.join(', ')} (or *)`);
      const names = list.split(',').map((n) => n.trim());
      for (const n of names)
        if (!SIGNAL_NAMES.includes(n as SignalName))
          throw new InvalidArgumentError(`signal rule '${part.trim()}': unknown signal '${n}' (${SIGNAL_NAMES.join(', ')})`);
      return { match: compileSymbolPatterns([pattern]), interval, names: new Set(names as SignalName[]) };
    });
    return new SignalRules(rules);
  }

  /** The signals of a stream (empty: none). */
  select(symbol: string, interval: string): ReadonlySet<SignalName> {
    for (const r of this.rules) if ((r.interval === '*' || r.interval === interval) && r.match(symbol)) return r.names;
    return new Set();
  }
}
