// Fan-out: each delta the feed hands over (a final bar, an in-progress bar, a signal, a trade) gets its series'
// sequence number and is serialized at most once per encoding. With direct delivery (uWS pub/sub), it is published once
// per encoding to the subscribers that keep up, and queued in the outbox of the others; without, it is queued in the
// outbox of every subscriber. The outboxes that took something are flushed at the end of the feed's batch.
import type { Bar } from '../../contracts/bar.js';
import type { Signal } from '../../contracts/signal.js';
import type { Tick } from '../../contracts/tick.js';
import { schema } from '../../stream/schemas.js';
import { encode } from '../../stream/serde.js';
import type { Client } from '../ws/client.js';
import type { Kind, OutMessage } from '../ws/outbox.js';
import { serializeBarMessage, serializeSignalMessage, serializeTradeMessage, type Channel } from '../ws/protocol.js';
import type { DirectRoutes } from './direct-routes.js';
import type { FeedHandlers } from './feed.js';
import { seriesKey, type SeriesBook } from './series-book.js';
import type { Subscriptions } from './subscriptions.js';

/** One delta of one series, as the feed hands it over. */
interface Delta {
  channel: Channel;
  interval: string | undefined;
  symbol: string;
  kind: Kind;
  /** Its type in an Avro frame (schemas/ws-frame.avsc). */
  frame: 'BAR' | 'UPDATE' | 'TRADE' | 'SIGNAL';
  /** Bars: bucket start (conflation); otherwise event or bar time. */
  bucket: number;
  seq: number;
  /** The Kafka record value (wire format), the payload of an Avro frame. */
  raw: Buffer;
  /** Kafka timestamp of the tick behind it (ms). */
  srcTs: number;
  json: (ts: number) => string;
}

export class Fanout implements FeedHandlers {
  /** Clients with messages queued in the current round. */
  private readonly dirty = new Set<Client>();

  constructor(
    private readonly subs: Subscriptions<Client>,
    private readonly series: SeriesBook,
    private readonly direct?: DirectRoutes,
  ) {}

  /** Hand one delta to every subscriber of its series; serialized at most once per encoding. */
  private deliver(d: Delta): void {
    const id = seriesKey(d.channel, d.interval, d.symbol);
    const subscribers = this.subs.subscribers(d.channel, d.interval, d.symbol, id);
    const route = this.direct?.route(id, subscribers);
    if (subscribers.length === 0) return;
    const ts = Date.now();
    let asJson: OutMessage | undefined;
    let asAvro: OutMessage | undefined;
    const message = (data: string | Buffer, binary: boolean): OutMessage => ({
      kind: d.kind,
      channel: d.channel,
      series: id,
      bucket: d.bucket,
      srcTs: d.srcTs,
      data,
      binary,
    });
    const json = () => (asJson ??= message(d.json(ts), false));
    const avro = () => (asAvro ??= message(encode(schema('frame'), { type: d.frame, seq: d.seq, ts, payload: d.raw }), true));
    for (const c of route ? route.queued : subscribers) if (c.outbox?.push(c.encoding === 'avro' ? avro() : json())) this.dirty.add(c);
    if (route?.json) this.direct!.publish(route, 'json', json(), ts);
    if (route?.avro) this.direct!.publish(route, 'avro', avro(), ts);
  }

  bar(bar: Bar, raw: Buffer, srcTs: number): void {
    const seq = this.series.recordBar(bar);
    const json = (ts: number) => serializeBarMessage({ type: 'bar', seq, ts, bar });
    this.deliver({ channel: 'bars', interval: bar.interval, symbol: bar.symbol, kind: 'final', frame: 'BAR', bucket: bar.bucketStart, seq, raw, srcTs, json });
  }

  update(bar: Bar, raw: Buffer, srcTs: number): void {
    const seq = this.series.recordUpdate(bar);
    if (seq === undefined) return;
    const json = (ts: number) => serializeBarMessage({ type: 'update', seq, ts, bar });
    this.deliver({
      channel: 'bars',
      interval: bar.interval,
      symbol: bar.symbol,
      kind: 'update',
      frame: 'UPDATE',
      bucket: bar.bucketStart,
      seq,
      raw,
      srcTs,
      json,
    });
  }

  signal(signal: Signal, raw: Buffer, srcTs: number): void {
    const seq = this.series.recordSignal(signal);
    const json = (ts: number) => serializeSignalMessage({ type: 'signal', seq, ts, signal });
    this.deliver({
      channel: 'signals',
      interval: signal.interval,
      symbol: signal.symbol,
      kind: 'final',
      frame: 'SIGNAL',
      bucket: signal.barTime,
      seq,
      raw,
      srcTs,
      json,
    });
  }

  trade(trade: Tick, raw: Buffer, srcTs: number): void {
    const seq = this.series.recordTrade(trade);
    const json = (ts: number) => serializeTradeMessage({ type: 'trade', seq, ts, trade });
    this.deliver({
      channel: 'trades',
      interval: undefined,
      symbol: trade.symbol,
      kind: 'trade',
      frame: 'TRADE',
      bucket: trade.eventTime,
      seq,
      raw,
      srcTs,
      json,
    });
  }

  /** End of the feed's batch: send what each client's outbox took. */
  batchEnd(): void {
    const now = Date.now();
    for (const c of this.dirty) c.outbox?.flush(now);
    this.dirty.clear();
    this.direct?.roundEnd();
  }

  /** A closed client holds nothing queued. */
  forget(c: Client): void {
    this.dirty.delete(c);
    this.direct?.forget(c);
  }
}
