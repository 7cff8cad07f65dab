// Replay's own Kafka fetch path, as the rest of the engine sees it: where each partition's leader is, and a
// partition's record values in [from, to), packed where they lie in the fetch responses. Connection handling
// (kafka-connection.ts) and record-batch parsing (record-batches.ts) stay inside this folder, as undici keeps its
// HTTP parser apart from its API. kafkajs remains the client for groups, commits and producing.
export { FETCH_MAX_BYTES, fetchPartition, partitionLeaders, type Broker, type FetchOptions } from './partition-fetcher.js';
export type { ValueRun } from './record-batches.js';
