// The demo runs feed, aggregator and gateway in one process: when one of them fails for good, the demo shuts the
// others down, says which failed and exits non-zero. (Before, the feed's promise had no rejection handler: a failed
// feed was an unhandled rejection.) The demo here reuses the running test stack and leaves it running.
import t from 'tap';
import { createKafka } from '../../src/stream/kafka.js';
import { runCli } from '../helpers/cli.js';
import { freePort, testConfig, testEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/stores.js';

t.test('a feed that fails stops the demo with exit code 1, naming the feed', async (t) => {
  const port = await freePort();
  // A venue name longer than validation allows: every simulated tick is dead-lettered by the feed itself. The plain
  // simulated feed (no venue stand-ins) is the one failing here.
  const env = testEnv({ TE_GATEWAY_PORT: String(port), TE_DEMO_VENUES: '', TE_SIM_VENUE: 'V'.repeat(70), TE_SIM_RATE: '50', TE_LOG_LEVEL: 'warn' });
  const config = testConfig(env);
  const demo = runCli(['demo', '--keep-stack'], env);
  t.teardown(() => demo.stop());
  await waitFor(
    async () => demo.output(),
    (out) => out.includes('tick-engine demo is running') || demo.child.exitCode !== null,
    120_000,
    250,
  );
  t.match(demo.output(), /tick-engine demo is running/, 'the demo started');
  // Take the dead-letter topic away under it (the broker does not create topics on its own): the feed's
  // dead-letter sends fail for good.
  const admin = createKafka(config, 'demo-failure-test').admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [config.topicDlq] });
  await admin.disconnect();
  const code = await Promise.race([demo.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 90_000).unref())]);
  t.equal(code, 1, 'exit code 1');
  t.match(demo.output(), /tick-engine: feed failed: /, 'says the feed failed, and why');
  t.match(demo.output(), /"component":"feed"/, 'in the structured log too');
});
