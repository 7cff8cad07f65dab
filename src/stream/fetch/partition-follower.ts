// Follows one partition from an offset with long-polling Fetch requests of its own (read_committed), for the live
// aggregator: each response's record values where they lie, no object per record. The next fetch is sent as soon
// as a response is in, so it waits at the broker while the caller works through the current one: at most two
// responses are held. A broken connection is the caller's to handle (it makes a new follower, perhaps to a new
// leader, from where it got to); a group's membership and commits are not this file's business.
import { KafkaReadError } from '../../errors.js';
import { API_FETCH, KafkaConnection } from './kafka-connection.js';
import { checkFetchVersion, FETCH_VERSION, fetchRequest, parseFetchResponse, type Broker, type FetchLimits } from './partition-fetcher.js';
import { readRecordBatches, type ValueRun } from './record-batches.js';

/** One response's worth of a partition. */
export interface Fetched {
  /** The values read, in offset order; none when the range held only transaction markers or aborted records. */
  runs: ValueRun[];
  /** The offset asked for, and the offset to ask for next: [from, next) is read (next = from: nothing new). */
  from: number;
  next: number;
  /** Where the partition's log ended when the broker answered. */
  highWatermark: number;
}

export interface FollowOptions extends FetchLimits {
  clientId: string;
  /** How long the broker may stay silent on a pending request (beyond maxWaitMs) before the connection counts as broken. */
  timeoutMs: number;
}

export class PartitionFollower {
  private readonly conn: KafkaConnection;
  private readonly ready: Promise<void>;
  private inFlight: Promise<Buffer> | undefined;
  private position: number;

  constructor(
    broker: Broker,
    private readonly topic: string,
    private readonly partition: number,
    from: number,
    private readonly opts: FollowOptions,
  ) {
    this.position = from;
    this.conn = new KafkaConnection(broker.host, broker.port, opts.clientId, opts.timeoutMs + opts.maxWaitMs);
    this.ready = checkFetchVersion(this.conn);
    this.ready.catch(() => undefined);
  }

  /** The offset the next `next()` reads from. */
  get offset(): number {
    return this.position;
  }

  /** The next response: waits at most about maxWaitMs when nothing new is committed (then `runs` is empty). */
  async next(): Promise<Fetched> {
    await this.ready;
    const from = this.position;
    const data = parseFetchResponse(await (this.inFlight ?? this.send(from)), this.topic, this.partition);
    const read = readRecordBatches(data.records, from, Infinity, data.aborted, true);
    if (read.next === from && data.records.length > 0)
      throw new KafkaReadError(`fetching ${this.topic}/${this.partition} at offset ${from}: no complete record batch in ${data.records.length} bytes`);
    this.position = read.next;
    this.send(read.next);
    return { runs: read.runs, from, next: read.next, highWatermark: data.highWatermark };
  }

  close(): void {
    this.inFlight?.catch(() => undefined);
    this.conn.close();
  }

  private send(offset: number): Promise<Buffer> {
    const request = this.conn.request(API_FETCH, FETCH_VERSION, fetchRequest(this.topic, this.partition, offset, this.opts));
    request.catch(() => undefined); // observed by the next `next()`
    this.inFlight = request;
    return request;
  }
}
