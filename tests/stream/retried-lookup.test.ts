// retriedLookup: a lookup kafkajs fails with a retriable error (a partition without a leader yet, right after the
// topic was created) is tried again until it answers; any other error, or the last attempt's, is thrown as is.
import t from 'tap';
import { retriedLookup } from '../../src/stream/retried-lookup.js';

const notLeader = () => Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', retriable: true });

t.test('retriable errors are retried, others thrown at once', async (t) => {
  let calls = 0;
  const ends = await retriedLookup(async () => {
    if (++calls < 3) throw notLeader();
    return [{ partition: 0, high: '7' }];
  });
  t.same(ends, [{ partition: 0, high: '7' }], 'the third attempt answers');
  t.equal(calls, 3, 'after two retriable failures');

  calls = 0;
  await t.rejects(
    retriedLookup(async () => {
      calls++;
      throw Object.assign(new Error('Topic authorization failed'), { retriable: false });
    }),
    /authorization/,
    'a non-retriable error is thrown',
  );
  t.equal(calls, 1, 'without a retry');

  calls = 0;
  await t.rejects(
    retriedLookup(async () => {
      calls++;
      throw notLeader();
    }),
    /not the leader/,
    'a lookup that never answers ends with its error',
  );
  t.equal(calls, 8, 'after 8 attempts');
});
