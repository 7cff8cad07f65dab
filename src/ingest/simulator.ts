// Simulated exchange feed: many symbols, a jump-diffusion price process, lognormal sizes, momentum in
// the aggressor side, bursts of activity, bounded out-of-order delivery. Pure and seeded: same options,
// same ticks (ingestTime aside, which the producer stamps).
import { Prng } from './prng.js';
import type { Side, Tick } from '../contracts/tick.js';

export interface SimulatorOptions {
  symbols: number;
  /** Mean ticks per second of event time, outside bursts. */
  rate: number;
  seed: number;
  /** Event time of the feed clock's start, µs. */
  start: number;
  /** Max delivery delay of a tick behind the feed clock, µs (event times go out of order by up to this). */
  jitter: number;
  venue: string;
  /**
   * The symbols' names, instead of the built-in ones (then `symbols` is ignored): a name whose base (BTC of BTC-USDT)
   * is a well-known one starts at its price, any other at a random one. The venue stand-ins trade under venue names.
   */
  names?: readonly string[];
}

const WELL_KNOWN: [string, number][] = [
  ['BTC-USD', 64000],
  ['ETH-USD', 3100],
  ['SOL-USD', 145],
  ['XRP-USD', 0.52],
  ['ADA-USD', 0.45],
  ['DOGE-USD', 0.12],
  ['AVAX-USD', 28],
  ['LINK-USD', 14],
  ['DOT-USD', 6.2],
  ['LTC-USD', 72],
  ['AAPL', 189],
  ['MSFT', 415],
  ['NVDA', 880],
  ['AMZN', 178],
  ['GOOGL', 152],
  ['META', 496],
  ['TSLA', 171],
  ['JPM', 195],
  ['EURUSD', 1.085],
  ['XAUUSD', 2330],
];

/** BTC of BTC-USD, BTC-USDT or BTC/EUR; a name without a separator is its own base. */
const baseOf = (name: string): string => name.split(/[-/]/)[0]!;

const YEAR_US = 365.25 * 86_400e6;
const JUMPS_PER_YEAR = 40;
const BURST_PROB_PER_S = 0.03;

interface SymbolState {
  name: string;
  /** Unrounded efficient price. */
  mid: number;
  tick: number;
  sigma: number;
  lastTime: number;
  lastReturn: number;
  seq: number;
  /** Typical trade notional in quote currency. */
  notional: number;
}

export class FeedSimulator {
  private readonly rng: Prng;
  private readonly syms: SymbolState[];
  private readonly cumWeights: Float64Array;
  private readonly opts: SimulatorOptions;
  /** The feed clock, µs (real-valued; event times are integers). */
  private clock: number;
  private burstUntil = -Infinity;
  private nextBurstCheck: number;

  constructor(opts: SimulatorOptions) {
    this.opts = opts;
    this.rng = new Prng(opts.seed);
    this.clock = opts.start;
    this.nextBurstCheck = opts.start;
    this.syms = [];
    const count = opts.names?.length ?? opts.symbols;
    for (let i = 0; i < count; i++) {
      const given = opts.names?.[i];
      const known = given === undefined ? WELL_KNOWN[i] : WELL_KNOWN.find(([name]) => baseOf(name) === baseOf(given));
      const price = known ? known[1] : Math.exp(Math.log(5) + this.rng.next() * (Math.log(2000) - Math.log(5)));
      const tick = price < 2 ? 0.0001 : price < 100 ? 0.001 : 0.01;
      this.syms.push({
        name: given ?? (known ? known[0] : `SYM${String(i).padStart(4, '0')}`),
        mid: price,
        tick,
        sigma: 0.25 + this.rng.next() * 0.9,
        lastTime: opts.start,
        lastReturn: 0,
        seq: 0,
        notional: 500 + this.rng.next() * 20_000,
      });
    }
    // Zipf-like activity: a few symbols trade far more often than the rest.
    this.cumWeights = new Float64Array(count);
    let acc = 0;
    for (let i = 0; i < count; i++) this.cumWeights[i] = acc += 1 / Math.pow(i + 1, 0.8);
  }

  get symbolNames(): string[] {
    return this.syms.map((s) => s.name);
  }

  /** Feed clock in µs: every tick returned so far was "sent" at or before it. */
  get now(): number {
    return this.clock;
  }

  private pickSymbol(): SymbolState {
    const w = this.cumWeights;
    const x = this.rng.next() * w[w.length - 1]!;
    let lo = 0;
    let hi = w.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (w[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return this.syms[lo]!;
  }

  next(): Tick {
    while (this.clock >= this.nextBurstCheck) {
      if (this.rng.next() < BURST_PROB_PER_S) this.burstUntil = this.nextBurstCheck + (1 + this.rng.next() * 4) * 1e6;
      this.nextBurstCheck += 1e6;
    }
    const rate = this.opts.rate * (this.clock < this.burstUntil ? 6 : 1);
    this.clock += this.rng.exponential(1e6 / rate);
    const s = this.pickSymbol();
    const dtYears = Math.max(this.clock - s.lastTime, 1) / YEAR_US;
    let r = s.sigma * Math.sqrt(dtYears) * this.rng.normal();
    if (this.rng.next() < JUMPS_PER_YEAR * dtYears) r += this.rng.normal() * 0.01;
    s.mid *= Math.exp(r);
    s.lastTime = this.clock;
    // Trades print on the tick grid, half a tick around the efficient price.
    const price = Math.max(s.tick, Math.round((s.mid + (this.rng.next() - 0.5) * s.tick) / s.tick) * s.tick);
    const roundedPrice = Number(price.toFixed(s.tick < 0.001 ? 4 : s.tick < 0.01 ? 3 : 2));
    const size = Math.max(0.0001, Number(((s.notional * Math.exp(this.rng.normal() * 0.9 - 0.4)) / roundedPrice).toFixed(4)));
    const pBuy = 0.5 + 0.25 * Math.tanh((s.lastReturn + r) * 2000);
    s.lastReturn = r;
    const side: Side = this.rng.next() < 0.03 ? 'UNKNOWN' : this.rng.next() < pBuy ? 'BUY' : 'SELL';
    const delay = this.opts.jitter > 0 ? Math.floor(this.rng.next() * (this.opts.jitter + 1)) : 0;
    s.seq++;
    return {
      venue: this.opts.venue,
      symbol: s.name,
      eventTime: Math.floor(this.clock) - delay,
      price: roundedPrice,
      size,
      side,
      tradeId: String(s.seq).padStart(12, '0'),
      ingestTime: 0,
    };
  }
}
