// A consumer kafkajs gave up on after a broker outage is restarted (in the same group); any other crash is fatal.
// The consumer is faked: what is under test is the policy, driven by the crash events kafkajs emits.
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { brokerUnavailable, superviseConsumer, type SupervisedConsumer } from '../../src/stream/consumer-supervisor.js';

/** Errors shaped as kafkajs makes them (name, retriable, cause). */
function kafkaError(name: string, retriable: boolean, cause?: Error): Error {
  return Object.assign(new Error(name), { name, retriable, cause });
}

class FakeConsumer extends EventEmitter {
  readonly events = { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join' } as SupervisedConsumer['events'];
  connects = 0;
  failConnects = 0;
  async connect(): Promise<void> {
    this.connects++;
    if (this.failConnects > 0) {
      this.failConnects--;
      throw kafkaError('KafkaJSConnectionError', true);
    }
  }
  crash(error: Error, restart: boolean): void {
    this.emit(this.events.CRASH, { payload: { error, restart, groupId: 'g' } });
  }
  joined(): void {
    this.emit(this.events.GROUP_JOIN, { payload: {} });
  }
}

function setup() {
  const consumer = new FakeConsumer();
  const lines: { msg: string; level: number }[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as { msg: string; level: number });
        done();
      },
    }),
  );
  const state = { runs: 0, restarts: 0, fatal: [] as Error[], stopping: false };
  superviseConsumer(consumer as unknown as SupervisedConsumer, {
    name: 'test',
    log,
    run: async () => {
      state.runs++;
    },
    maxDelayMs: 20,
    stopping: () => state.stopping,
    onRestart: () => state.restarts++,
    onFatal: (err) => state.fatal.push(err),
  });
  return { consumer, lines, state };
}

const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));

t.test('which errors are a broker outage', async (t) => {
  t.ok(brokerUnavailable(kafkaError('KafkaJSGroupCoordinatorNotFound', false)), 'coordinator not found, though kafkajs calls it non-retriable');
  t.ok(brokerUnavailable(kafkaError('KafkaJSNonRetriableError', false, kafkaError('KafkaJSConnectionError', true))), 'a connection error as the cause');
  t.ok(brokerUnavailable(kafkaError('KafkaJSProtocolError', true)), 'a retriable protocol error (coordinator loading)');
  t.notOk(brokerUnavailable(kafkaError('KafkaJSProtocolError', false)), 'a non-retriable protocol error (authorization)');
  t.notOk(brokerUnavailable(new Error('TE_STATE_RESTORE')), 'our own error');
  t.notOk(brokerUnavailable(undefined));
});

t.test('after KafkaJSGroupCoordinatorNotFound (kafkajs does not restart) it is connected and run again', async (t) => {
  const { consumer, lines, state } = setup();
  consumer.crash(kafkaError('KafkaJSGroupCoordinatorNotFound', false), false);
  await settle();
  t.equal(state.fatal.length, 0, 'not fatal');
  t.equal(consumer.connects, 1, 'connected again');
  t.equal(state.runs, 1, 'run again');
  t.equal(state.restarts, 1, 'state tied to the group dropped');
  consumer.joined();
  t.same(
    lines.filter((l) => l.level >= 30).map((l) => l.msg),
    ['test consumer crashed (broker unavailable); restarting it with backoff from the committed offsets', 'test consumer running again'],
    'one line when it goes down, one when it is back',
  );
});

t.test('restart attempts continue with backoff while the broker stays away', async (t) => {
  const { consumer, state } = setup();
  consumer.failConnects = 3;
  consumer.crash(kafkaError('KafkaJSGroupCoordinatorNotFound', false), false);
  await settle(500);
  t.equal(consumer.connects, 4, 'three failed connects, then one that worked');
  t.equal(state.runs, 1);
  // The join inside run() failing is another crash: another attempt.
  consumer.crash(kafkaError('KafkaJSConnectionError', true), false);
  await settle();
  t.equal(state.runs, 2);
  t.equal(state.fatal.length, 0);
});

t.test('a crash kafkajs restarts itself is not restarted twice', async (t) => {
  const { consumer, state } = setup();
  consumer.crash(kafkaError('KafkaJSNumberOfRetriesExceeded', false), true);
  await settle();
  t.equal(consumer.connects, 0, 'left to kafkajs');
  t.equal(state.restarts, 1, 'state dropped');
});

t.test('any other crash is fatal; none while stopping', async (t) => {
  const { consumer, state } = setup();
  const authz = kafkaError('KafkaJSProtocolError', false);
  consumer.crash(authz, false);
  await settle(50);
  t.same(state.fatal, [authz]);
  t.equal(consumer.connects, 0);
  state.stopping = true;
  consumer.crash(kafkaError('KafkaJSGroupCoordinatorNotFound', false), false);
  consumer.crash(new Error('boom'), false);
  await settle(100);
  t.equal(consumer.connects, 0, 'no restart while stopping');
  t.equal(state.fatal.length, 1, 'nothing fatal while stopping');
});
