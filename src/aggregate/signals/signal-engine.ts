// Signals from final bars, per (symbol, interval), O(1) per bar: SMA(10/30) and MACD(12,26,9) crossovers,
// RSI(14) entering 70/30, close breaking out of Bollinger(20, 2). Each bar is used once, at its first final
// version and in bucket order, so the same bars give the same signals (revisions do not re-run indicators).
import type { Bar } from '../../contracts/bar.js';
import type { Signal } from '../../contracts/signal.js';
import { SignalRules, type SignalName } from '../../contracts/signal-rules.js';
import { Bollinger, Macd, Rsi, Sma, crossing, rsiZoneCrossing, type CrossDirection } from './indicators/index.js';
import { RingBuffer } from './indicators/ring-buffer.js';
import { orNaN, orUndefined } from './indicators/indicator.js';

interface SeriesIndicators {
  /** The signals configured for this series; none → indicators are not computed. */
  names: ReadonlySet<SignalName>;
  lastBucket: number;
  fast: Sma;
  slow: Sma;
  macd: Macd;
  rsi: Rsi;
  bb: Bollinger;
  /** The last closes, as many as the longest window: the SMA and Bollinger windows are suffixes of it (snapshots). */
  closes: RingBuffer;
  prev: { fast?: number; slow?: number; macd?: number; signal?: number; rsi?: number; close?: number; upper?: number; lower?: number };
}

/** Every series' indicators, for a snapshot: series keys and a fixed number of doubles per series. */
export interface IndicatorState {
  /** `interval NUL symbol` per series. */
  keys: string[];
  data: Float64Array;
}

/** The SMA and Bollinger windows are rebuilt from the last closes; MACD and RSI save their few numbers. */
const WINDOW = 30;
const PREV = ['fast', 'slow', 'macd', 'signal', 'rsi', 'close', 'upper', 'lower'] as const;
const STRIDE = 2 + WINDOW + PREV.length + new Macd(12, 26, 9).stateSize + new Rsi(14).stateSize;

const dir = (d: CrossDirection | undefined): 'UP' | 'DOWN' | undefined => (d === 'up' ? 'UP' : d === 'down' ? 'DOWN' : undefined);

export class SignalEngine {
  private readonly series = new Map<string, SeriesIndicators>();
  /**
   * Restored series not used since (their offset in `restoredData`): restoring is lazy, so a restart with
   * tens of thousands of series does not rebuild every window before the first batch.
   */
  private readonly restored = new Map<string, number>();
  private restoredData: Float64Array = new Float64Array(0);

  constructor(private readonly rules: SignalRules = SignalRules.all()) {}

  private indicatorsOf(symbol: string, interval: string): SeriesIndicators {
    const key = `${interval}\u0000${symbol}`;
    let s = this.series.get(key);
    const at = s ? undefined : this.restored.get(key);
    if (at !== undefined) {
      this.restored.delete(key);
      s = this.indicatorsOf(symbol, interval);
      this.load(s, this.restoredData, at);
      return s;
    }
    if (!s)
      this.series.set(
        key,
        (s = {
          names: this.rules.select(symbol, interval),
          lastBucket: -Infinity,
          fast: new Sma(10),
          slow: new Sma(30),
          macd: new Macd(12, 26, 9),
          rsi: new Rsi(14),
          bb: new Bollinger(20, 2),
          closes: new RingBuffer(WINDOW),
          prev: {},
        }),
      );
    return s;
  }

  /** The indicators' state, for a snapshot. The configured signal names are not in it: the rules in force decide. */
  state(): IndicatorState {
    const keys: string[] = [];
    const out: number[] = [];
    for (const [key, s] of this.series) {
      if (s.lastBucket === -Infinity) continue;
      keys.push(key);
      out.push(s.lastBucket, s.closes.size);
      for (let i = 0; i < WINDOW; i++) out.push(i < s.closes.size ? s.closes.at(i)! : NaN);
      for (const k of PREV) out.push(orNaN(s.prev[k]));
      s.macd.saveState(out);
      s.rsi.saveState(out);
    }
    const data = new Float64Array(out.length + this.restored.size * STRIDE);
    data.set(out);
    let i = out.length;
    for (const [key, at] of this.restored) {
      keys.push(key);
      data.set(this.restoredData.subarray(at, at + STRIDE), i);
      i += STRIDE;
    }
    return { keys, data };
  }

  restore(state: IndicatorState): void {
    this.restoredData = state.data;
    state.keys.forEach((key, n) => this.restored.set(key, n * STRIDE));
  }

  /** Rebuild one series' indicators from its saved numbers at `i`. */
  private load(s: SeriesIndicators, a: Float64Array, i: number): void {
    s.lastBucket = a[i++]!;
    const count = a[i++]!;
    for (let k = 0; k < count; k++) {
      const c = a[i + k]!;
      s.closes.push(c);
      s.fast.update(c);
      s.slow.update(c);
      s.bb.update(c);
    }
    i += WINDOW;
    for (const k of PREV) s.prev[k] = orUndefined(a[i++]!);
    s.rsi.loadState(a, s.macd.loadState(a, i));
  }

  /** Feed final bars (any order of series); returns the signals they trigger. */
  onBars(bars: Bar[]): Signal[] {
    const out: Signal[] = [];
    for (const bar of [...bars].sort((a, b) => a.bucketStart - b.bucketStart)) {
      const s = this.indicatorsOf(bar.symbol, bar.interval);
      if (bar.bucketStart <= s.lastBucket || s.names.size === 0) continue; // a revision, a bar seen already, or no signals wanted
      s.lastBucket = bar.bucketStart;
      const c = bar.close;
      s.closes.push(c);
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
