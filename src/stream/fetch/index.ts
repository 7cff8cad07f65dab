// The engine's own Kafka fetch path, as the rest of the engine sees it: where each partition's leader is, a
// partition's record values in [from, to) (replay), and a partition followed from an offset (the live aggregator),
// packed where they lie in the fetch responses. Connection handling (kafka-connection.ts) and record-batch parsing
// (record-batches.ts) stay inside this folder, as undici keeps its HTTP parser apart from its API. kafkajs remains
// the client for groups, commits and producing.
export { FETCH_MAX_BYTES, fetchPartition, OFFSET_OUT_OF_RANGE, partitionLeaders, type Broker, type FetchOptions } from './partition-fetcher.js';
export { PartitionFollower, type Fetched, type FollowOptions } from './partition-follower.js';
export type { ValueRun } from './record-batches.js';
