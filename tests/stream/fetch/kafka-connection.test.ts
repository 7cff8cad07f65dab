// The bare Kafka connection against a fake broker (a local TCP server): requests framed with the v1 header,
// responses matched by correlation id however the bytes are split, a silent broker times out only while a
// request waits, and a refused connection is a KafkaReadError.
import t from 'tap';
import { KafkaConnection } from '../../../src/stream/fetch/kafka-connection.js';
import { fakeBroker, portOf } from '../../helpers/fake-broker.js';

t.test('requests and responses, in order, split into small pieces', async (t) => {
  const seen: string[] = [];
  const server = await fakeBroker((req, reply) => {
    seen.push(`${req.apiKey}/${req.version}/${req.clientId}`);
    reply(Buffer.concat([Buffer.from('echo:'), req.body]));
  });
  t.teardown(() => server.close());
  const conn = new KafkaConnection('127.0.0.1', portOf(server), 'me');
  t.teardown(() => conn.close());
  const answers = await Promise.all([
    conn.request(1, 4, Buffer.from('first')),
    conn.request(18, 0, Buffer.alloc(0)),
    conn.request(1, 4, Buffer.alloc(70_000, 7)),
  ]);
  t.equal(answers[0]!.toString(), 'echo:first');
  t.equal(answers[1]!.toString(), 'echo:');
  t.equal(answers[2]!.length, 5 + 70_000, 'a response of many pieces');
  t.same(seen, ['1/4/me', '18/0/me', '1/4/me'], 'api key, version and client id in the request header');
});

t.test('a broker silent while a request waits times out; an idle connection does not', async (t) => {
  let answer = true;
  const server = await fakeBroker((req, reply) => {
    if (answer) reply(Buffer.from('ok'));
  });
  t.teardown(() => server.close());
  const conn = new KafkaConnection('127.0.0.1', portOf(server), 'me', 200);
  t.teardown(() => conn.close());
  t.equal((await conn.request(1, 4, Buffer.alloc(0))).toString(), 'ok');
  await new Promise((r) => setTimeout(r, 500)); // idle for longer than the timeout
  t.equal((await conn.request(1, 4, Buffer.alloc(0))).toString(), 'ok', 'still usable after being idle');
  answer = false;
  await t.rejects(conn.request(1, 4, Buffer.alloc(0)), { code: 'TE_KAFKA_READ', message: /no answer from 127\.0\.0\.1:\d+ in 200 ms/ });
  await t.rejects(conn.request(1, 4, Buffer.alloc(0)), { code: 'TE_KAFKA_READ' }, 'and it stays failed');
});

t.test('a response with an unexpected correlation id, a closed connection, a refused one', async (t) => {
  const server = await fakeBroker((req, reply, socket) => {
    if (req.apiKey === 1) {
      const out = Buffer.alloc(8);
      out.writeInt32BE(4, 0);
      out.writeInt32BE(req.correlationId + 100, 4);
      socket.write(out);
    } else socket.destroy();
  });
  t.teardown(() => server.close());
  const a = new KafkaConnection('127.0.0.1', portOf(server), 'me');
  t.teardown(() => a.close());
  await t.rejects(a.request(1, 4, Buffer.alloc(0)), { code: 'TE_KAFKA_READ', message: /correlation id \d+ .* was not expected/ });
  const b = new KafkaConnection('127.0.0.1', portOf(server), 'me');
  t.teardown(() => b.close());
  await t.rejects(b.request(18, 0, Buffer.alloc(0)), { code: 'TE_KAFKA_READ', message: /closed/ });
  const c = new KafkaConnection('127.0.0.1', 1, 'me');
  await t.rejects(c.request(18, 0, Buffer.alloc(0)), { code: 'TE_KAFKA_READ', message: /cannot connect to 127\.0\.0\.1:1/ });
});

t.test('a connection that fails or is closed before it connects fails its requests (they never hung)', async (t) => {
  const server = await fakeBroker((req, reply) => reply(Buffer.from('ok')));
  t.teardown(() => server.close());
  const within = <T>(p: Promise<T>) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still waiting after 2 s')), 2000).unref())]);
  // Closed by the reader while connecting: destroy() emits 'close' and no 'error'.
  const a = new KafkaConnection('127.0.0.1', portOf(server), 'me');
  const waiting = a.request(1, 4, Buffer.alloc(0));
  a.close();
  await t.rejects(within(waiting), { code: 'TE_KAFKA_READ', message: /closed by the reader/ });
  // A connect that times out: the socket's timeout fires before 'connect' (a 1 ms timeout, then the event loop turns
  // before the loopback handshake is handled), and fail() destroys it, again with no 'error'.
  const b = new KafkaConnection('127.0.0.1', portOf(server), 'me', 1);
  const busy = Date.now() + 20;
  while (Date.now() < busy); // hold the event loop: the timer is due before the connect is seen
  await t.rejects(within(b.request(1, 4, Buffer.alloc(0))), { code: 'TE_KAFKA_READ' });
  b.close();
});
