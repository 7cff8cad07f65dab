// The output targets' writes of several partitions' steps at once: one write for all, each step's bars with the
// timestamp of the tick that closed them on the bars topic, signals and dead letters of every step.
import t from 'tap';
import type { Message, Producer, ProducerRecord } from 'kafkajs';
import type { Bar } from '../../src/contracts/bar.js';
import type { Signal } from '../../src/contracts/signal.js';
import type { BarSink } from '../../src/stores/sink.js';
import type { OutputStep } from '../../src/runtime/output-queue.js';
import { signalsTopicTarget, storeTarget } from '../../src/runtime/output-targets.js';
import { KafkaBarSink } from '../../src/runtime/kafka-bar-sink.js';
import { schema } from '../../src/stream/schemas.js';
import { decode } from '../../src/stream/serde.js';
import { SAMPLE_BAR } from '../helpers/sample-tick.js';

const bar = (symbol: string, bucketStart: number): Bar => ({ ...SAMPLE_BAR, symbol, interval: '1s', bucketStart, close: 1.5 });
const signal = (symbol: string): Signal => ({ symbol, interval: '1s', barTime: 1, name: 'sma_cross', direction: 'UP', values: [1, 2] }) as Signal;
const step = (bars: Bar[], sourceTs: number, signals: Signal[] = []): OutputStep => ({ bars, signals, letters: [], sourceTs });

/** A producer that keeps what it was sent. */
function fakeProducer() {
  const sent: ProducerRecord[] = [];
  return { sent, producer: { send: async (r: ProducerRecord) => void sent.push(r) } as unknown as Producer };
}

t.test('a store: one upsert of every step’s bars, one of their signals', async (t) => {
  const calls: string[] = [];
  const sink: BarSink = {
    name: 'postgres',
    init: async () => {},
    write: async (bars) => void calls.push(`bars ${bars.map((b) => `${b.symbol}@${b.bucketStart}`).join(',')}`),
    writeSignals: async (signals) => void calls.push(`signals ${signals.map((s) => s.symbol).join(',')}`),
    close: async () => {},
  };
  const target = storeTarget(sink);
  await target.writeMany!([step([bar('A', 1), bar('B', 1)], 10, [signal('A')]), step([], 11, [signal('C')]), step([bar('C', 1)], 12)]);
  t.same(calls, ['bars A@1,B@1,C@1', 'signals A,C'], 'the steps in order, a step without bars adds none');
});

t.test('a store: a bar in two steps (a dropped state\u2019s last, its rebuilt state\u2019s first) is upserted once, as in turn', async (t) => {
  const writes: Bar[][] = [];
  const signalWrites: Signal[][] = [];
  const sink: BarSink = {
    name: 'postgres',
    init: async () => {},
    write: async (bars) => void writes.push(bars),
    writeSignals: async (signals) => void signalWrites.push(signals),
    close: async () => {},
  };
  const target = storeTarget(sink);
  const rev = (b: Bar, revision: number, close: number): Bar => ({ ...b, revision, close });
  await target.writeMany!([
    step([rev(bar('A', 1), 1, 10), bar('B', 1)], 1, [{ ...signal('A'), values: [1] }]),
    step([rev(bar('A', 1), 0, 20), rev(bar('B', 1), 0, 30), bar('C', 1)], 2, [{ ...signal('A'), values: [2] }]),
  ]);
  t.same(
    writes[0]!.map((b) => [b.symbol, b.revision, b.close]),
    [
      ['A', 1, 10],
      ['B', 0, 30],
      ['C', 0, 1.5],
    ],
    'the higher revision stays, the later of equal ones (the store\u2019s rule), each once',
  );
  t.same(
    signalWrites[0]!.map((x) => [x.symbol, x.values]),
    [['A', [2]]],
    'a signal once, the later',
  );
});

t.test('the bars topic: one produce, each step’s records with its own timestamp', async (t) => {
  const { sent, producer } = fakeProducer();
  const target = storeTarget(new KafkaBarSink(producer, 'bars'));
  t.equal(target.name, 'kafka:bars');
  await target.writeMany!([step([bar('A', 1), bar('B', 1)], 1000), step([bar('C', 1)], 2000)]);
  t.equal(sent.length, 1, 'one send');
  const messages = sent[0]!.messages as Message[];
  t.same(
    messages.map((m) => [String(m.key), m.timestamp, decode<Bar>(schema('bar'), m.value as Buffer).symbol]),
    [
      ['A', '1000', 'A'],
      ['B', '1000', 'B'],
      ['C', '2000', 'C'],
    ],
  );
  t.same(sent[0]!.acks, -1, 'acknowledged by every in-sync replica');
  // One step alone, as before: its timestamp on each record.
  await target.write(step([bar('D', 1)], 3000));
  t.same(
    (sent[1]!.messages as Message[]).map((m) => m.timestamp),
    ['3000'],
  );
});

t.test('the signals topic: every step’s signals in one produce', async (t) => {
  const { sent, producer } = fakeProducer();
  const target = signalsTopicTarget(producer, 'signals');
  await target.writeMany!([step([], 1, [signal('A')]), step([], 2, [signal('B'), signal('C')])]);
  t.equal(sent.length, 1);
  t.same(
    (sent[0]!.messages as Message[]).map((m) => String(m.key)),
    ['A', 'B', 'C'],
  );
});
