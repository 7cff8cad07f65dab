// Final bars to the bars topic (Avro, schema-registry wire format, keyed by symbol).
import type { Producer } from 'kafkajs';
import { SinkError } from '../errors.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { publishedHeader } from '../stream/published-header.js';
import { sendChunked } from '../stream/send.js';
import type { Bar } from '../contracts/bar.js';
import type { BarSink } from '../stores/sink.js';

export class KafkaBarSink implements BarSink {
  readonly name = 'kafka';
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async init(): Promise<void> {}

  async write(bars: Bar[], sourceTs?: number): Promise<void> {
    if (bars.length === 0) return;
    const s = schema('bar');
    const headers = publishedHeader();
    try {
      await sendChunked(
        this.producer,
        this.topic,
        bars.map((b) => ({ key: b.symbol, value: encode(s, b), timestamp: sourceTs === undefined ? undefined : String(sourceTs), headers })),
      );
    } catch (err) {
      throw new SinkError(this.name, `produce of ${bars.length} bars failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {}
}
