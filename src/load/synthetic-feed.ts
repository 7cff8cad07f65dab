// The load runs' upstream: synthetic bars in progress (bars.live), final bars at each bucket end (bars), trades
// (ticks) and signals, produced to Kafka on the wall clock, so a gateway — or two side by side — has a stream of
// known rate to fan out. An update's lastEventTime and a trade's ingestTime are the moment it was produced: a
// client's "source" latency is Kafka + gateway + delivery.
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Config } from '../config.js';
import type { Bar } from '../contracts/bar.js';
import { parseInterval } from '../contracts/interval.js';
import type { Signal } from '../contracts/signal.js';
import type { Tick } from '../contracts/tick.js';
import type { Logger } from '../log.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { ensureTopics } from '../stream/topics.js';
import type { SyntheticFeed as FeedSpec } from './scenario.js';

const TICK_MS = 100;

export const syntheticSymbol = (i: number): string => `LOAD${String(i).padStart(5, '0')}-USD`;

interface Open {
  bar: Bar;
  width: number;
}

export class SyntheticFeed {
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly open = new Map<string, Open>();
  private readonly prices: number[];
  private tradeId = 0;
  private ticks = 0;
  private sending = false;
  /** Records produced, by topic kind. */
  readonly produced = { updates: 0, bars: 0, trades: 0, signals: 0, skippedRounds: 0 };
  readonly symbols: string[];

  constructor(
    private readonly spec: FeedSpec,
    private readonly config: Config,
    private readonly kafka: Kafka,
    private readonly log: Logger,
  ) {
    this.symbols = Array.from({ length: spec.symbols }, (_, i) => syntheticSymbol(i));
    this.prices = this.symbols.map((_, i) => 100 + i);
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, this.config);
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await this.producer.connect();
    this.timer = setInterval(() => this.round(), TICK_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.producer?.disconnect();
  }

  /** One round: updates (at their rate), the finals of buckets that ended, trades. Skipped while the last is unsent. */
  private round(): void {
    if (this.sending) {
      this.produced.skippedRounds++;
      return;
    }
    const { spec, config } = this;
    const nowUs = Date.now() * 1000;
    const updatesDue = spec.updatesPerSecond > 0 && this.ticks % Math.max(1, Math.round(1000 / TICK_MS / spec.updatesPerSecond)) === 0;
    this.ticks++;
    const bars: Message[] = [];
    const live: Message[] = [];
    const signals: Message[] = [];
    const trades: Message[] = [];
    for (let s = 0; s < this.symbols.length; s++) {
      const symbol = this.symbols[s]!;
      this.prices[s] = this.prices[s]! * (1 + (Math.random() - 0.5) * 1e-3);
      const price = this.prices[s]!;
      for (const interval of spec.intervals) {
        const key = `${interval}|${symbol}`;
        const width = parseInterval(interval);
        const bucket = Math.floor(nowUs / width) * width;
        let o = this.open.get(key);
        if (o && o.bar.bucketStart !== bucket) {
          const final = { ...o.bar, final: true };
          bars.push({ key: symbol, value: encode(schema('bar'), final) });
          this.produced.bars++;
          if (spec.signalShare > 0 && Math.random() < spec.signalShare) {
            const sig: Signal = { symbol, interval, barTime: final.bucketStart, name: 'sma_cross', direction: 'UP', values: [final.close, final.open] };
            signals.push({ key: symbol, value: encode(schema('signal'), sig) });
            this.produced.signals++;
          }
          o = undefined;
        }
        if (!o) {
          o = { width, bar: emptyBar(symbol, interval, bucket, price, nowUs) };
          this.open.set(key, o);
        }
        const b = o.bar;
        b.high = Math.max(b.high, price);
        b.low = Math.min(b.low, price);
        b.close = price;
        b.volume += 1;
        b.quoteVolume += price;
        b.vwap = b.quoteVolume / b.volume;
        b.tradeCount++;
        b.lastEventTime = nowUs;
        if (updatesDue) {
          live.push({ key: symbol, value: encode(schema('bar'), b) });
          this.produced.updates++;
        }
      }
    }
    const nTrades = Math.round((spec.tradesPerSecond * TICK_MS) / 1000);
    for (let i = 0; i < nTrades; i++) {
      const s = i % this.symbols.length;
      const t: Tick = {
        venue: 'LOAD',
        symbol: this.symbols[s]!,
        eventTime: nowUs,
        price: this.prices[s]!,
        size: 1,
        side: 'BUY',
        tradeId: String(++this.tradeId),
        ingestTime: nowUs,
      };
      trades.push({ key: t.symbol, value: encode(schema('tick'), t) });
      this.produced.trades++;
    }
    const topicMessages = [
      { topic: config.topicBars, messages: bars },
      { topic: config.topicBarsLive, messages: live },
      { topic: config.topicSignals, messages: signals },
      { topic: config.topicTicks, messages: trades },
    ].filter((x) => x.messages.length > 0);
    if (topicMessages.length === 0) return;
    this.sending = true;
    this.producer!.sendBatch({ topicMessages, acks: 1 }).then(
      () => (this.sending = false),
      (err: unknown) => {
        this.sending = false;
        this.log.warn({ err }, 'synthetic feed: send failed');
      },
    );
  }
}

function emptyBar(symbol: string, interval: string, bucketStart: number, price: number, nowUs: number): Bar {
  return {
    symbol,
    interval,
    bucketStart,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: 0,
    quoteVolume: 0,
    vwap: price,
    tradeCount: 0,
    buyVolume: 0,
    firstEventTime: nowUs,
    lastEventTime: nowUs,
    revision: 0,
    final: false,
    complete: null,
  };
}
