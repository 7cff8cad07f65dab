// The live bench's event-loop delay: the p99 gauge read from an exposition, and per-second samples summarized.
import t from 'tap';
import { loopLagP99Ms, summarizeLoopLag } from '../../bench/loop-lag.js';

t.test('reads the p99 gauge in ms, labelled or not; absent is undefined', async (t) => {
  const text = [
    '# HELP tick_engine_nodejs_eventloop_lag_p99_seconds The 99th percentile of the recorded event loop delays.',
    '# TYPE tick_engine_nodejs_eventloop_lag_p99_seconds gauge',
    'tick_engine_nodejs_eventloop_lag_p50_seconds 0.010',
    'tick_engine_nodejs_eventloop_lag_p99_seconds 0.0425',
  ].join('\n');
  t.equal(loopLagP99Ms(text), 42.5);
  t.equal(loopLagP99Ms('tick_engine_nodejs_eventloop_lag_p99_seconds{role="aggregator"} 1.5e-1\n'), 150);
  t.equal(loopLagP99Ms('tick_engine_nodejs_eventloop_lag_p50_seconds 0.01\n'), undefined);
});

t.test('median and worst second', async (t) => {
  t.same(summarizeLoopLag([30, 10, 500, 20]), { medianP99Ms: 20, maxP99Ms: 500, seconds: 4 });
  t.same(summarizeLoopLag([7]), { medianP99Ms: 7, maxP99Ms: 7, seconds: 1 });
  t.equal(summarizeLoopLag([]), undefined);
});
