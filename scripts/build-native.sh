#!/usr/bin/env bash
# Builds the native kernel (native/: a C++ Node-API addon) with node-gyp, from source and offline: run by the root
# package.json's postinstall, so `npm install` and `npm ci` build it. Node's headers come from the installed Node
# (Debian's nodejs ships them under /usr/include/node), never from a download; without them, or without g++/make/
# python3, or when the build fails, it prints one line and the engine runs the TypeScript kernel (TE_KERNEL=auto).
# Never fails the install. TE_SKIP_NATIVE_BUILD=1 skips it.
cd "$(dirname "$0")/.." || exit 0
[ "${TE_SKIP_NATIVE_BUILD:-}" = 1 ] && exit 0
log=native/build.log
prefix=$(node -p 'process.config.variables.node_prefix || ""' 2>/dev/null)
nodedir=""
for d in "$prefix" "$(dirname "$(dirname "$(command -v node)")")"; do
  if [ -n "$d" ] && [ -f "$d/include/node/node_api.h" ]; then nodedir=$d; break; fi
done
if [ -z "$nodedir" ]; then
  echo "[native] not built: no Node headers next to the installed Node (include/node/node_api.h); the TypeScript kernel will run" >&2
  exit 0
fi
gyp=node_modules/node-gyp/bin/node-gyp.js
if [ ! -f "$gyp" ] || [ ! -d node_modules/node-addon-api ]; then
  echo "[native] not built: node-gyp or node-addon-api missing from node_modules; the TypeScript kernel will run" >&2
  exit 0
fi
if node "$gyp" rebuild -C native --nodedir="$nodedir" >"$log" 2>&1; then
  echo "[native] built native/build/Release/tick_kernel.node" >&2
else
  echo "[native] build failed (see $log); the TypeScript kernel will run" >&2
fi
exit 0
