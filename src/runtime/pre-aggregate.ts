// The workers' task: decode a packed batch of Kafka record values and fold its ticks into partial bars (the map
// step, run in piscina workers; the owning thread merges the partials).
import { TickFolder, type BatchOutput, type FoldParams } from '../aggregate/tick-folder.js';
import { PackedCursor, type PackedBatch } from '../stream/packed-batch.js';
import { importWireIds } from '../stream/schema-ids.js';

/** `wireIds`: with a schema registry, the ids the owning thread learned (exportWireIds), since a worker has its own. */
export type BatchInput = PackedBatch & FoldParams & { wireIds?: [number, number][] };

let cursor: PackedCursor | undefined;

export function preAggregate(input: BatchInput): BatchOutput {
  if (input.wireIds) importWireIds(input.wireIds);
  const c = (cursor ??= new PackedCursor()).of(input);
  const folder = new TickFolder(input);
  for (let i = 0; i < c.count; i++) folder.addFrom(c, i, i);
  return folder.result();
}
