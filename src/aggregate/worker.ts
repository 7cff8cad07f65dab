// piscina worker entry: one task = one raw Kafka batch → partial bars + rejects.
import { preAggregate, type BatchInput, type BatchOutput } from './pre-aggregate.js';

export default function run(input: BatchInput): BatchOutput {
  return preAggregate(input);
}
