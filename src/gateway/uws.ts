// Loads the uWebSockets.js native binary directly: never the package's `ws` fallback, which it would
// silently pick when the binary does not load.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NativeLoadError } from '../errors.js';

export type Uws = typeof import('uWebSockets.js');

let cached: Uws | undefined;

export function loadUws(): Uws {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('uWebSockets.js/package.json'));
  const binary = join(pkgDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    cached = require(binary) as Uws;
  } catch (err) {
    throw new NativeLoadError(`uWebSockets.js native binary ${binary} does not load on Node ${process.version}: ${(err as Error).message}`, { cause: err });
  }
  return cached;
}
