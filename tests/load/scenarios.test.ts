// Every scenario shipped in bench/scenarios/ is valid against the default configuration (intervals served, metrics
// its thresholds name), and its parameters can be overridden (soak's duration).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadScenario } from '../../src/cli/load.js';
import { loadConfig } from '../../src/config.js';
import { projectRoot } from '../../src/paths.js';
import { totalDurationS } from '../../src/load/scenario.js';

const config = loadConfig({ env: {} });
const names = readdirSync(join(projectRoot(), 'bench/scenarios')).map((f) => f.replace(/\.json$/, ''));

t.same(names.sort(), ['charts-10k', 'reconnect-storm', 'rest-history', 'slow-readers', 'smoke', 'soak'], 'the scenarios the issue asks for');
for (const name of names) {
  t.test(name, async (t) => {
    const s = loadScenario(name, {}, config);
    t.ok(s.thresholds.length > 0, `${s.thresholds.length} thresholds`);
    t.ok(s.feed, 'a synthetic feed, so it runs without an engine upstream');
  });
}
t.test('soak takes its duration as a parameter', async (t) => {
  t.equal(totalDurationS(loadScenario('soak', { duration: '2h' }, config)), 20 + 7200);
  t.equal(totalDurationS(loadScenario('smoke', {}, config)) < 10, true, 'smoke lasts seconds');
});
