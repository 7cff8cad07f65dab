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

  write(bars: Bar[], sourceTs?: number): Promise<void> {
    return this.writeGroups([{ bars, sourceTs }]);
  }

  /** Each group's records carry its own timestamp (the tick that closed its bars); one produce for all of them. */
  async writeGroups(groups: { bars: Bar[]; sourceTs?: number }[]): Promise<void> {
    const s = schema('bar');
    const headers = publishedHeader();
    const messages = groups.flatMap(({ bars, sourceTs }) => {
      const timestamp = sourceTs === undefined ? undefined : String(sourceTs);
      return bars.map((b) => ({ key: b.symbol, value: encode(s, b), timestamp, headers }));
    });
    if (messages.length === 0) return;
    try {
      await sendChunked(this.producer, this.topic, messages);
    } catch (err) {
      throw new SinkError(this.name, `produce of ${messages.length} bars failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {}
}
