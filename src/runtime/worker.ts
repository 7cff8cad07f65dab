// piscina worker entry: one task = one raw Kafka batch → partial bars + rejects.
import type { BatchOutput } from '../aggregate/tick-folder.js';
import { preAggregate, type BatchInput } from './pre-aggregate.js';

export default function run(input: BatchInput): BatchOutput {
  return preAggregate(input);
}
