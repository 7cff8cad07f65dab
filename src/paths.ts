// Locates the project root (where package.json, schemas/ and deploy/ live) from source or compiled code.
import { InternalError } from './errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tick-engine') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new InternalError('cannot find the tick-engine project root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
