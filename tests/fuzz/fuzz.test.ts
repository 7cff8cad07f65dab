// Property-based fuzzing of every parser of outside input (tests/fuzz/targets.ts): a few thousand cases per
// target here, 100,000 and more in `npm run bench -- fuzz`. Zero crashes, zero internal errors, every rejection
// with its code.
import t from 'tap';
import { FUZZ_TARGETS, runTarget } from './targets.js';

const RUNS = Number(process.env.TE_FUZZ_RUNS ?? 2000);
const SEED = process.env.TE_FUZZ_SEED === undefined ? undefined : Number(process.env.TE_FUZZ_SEED);

for (const target of FUZZ_TARGETS) {
  t.test(target.name, async (t) => {
    const r = await runTarget(target, RUNS, SEED);
    t.notOk(r.failed, `${r.runs} cases: ${JSON.stringify(r.outcomes)}${r.failed ? `\ncounterexample: ${r.counterexample}\n${r.error}` : ''}`);
    t.equal(r.runs, RUNS, 'every case ran');
    const codes = Object.keys(r.outcomes).filter((o) => o !== 'accepted');
    t.ok(r.outcomes.accepted, 'some input was accepted (the generators reach the good path)');
    t.ok(codes.length > 0, `and some rejected, each with its code: ${codes.join(', ')}`);
  });
}
