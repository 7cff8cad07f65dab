// Where an aggregator state snapshot lives in the state topic: the contract between the partition aggregator's
// checkpoint (offset metadata) and the state store that writes and reads the snapshot.

export interface SnapshotRef {
  id: string;
  /** Offset of the snapshot's first record in the state topic. */
  offset: number;
  chunks: number;
}
