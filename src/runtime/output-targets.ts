// The places an aggregator step's output goes, as OutputQueue targets: each store (bars and signals), the bars
// topic, the signals topic and the dead-letter topic.
import type { Producer } from 'kafkajs';
import { signalsOut } from '../metrics.js';
import { sendDeadLetters } from '../stream/dlq.js';
import { schema } from '../stream/schemas.js';
import { encode } from '../stream/serde.js';
import { sendChunked } from '../stream/send.js';
import type { OutputStep, OutputTarget } from './output-queue.js';
import type { BarSink } from '../stores/sink.js';
import type { Bar } from '../contracts/bar.js';

/** A store (or the bars topic): bars, then the step's signals where the store keeps them. */
export function storeTarget(sink: BarSink, dependency = sink.name): OutputTarget {
  return {
    name: sink.name === 'kafka' ? 'kafka:bars' : sink.name,
    dependency,
    wants: (step) => step.bars.length > 0 || (step.signals.length > 0 && sink.writeSignals !== undefined),
    write: async (step: OutputStep) => {
      if (step.bars.length) await sink.write(step.bars, step.sourceTs);
      if (step.signals.length && sink.writeSignals) await sink.writeSignals(step.signals);
    },
    // One upsert (one request, one transaction) for the bars of every step; a sink that carries record timestamps
    // gets each step's bars with its own.
    writeMany: async (steps: OutputStep[]) => {
      const withBars = steps.filter((s) => s.bars.length > 0);
      if (withBars.length) {
        if (sink.writeGroups) await sink.writeGroups(withBars.map((s) => ({ bars: s.bars, sourceTs: s.sourceTs })));
        else await sink.write(asWrittenInTurn(withBars.flatMap((s) => s.bars)));
      }
      const signals = steps.flatMap((s) => s.signals);
      if (signals.length && sink.writeSignals)
        await sink.writeSignals(lastOfEach(signals, (x) => `${x.symbol}\u0000${x.interval}\u0000${x.barTime}\u0000${x.name}`));
    },
  };
}

/**
 * One row per bar identity, the one the steps' upserts would have left written one after another (a store keeps
 * the highest revision, the later of equal ones). Steps of different partitions never share a bar, but a dropped
 * partition state's last step and its rebuilt state's first may meet in one write, and one upsert statement may
 * not touch a row twice.
 */
function asWrittenInTurn(bars: Bar[]): Bar[] {
  const byKey = new Map<string, Bar>();
  for (const b of bars) {
    const k = `${b.symbol}\u0000${b.interval}\u0000${b.bucketStart}`;
    const had = byKey.get(k);
    if (!had || had.revision <= b.revision) byKey.set(k, b);
  }
  return byKey.size === bars.length ? bars : [...byKey.values()];
}

/** The last of each identity (signals: the upsert has no revision, the later one wins). */
function lastOfEach<T>(rows: T[], key: (x: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const x of rows) {
    const k = key(x);
    byKey.delete(k);
    byKey.set(k, x);
  }
  return byKey.size === rows.length ? rows : [...byKey.values()];
}

export function signalsTopicTarget(producer: Producer, topic: string): OutputTarget {
  return {
    name: 'kafka:signals',
    dependency: 'kafka',
    wants: (step) => step.signals.length > 0,
    write: (step) => writeSignals(step.signals),
    writeMany: (steps) => writeSignals(steps.flatMap((x) => x.signals)),
  };
  async function writeSignals(signals: OutputStep['signals']): Promise<void> {
    const s = schema('signal');
    await sendChunked(
      producer,
      topic,
      signals.map((x) => ({ key: x.symbol, value: encode(s, x) })),
    );
    signalsOut.inc(signals.length);
  }
}

export function deadLetterTarget(producer: Producer, topic: string): OutputTarget {
  return {
    name: 'kafka:dead-letters',
    dependency: 'kafka',
    wants: (step) => step.letters.length > 0,
    write: (step) => sendDeadLetters(producer, topic, step.letters),
    writeMany: (steps) =>
      sendDeadLetters(
        producer,
        topic,
        steps.flatMap((x) => x.letters),
      ),
  };
}
