// `tick-engine push-gateway` as a user runs it: bad configuration stops start-up naming the key; running, it takes a
// batch, reads only keys its --help lists, and a SIGTERM stops it cleanly (exit 0) with the batch written.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CONFIG_SPEC } from '../../src/config.js';
import { createKafka } from '../../src/stream/kafka.js';
import { runCli, waitHttpOk } from '../helpers/cli.js';
import { freePort, testConfig, testEnv } from '../helpers/env.js';
import { readTopic } from '../helpers/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'push-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const keysFile = join(dir, 'keys.json');
writeFileSync(keysFile, JSON.stringify([{ id: 'ea', key: 'cli-test-key-123456', venues: ['MT5-*'], symbols: ['*'] }]));

t.test('bad configuration fails at start-up naming the key', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /TE_CONFIG: invalid configuration TE_PUSH_KEYS_FILE: is empty/],
    [{ TE_PUSH_KEYS_FILE: join(dir, 'missing.json') }, /TE_PUSH_KEYS_FILE: cannot read/],
    [{ TE_PUSH_KEYS_FILE: keysFile, TE_PUSH_QUOTE_TICKS: 'EURUSD=last' }, /TE_PUSH_QUOTE_TICKS: quote tick rule 'EURUSD=last': side 'last'/],
    [{ TE_PUSH_KEYS_FILE: keysFile, TE_PUSH_MAX_RECORDS: '0' }, /TE_PUSH_MAX_RECORDS: must be >= 1/],
  ];
  for (const [env, re] of cases) {
    const p = runCli(['push-gateway'], { ...process.env, ...testEnv({ TE_PUSH_PORT: '0', ...env }) });
    t.equal(await p.exited, 1, Object.keys(env).join(',') || 'no keys file');
    t.match(p.output(), re);
  }
});

t.test('runs, takes a batch, reads only keys its help lists, stops on SIGTERM', async (t) => {
  const port = await freePort();
  const env = testEnv({ TE_PUSH_PORT: String(port), TE_PUSH_KEYS_FILE: keysFile });
  const trace = join(dir, 'trace.json');
  // Info level, whatever the test run's: the stop's log line is checked.
  const p = runCli(['push-gateway'], { ...process.env, ...env, TE_CONFIG_TRACE: trace, TE_LOG_LEVEL: 'info' });
  t.teardown(() => p.stop());
  await waitHttpOk(`http://127.0.0.1:${port}/ready`, p);
  const record = { type: 'mt5', venue: 'MT5-X', symbol: 'EURUSD', time_msc: Date.now() - 1000, bid: 1.1, ask: 1.1001, flags: 6 };
  const res = await fetch(`http://127.0.0.1:${port}/v1/ticks`, {
    method: 'POST',
    body: JSON.stringify(record) + '\n',
    headers: { 'content-type': 'application/x-ndjson', authorization: 'ApiKey cli-test-key-123456' },
  });
  t.equal(res.status, 200, await res.text());
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0, 'a clean stop');
  t.match(p.output(), /push-gateway stopped/);

  const config = testConfig(env);
  t.equal((await readTopic(createKafka(config, 'test'), config.topicQuotes)).length, 1, 'the quote is on the quotes topic');

  const help = runCli(['push-gateway', '--help'], process.env);
  t.equal(await help.exited, 0);
  const listed = new Set([...help.output().matchAll(/\[env (TE_[A-Z0-9_]+),/g)].map((m) => m[1]!));
  const read = (JSON.parse(readFileSync(trace, 'utf8')) as string[]).map((k) => (CONFIG_SPEC as Record<string, { env: string }>)[k]!.env);
  t.ok(read.includes('TE_PUSH_KEYS_FILE') && read.includes('TE_TOPIC_QUOTES'), `read ${read.length} keys`);
  t.same(
    read.filter((k) => !listed.has(k)),
    [],
    'push-gateway --help lists every key it read',
  );
});
