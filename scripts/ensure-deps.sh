#!/usr/bin/env bash
# Sourced by the demo and test scripts: install npm dependencies when missing or stale, then build.
set -euo pipefail
command -v node >/dev/null || { echo "Node.js 20 is required (https://nodejs.org)" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "Node.js >= 20 is required (found $(node --version))" >&2; exit 1; }
# A dependency patch (patches/, applied by patch-package in postinstall) newer than the install also calls for one.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ -n "$(find patches -name '*.patch' -newer node_modules/.package-lock.json 2>/dev/null)" ]; then
  echo "[deps] npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
# The native kernel (native/): built by npm's postinstall; rebuilt here when missing or older than its source.
if [ ! -f native/build/Release/tick_kernel.node ] || [ -n "$(find native/src native/binding.gyp -newer native/build/Release/tick_kernel.node 2>/dev/null)" ]; then
  bash scripts/build-native.sh
fi
echo "[build] tsc" >&2
rm -rf dist
npx tsc -p tsconfig.json
