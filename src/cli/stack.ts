// `up`, `down`, `status`: the local stack scripts in deploy/local.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';

export function runStack(action: 'up' | 'down' | 'status' | 'install' | 'reset'): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(projectRoot(), 'deploy/local/stack.sh'), action], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
