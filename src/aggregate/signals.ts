// Signals from final bars, per (symbol, interval), O(1) per bar: SMA(10/30) and MACD(12,26,9) crossovers,
// RSI(14) entering 70/30, close breaking out of Bollinger(20, 2). Each bar is used once, at its first final
// version and in bucket order, so the same bars give the same signals (revisions do not re-run indicators).
import type { Bar } from './bar.js';
import { SignalRules, type SignalName } from './signal-rules.js';
import { Bollinger, Macd, Rsi, Sma, crossing, rsiZoneCrossing, type CrossDirection } from './indicators/index.js';
import { restoreInto } from './restore-into.js';

export interface Signal {
  symbol: string;
  interval: string;
  barTime: number;
  name: 'sma_cross' | 'macd_cross' | 'rsi_zone' | 'bollinger_breakout';
  direction: 'UP' | 'DOWN';
  /** sma_cross: [fast, slow]; macd_cross: [macd, signal]; rsi_zone: [rsi]; bollinger_breakout: [close, upper, lower]. */
  values: number[];
}

interface StreamIndicators {
  /** The signals configured for this stream; none → indicators are not computed. */
  names: ReadonlySet<SignalName>;
  lastBucket: number;
  fast: Sma;
  slow: Sma;
  macd: Macd;
  rsi: Rsi;
  bb: Bollinger;
  prev: { fast?: number; slow?: number; macd?: number; signal?: number; rsi?: number; close?: number; upper?: number; lower?: number };
}

/** One stream's indicators as plain data (a snapshot). */
export interface IndicatorState {
  symbol: string;
  interval: string;
  data: Omit<StreamIndicators, 'names'>;
}

const dir = (d: CrossDirection | undefined): 'UP' | 'DOWN' | undefined => (d === 'up' ? 'UP' : d === 'down' ? 'DOWN' : undefined);

export class SignalEngine {
  private readonly streams = new Map<string, StreamIndicators>();

  constructor(private readonly rules: SignalRules = SignalRules.all()) {}

  private stream(symbol: string, interval: string): StreamIndicators {
    const key = `${interval}\u0000${symbol}`;
    let s = this.streams.get(key);
    if (!s)
      this.streams.set(
        key,
        (s = {
          names: this.rules.select(symbol, interval),
          lastBucket: -Infinity,
          fast: new Sma(10),
          slow: new Sma(30),
          macd: new Macd(12, 26, 9),
          rsi: new Rsi(14),
          bb: new Bollinger(20, 2),
          prev: {},
        }),
      );
    return s;
  }

  /**
   * The indicators' state, for a snapshot: plain data once structured-cloned (v8.serialize), which must happen
   * before the next onBars. The configured signal names are not part of it: they come from the rules in force.
   */
  state(): IndicatorState[] {
    const out: IndicatorState[] = [];
    for (const [key, s] of this.streams) {
      if (s.lastBucket === -Infinity) continue;
      const data: Partial<StreamIndicators> = { ...s };
      delete data.names;
      const [interval, symbol] = key.split('\u0000') as [string, string];
      out.push({ symbol, interval, data: data as IndicatorState['data'] });
    }
    return out;
  }

  restore(state: IndicatorState[]): void {
    for (const { symbol, interval, data } of state) restoreInto(this.stream(symbol, interval), data);
  }

  /** Feed final bars (any order of streams); returns the signals they trigger. */
  onBars(bars: Bar[]): Signal[] {
    const out: Signal[] = [];
    for (const bar of [...bars].sort((a, b) => a.bucketStart - b.bucketStart)) {
      const s = this.stream(bar.symbol, bar.interval);
      if (bar.bucketStart <= s.lastBucket || s.names.size === 0) continue; // a revision, a bar seen already, or no signals wanted
      s.lastBucket = bar.bucketStart;
      const c = bar.close;
      const fast = s.fast.update(c);
      const slow = s.slow.update(c);
      const m = s.macd.update(c);
      const rsi = s.rsi.update(c);
      const bb = s.bb.update(c);
      const p = s.prev;
      const emit = (name: Signal['name'], d: CrossDirection | undefined, values: number[]) => {
        const direction = dir(d);
        if (direction && s.names.has(name)) out.push({ symbol: bar.symbol, interval: bar.interval, barTime: bar.bucketStart, name, direction, values });
      };
      emit('sma_cross', crossing(p.fast, p.slow, fast, slow), [fast!, slow!]);
      emit('macd_cross', crossing(p.macd, p.signal, m?.macd, m?.signal), [m?.macd ?? NaN, m?.signal ?? NaN]);
      emit('rsi_zone', rsiZoneCrossing(p.rsi, rsi), [rsi!]);
      emit(
        'bollinger_breakout',
        crossing(p.close, p.upper, c, bb?.upper) === 'up' ? 'up' : crossing(p.close, p.lower, c, bb?.lower) === 'down' ? 'down' : undefined,
        [c, bb?.upper ?? NaN, bb?.lower ?? NaN],
      );
      s.prev = { fast, slow, macd: m?.macd, signal: m?.signal, rsi, close: c, upper: bb?.upper, lower: bb?.lower };
    }
    return out;
  }
}
