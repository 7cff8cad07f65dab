// The design documents refer only to files that exist: every path or file name in backticks in
// docs/architecture.md and CONTRIBUTING.md names a file or folder of the repository.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/paths.js';

const root = projectRoot();
const names = new Set<string>();
const walk = (dir: string): void => {
  for (const f of readdirSync(dir)) {
    if (['node_modules', 'dist', '.git', '.local'].includes(f)) continue;
    const p = join(dir, f);
    names.add(f);
    if (statSync(p).isDirectory()) walk(p);
  }
};
walk(root);

for (const doc of ['docs/architecture.md', 'CONTRIBUTING.md']) {
  t.test(doc, async (t) => {
    const text = readFileSync(join(root, doc), 'utf8');
    const refs = [...text.matchAll(/`([^`\s]+)`/g)]
      .map((m) => m[1]!)
      .filter((r) => !/[*<]/.test(r) && !r.startsWith('.') && /^(src|tests|bench|deploy|docs|schemas|scripts|native)\/|\.(ts|md|sh|mjs|avsc|json)$/.test(r));
    const missing = refs.filter((r) => (r.includes('/') ? !existsSync(join(root, r.replace(/\/$/, ''))) : !names.has(r)));
    t.ok(refs.length > 10, `${refs.length} file references`);
    t.same([...new Set(missing)], [], 'every one exists');
  });
}
