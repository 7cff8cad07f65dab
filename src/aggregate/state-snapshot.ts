// What a partition's state snapshot holds and its byte format: the aggregation state (larger intervals' bars,
// flat-bar state) and the indicators, structured-cloned with v8.serialize (keeps -Infinity, NaN and undefined,
// which the state is full of; Node reads older versions of the format). A version field guards the layout.
import { deserialize, serialize } from 'node:v8';
import { StateRestoreError } from '../errors.js';
import type { AggState } from './partition-aggregator.js';
import type { IndicatorState } from './signals/signal-engine.js';

export interface PartitionSnapshot {
  v: 1;
  agg: AggState;
  signals: IndicatorState;
}

export function encodeSnapshot(agg: AggState, signals: IndicatorState): Buffer {
  const s: PartitionSnapshot = { v: 1, agg, signals };
  return serialize(s);
}

export function decodeSnapshot(buf: Buffer): PartitionSnapshot {
  let s: PartitionSnapshot;
  try {
    s = deserialize(buf) as PartitionSnapshot;
  } catch (err) {
    throw new StateRestoreError(`state snapshot does not deserialize: ${(err as Error).message}`, { cause: err });
  }
  if (!s || s.v !== 1 || !s.agg || s.agg.v !== 1) throw new StateRestoreError(`state snapshot has an unknown format version (${String(s?.v)})`);
  // Snapshots written before the layout gained a field cannot be checked against the configuration: refuse them
  // with what to do rather than fail somewhere inside the restore.
  if (!Array.isArray(s.agg.intervals) || !Array.isArray(s.agg.levels) || !s.signals || !Array.isArray(s.signals.keys))
    throw new StateRestoreError(
      'state snapshot was written by an older version of the aggregator (no interval list or indicator rows): start the aggregator group afresh (a new TE_AGG_GROUP, or reset its offsets)',
    );
  return s;
}
