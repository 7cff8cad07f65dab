// Aggregator state snapshots in a compacted Kafka topic, as Kafka Streams keeps its changelogs: a snapshot of
// tick partition p is written to partition p (mod the state topic's partitions) in chunks, keyed
// `<group>/<p>/<snapshot id>/<chunk>`. Keys are unique per snapshot, so a snapshot written and never committed
// (a crash, or a consumer that lost the partition) cannot overwrite the one the committed checkpoint refers to;
// the previous snapshot is tombstoned once a newer one is committed, and compaction removes it.
import { randomBytes } from 'node:crypto';
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { StateRestoreError } from '../errors.js';
import type { SnapshotRef } from '../contracts/snapshot-ref.js';
import { readPartition } from './partition-reader.js';

/** Below the broker's default 1 MB message limit before compression. */
const CHUNK_BYTES = 512 * 1024;

export class StateStore {
  private partitions: number | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    readonly topic: string,
    /** The consumer group: several groups may share the topic. */
    private readonly owner: string,
  ) {}

  private async statePartition(partition: number): Promise<number> {
    if (this.partitions === undefined) {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [this.topic] });
        this.partitions = meta.topics[0]!.partitions.length;
      } finally {
        await admin.disconnect();
      }
    }
    return partition % this.partitions;
  }

  private prefix(partition: number, id: string): string {
    return `${this.owner}/${partition}/${id}/`;
  }

  /** Write a snapshot of tick partition `partition`; resolves once every chunk is acknowledged. */
  async save(partition: number, payload: Buffer): Promise<SnapshotRef> {
    const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const target = await this.statePartition(partition);
    const chunks = Math.max(1, Math.ceil(payload.length / CHUNK_BYTES));
    let offset = Infinity;
    for (let i = 0; i < chunks; i++) {
      const [meta] = await this.producer.send({
        topic: this.topic,
        compression: CompressionTypes.GZIP,
        messages: [{ key: this.prefix(partition, id) + i, value: payload.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES), partition: target }],
      });
      offset = Math.min(offset, Number(meta!.baseOffset));
    }
    return { id, offset, chunks };
  }

  /** Read back the snapshot `ref` of tick partition `partition`. */
  async load(partition: number, ref: SnapshotRef): Promise<Buffer> {
    const target = await this.statePartition(partition);
    const admin = this.kafka.admin();
    await admin.connect();
    let end: number;
    try {
      const offsets = await admin.fetchTopicOffsets(this.topic);
      end = Number(offsets.find((o) => o.partition === target)!.high);
    } finally {
      await admin.disconnect();
    }
    const prefix = this.prefix(partition, ref.id);
    const parts: (Buffer | undefined)[] = new Array(ref.chunks);
    let found = 0;
    read: for await (const batch of readPartition(this.kafka, this.topic, target, ref.offset, end)) {
      for (const m of batch) {
        const key = m.key?.toString();
        if (!key?.startsWith(prefix) || !m.value) continue;
        const i = Number(key.slice(prefix.length));
        if (parts[i] === undefined) found++;
        parts[i] = m.value;
        if (found === ref.chunks) break read;
      }
    }
    if (found !== ref.chunks)
      throw new StateRestoreError(
        `state snapshot ${ref.id} of partition ${partition} is incomplete in ${this.topic}: ${found} of ${ref.chunks} chunks found from offset ${ref.offset}`,
      );
    return Buffer.concat(parts as Buffer[]);
  }

  /** Tombstone a snapshot no checkpoint refers to any more. */
  async drop(partition: number, ref: SnapshotRef): Promise<void> {
    const target = await this.statePartition(partition);
    const messages = Array.from({ length: ref.chunks }, (_, i) => ({ key: this.prefix(partition, ref.id) + i, value: null, partition: target }));
    await this.producer.send({ topic: this.topic, messages });
  }
}
