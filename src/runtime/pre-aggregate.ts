// The workers' task: decode a packed batch of Kafka record values and fold its ticks into partial bars (the map
// step, run in piscina workers; the owning thread merges the partials). The batch names the kernel that decodes it
// (TE_KERNEL, chosen once by the owning thread): the native addon (runtime/native-kernel.ts), which decodes and folds
// the batch in C++, or the TypeScript decoder and TickFolder. A batch the native fold declines (a reject, a late tick,
// non-ASCII text: native/src/tick_fold.h) is folded by TickFolder over the natively decoded records; the output is
// the same whichever folds it.
import { TickFolder, type BatchOutput, type FoldParams } from '../aggregate/tick-folder.js';
import { PackedCursor, type PackedBatch } from '../stream/packed-batch.js';
import { importWireIds } from '../stream/schema-ids.js';
import { NativeCursor, type KernelName } from './native-kernel.js';

/**
 * `wireIds`: with a schema registry, the ids the owning thread learned (exportWireIds), since a worker has its own.
 * `kernel`: the decoder the owning thread chose (the native one knows only the engine's fixed ids: never with wireIds).
 */
export type BatchInput = PackedBatch & FoldParams & { wireIds?: [number, number][]; kernel?: KernelName };

let cursor: PackedCursor | undefined;
let nativeCursor: NativeCursor | undefined;

export function preAggregate(input: BatchInput): BatchOutput {
  if (input.wireIds) importWireIds(input.wireIds);
  let c;
  if (input.kernel === 'native') {
    const n = (nativeCursor ??= new NativeCursor()).of(input);
    const folded = n.fold(input);
    if (folded) return folded;
    c = n;
  } else c = (cursor ??= new PackedCursor()).of(input);
  const folder = new TickFolder(input);
  for (let i = 0; i < c.count; i++) folder.addFrom(c, i, i);
  return folder.result();
}
