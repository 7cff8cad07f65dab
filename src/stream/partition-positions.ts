// Where a consumer that reads live resumes after it (re)joins its group: per topic and partition, the offset after
// the last record it handled, or, for a partition it has not read from yet, where it started (the partition's end
// when the consumer was created).
//
// Why not the group's committed offsets: kafkajs commits a partition's offset only after handing over a batch of it,
// so a partition whose first records arrive while the consumer is away (a broker outage, a crash that kafkajs or
// superviseConsumer restarts) has none, and with fromBeginning: false it starts from its end — those records are
// never seen. And a commit lost in an outage sends records twice. Seeking every assigned partition to its position
// on each GROUP_JOIN avoids both: kafkajs applies the seeks before the new generation's first fetch.
import type { Consumer } from 'kafkajs';

export class PartitionPositions {
  private readonly next = new Map<string, Map<number, string>>();

  private topic(topic: string): Map<number, string> {
    let m = this.next.get(topic);
    if (!m) this.next.set(topic, (m = new Map()));
    return m;
  }

  /** Start the partitions of `topic` that have no position yet at `offsets` (the topic's ends, from fetchTopicOffsets). */
  startAt(topic: string, offsets: readonly { partition: number; offset: string }[]): void {
    const m = this.topic(topic);
    for (const { partition, offset } of offsets) if (!m.has(partition) && BigInt(offset) >= 0n) m.set(partition, offset);
  }

  /** Every record of the partition up to `lastOffset` (a batch's lastOffset(), control records included) is handled. */
  handled(topic: string, partition: number, lastOffset: string): void {
    this.topic(topic).set(partition, String(BigInt(lastOffset) + 1n));
  }

  /** The offset the partition resumes from, if known. */
  get(topic: string, partition: number): string | undefined {
    return this.next.get(topic)?.get(partition);
  }

  /** After a (re)join: seek every assigned partition with a position there. Returns how many were sought. */
  resume(consumer: Pick<Consumer, 'seek'>, assignment: Record<string, number[]>): number {
    let seeks = 0;
    for (const [topic, partitions] of Object.entries(assignment)) {
      const m = this.next.get(topic);
      if (!m) continue;
      for (const partition of partitions) {
        const offset = m.get(partition);
        if (offset === undefined) continue;
        consumer.seek({ topic, partition, offset });
        seeks++;
      }
    }
    return seeks;
  }
}
