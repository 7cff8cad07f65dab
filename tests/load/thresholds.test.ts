// Thresholds decide a load run's verdict: parsed with errors that name the bad field, evaluated so that a breached
// or a missing figure fails; scenarios are validated field by field; the stages ramp linearly.
import t from 'tap';
import { ERROR_CODES } from '../../src/errors.js';
import { clientsAt, parseDuration, parseScenario } from '../../src/load/scenario.js';
import { evaluateThresholds, parseThreshold } from '../../src/load/thresholds.js';

t.test('a threshold that the figures breach fails, one they meet passes', async (t) => {
  const th = ['latency.send.p99 < 100', 'gaps == 0', 'messages.rate >= 1000', 'closes.1008 == 0'].map((s, i) => parseThreshold(s, `t[${i}]`));
  const ok = evaluateThresholds(th, { 'latency.send.p99': 42.5, gaps: 0, 'messages.rate': 1000 });
  t.same(
    ok.map((r) => r.ok),
    [true, true, true, true],
    'every threshold met (closes.<code> absent counts as 0)',
  );
  const bad = evaluateThresholds(th, { 'latency.send.p99': 100, gaps: 3, 'messages.rate': 999.9, 'closes.1008': 2 });
  t.same(
    bad.map((r) => [r.ok, r.actual]),
    [
      [false, 100],
      [false, 3],
      [false, 999.9],
      [false, 2],
    ],
    'each breached threshold fails with the actual figure',
  );
});

t.test('a threshold on a figure the run did not produce fails rather than passing silently', async (t) => {
  const [r] = evaluateThresholds([parseThreshold('rest.latency.p99 < 50', 'x')], { messages: 10 });
  t.equal(r!.ok, false);
  t.equal(r!.actual, undefined);
});

t.test('malformed thresholds and unknown metrics are TE_CONFIG errors naming where', async (t) => {
  t.throws(() => parseThreshold('latency.send.p99 less than 100', 'smoke.thresholds[2]'), { code: ERROR_CODES.config, message: /smoke\.thresholds\[2\]/ });
  t.throws(() => parseThreshold('latency.sned.p99 < 100', 'smoke.thresholds[0]'), { code: ERROR_CODES.config, message: /unknown metric latency\.sned\.p99/ });
  t.same(parseThreshold(' errors.rate<=0.01 ', 'x'), { source: 'errors.rate<=0.01', metric: 'errors.rate', op: '<=', value: 0.01 });
});

t.test('scenarios: fields validated with their path, parameters substituted', async (t) => {
  const base = { stages: [{ duration: '${d}', clients: 10 }], mix: [{ channel: 'bars', intervals: ['1s'] }], params: { d: '30s' }, thresholds: ['gaps == 0'] };
  const s = parseScenario(base, 'x', {}, new Set(['1s', '1m']));
  t.equal(s.stages[0]!.durationS, 30);
  t.equal(parseScenario(base, 'x', { d: '2m' }).stages[0]!.durationS, 120, '--param overrides the default');
  t.throws(() => parseScenario(base, 'x', { nope: '1' }), { code: ERROR_CODES.config, message: /no parameter nope/ });
  t.throws(() => parseScenario({ ...base, mix: [{ channel: 'bars', intervals: ['3h'] }] }, 'x', {}, new Set(['1s'])), {
    message: /x\.mix\[0\]\.intervals\[0\].*3h/,
  });
  t.throws(() => parseScenario({ ...base, stages: [{ duration: 'soon', clients: 1 }] }, 'x'), { message: /x\.stages\[0\]\.duration/ });
  t.throws(() => parseScenario({ ...base, typo: 1 }, 'x'), { message: /x\.typo: unknown field/ });
  t.throws(() => parseScenario({ ...base, thresholds: ['p99 < 1'] }, 'x'), { message: /x\.thresholds\[0\].*unknown metric p99/ });
  t.equal(parseDuration('500ms', 'k'), 0.5);
});

t.test('stages ramp linearly from the previous count, then hold the last', async (t) => {
  const stages = [
    { durationS: 10, clients: 100 },
    { durationS: 10, clients: 100 },
    { durationS: 5, clients: 0 },
  ];
  t.same(
    [0, 5, 10, 15, 20, 22.5, 25, 60].map((x) => clientsAt(stages, x)),
    [0, 50, 100, 100, 100, 50, 0, 0],
  );
});
