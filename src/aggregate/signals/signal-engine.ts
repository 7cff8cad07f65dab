// Signals from final bars, per (symbol, interval), O(1) per bar: SMA(10/30) and MACD(12,26,9) crossovers,
// RSI(14) entering 70/30, close breaking out of Bollinger(20, 2). Each bar is used once, at its first final
// version and in bucket order, so the same bars give the same signals (revisions do not re-run indicators).
//
// Compact state: an engine may hold hundreds of thousands of series (symbols × intervals), so a series is not a set
// of indicator objects but a fixed row of doubles in one Float64Array, in the snapshot's layout (IndicatorState).
// The SMA and Bollinger figures are summed exactly from the row's last closes when a bar comes (exact-window.ts,
// exactMeanOf: the same doubles as the running windows); MACD and RSI are loaded into one instance each, updated and saved back.
// About 500 bytes a series instead of about 4 KB as objects (docs/benchmarks.md, Bounded memory).
import type { Bar } from '../../contracts/bar.js';
import type { Signal } from '../../contracts/signal.js';
import { SignalRules, type SignalName } from '../../contracts/signal-rules.js';
import { Macd, Rsi, bands, crossing, exactMeanOf, exactVarianceOf, rsiZoneCrossing, type BollingerValue, type CrossDirection } from './indicators/index.js';
import { orNaN, orUndefined, requireFinite } from './indicators/indicator.js';

/** Every series' indicators, for a snapshot: series keys and a fixed number of doubles per series. */
export interface IndicatorState {
  /** `interval NUL symbol` per series. */
  keys: string[];
  data: Float64Array;
}

/** The longest window: the row keeps this many last closes; the SMA and Bollinger windows are suffixes of them. */
const WINDOW = 30;
const FAST = 10;
const SLOW = 30;
const BB = 20;
const BB_K = 2;
const PREV = ['fast', 'slow', 'macd', 'signal', 'rsi', 'close', 'upper', 'lower'] as const;
type Prev = Record<(typeof PREV)[number], number | undefined>;

// A series' row: last bucket used (−Infinity: none), count of closes, the closes oldest first (NaN past the count),
// the previous bar's figures (NaN: none), then MACD's and RSI's own saved state (Persistent).
const LAST = 0;
const COUNT = 1;
const CLOSES = 2;
const PREV_AT = CLOSES + WINDOW;
const MACD_AT = PREV_AT + PREV.length;
const RSI_AT = MACD_AT + new Macd(12, 26, 9).stateSize;
const STRIDE = RSI_AT + new Rsi(14).stateSize;

const dir = (d: CrossDirection | undefined): 'UP' | 'DOWN' | undefined => (d === 'up' ? 'UP' : d === 'down' ? 'DOWN' : undefined);

/** A fresh series' row. */
function freshRow(): Float64Array {
  const saved: number[] = [-Infinity, 0, ...new Array<number>(WINDOW + PREV.length).fill(NaN)];
  new Macd(12, 26, 9).saveState(saved);
  new Rsi(14).saveState(saved);
  return Float64Array.from(saved);
}

export class SignalEngine {
  /** Series key (`interval NUL symbol`) → its row number (rows are numbered in insertion order). */
  private readonly rows = new Map<string, number>();
  /** By row: the signals configured for the series (none → indicators are not computed). */
  private readonly names: ReadonlySet<SignalName>[] = [];
  /** The rows, STRIDE doubles each; grown by half when full. */
  private data = new Float64Array(STRIDE * 64);
  private readonly fresh = freshRow();
  /** The instances a row's MACD and RSI state is loaded into for one bar. */
  private readonly macd = new Macd(12, 26, 9);
  private readonly rsi = new Rsi(14);
  private readonly saved: number[] = [];

  constructor(private readonly rules: SignalRules = SignalRules.all()) {}

  /** The row of (symbol, interval), made fresh the first time. */
  private rowOf(symbol: string, interval: string, key = `${interval}\u0000${symbol}`): number {
    let row = this.rows.get(key);
    if (row !== undefined) return row;
    row = this.rows.size;
    if ((row + 1) * STRIDE > this.data.length) {
      const grown = new Float64Array(Math.ceil((this.data.length / STRIDE) * 1.5) * STRIDE);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(this.fresh, row * STRIDE);
    this.rows.set(key, row);
    this.names.push(this.rules.select(symbol, interval));
    return row;
  }

  /** The indicators' state, for a snapshot: the rows of the series that used a bar. The configured signal names are not in it: the rules in force decide. */
  state(): IndicatorState {
    const used = [...this.rows].filter(([, r]) => this.data[r * STRIDE + LAST] !== -Infinity);
    const data = new Float64Array(used.length * STRIDE);
    used.forEach(([, r], n) => data.set(this.data.subarray(r * STRIDE, (r + 1) * STRIDE), n * STRIDE));
    return { keys: used.map(([key]) => key), data };
  }

  restore(state: IndicatorState): void {
    state.keys.forEach((key, n) => {
      const cut = key.indexOf('\u0000');
      const row = this.rowOf(key.slice(cut + 1), key.slice(0, cut), key);
      this.data.set(state.data.subarray(n * STRIDE, (n + 1) * STRIDE), row * STRIDE);
    });
  }

  /** Feed final bars (any order of series); returns the signals they trigger. */
  onBars(bars: Bar[]): Signal[] {
    const out: Signal[] = [];
    for (const bar of [...bars].sort((a, b) => a.bucketStart - b.bucketStart)) {
      const row = this.rowOf(bar.symbol, bar.interval);
      const names = this.names[row]!;
      const a = this.data;
      const o = row * STRIDE;
      if (bar.bucketStart <= a[o + LAST]! || names.size === 0) continue; // a revision, a bar seen already, or no signals wanted
      a[o + LAST] = bar.bucketStart;
      const c = requireFinite(bar.close, 'signal input');
      // The closes, oldest first: the newest goes last, the oldest out once there are WINDOW of them.
      let count = a[o + COUNT]!;
      if (count < WINDOW) a[o + COUNT] = ++count;
      else a.copyWithin(o + CLOSES, o + CLOSES + 1, o + CLOSES + WINDOW);
      a[o + CLOSES + count - 1] = c;
      const end = o + CLOSES + count;
      const fast = count >= FAST ? exactMeanOf(a, end - FAST, FAST) : undefined;
      const slow = count >= SLOW ? exactMeanOf(a, end - SLOW, SLOW) : undefined;
      const middle = count >= BB ? exactMeanOf(a, end - BB, BB) : undefined;
      const bb: BollingerValue | undefined = middle === undefined ? undefined : bands(middle, exactVarianceOf(a, end - BB, BB), BB_K);
      this.macd.loadState(a, o + MACD_AT);
      this.rsi.loadState(a, o + RSI_AT);
      const m = this.macd.update(c);
      const rsi = this.rsi.update(c);
      const saved = this.saved;
      saved.length = 0;
      this.macd.saveState(saved);
      this.rsi.saveState(saved);
      a.set(saved, o + MACD_AT);
      const p = {} as Prev;
      for (let i = 0; i < PREV.length; i++) p[PREV[i]!] = orUndefined(a[o + PREV_AT + i]!);
      const emit = (name: Signal['name'], d: CrossDirection | undefined, values: number[]) => {
        const direction = dir(d);
        if (direction && names.has(name)) out.push({ symbol: bar.symbol, interval: bar.interval, barTime: bar.bucketStart, name, direction, values });
      };
      emit('sma_cross', crossing(p.fast, p.slow, fast, slow), [fast!, slow!]);
      emit('macd_cross', crossing(p.macd, p.signal, m?.macd, m?.signal), [m?.macd ?? NaN, m?.signal ?? NaN]);
      emit('rsi_zone', rsiZoneCrossing(p.rsi, rsi), [rsi!]);
      emit(
        'bollinger_breakout',
        crossing(p.close, p.upper, c, bb?.upper) === 'up' ? 'up' : crossing(p.close, p.lower, c, bb?.lower) === 'down' ? 'down' : undefined,
        [c, bb?.upper ?? NaN, bb?.lower ?? NaN],
      );
      const next: Prev = { fast, slow, macd: m?.macd, signal: m?.signal, rsi, close: c, upper: bb?.upper, lower: bb?.lower };
      for (let i = 0; i < PREV.length; i++) a[o + PREV_AT + i] = orNaN(next[PREV[i]!]);
    }
    return out;
  }
}
