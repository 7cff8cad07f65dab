#!/usr/bin/env bash
# The test command (npm test, .ci/run): installs what it needs, starts a private local stack once,
# runs every tap test (unit, integration against the real servers, end-to-end), then stops the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh

# A private stack on its own ports and data, so a running demo is left alone.
export TE_LOCAL_DIR="${TE_LOCAL_DIR:-$PWD/.local/test}"
export TE_KAFKA_PORT="${TE_TEST_KAFKA_PORT:-29092}" TE_KAFKA_CONTROLLER_PORT="${TE_TEST_KAFKA_CONTROLLER_PORT:-29093}"
export TE_QUESTDB_HTTP_PORT="${TE_TEST_QUESTDB_HTTP_PORT:-29000}" TE_QUESTDB_PG_PORT="${TE_TEST_QUESTDB_PG_PORT:-28812}"
export TE_QUESTDB_ILP_PORT="${TE_TEST_QUESTDB_ILP_PORT:-29009}" TE_QUESTDB_MIN_HTTP_PORT="${TE_TEST_QUESTDB_MIN_HTTP_PORT:-29003}"
export TE_PG_PORT="${TE_TEST_PG_PORT:-25432}" TE_TSDB_PORT="${TE_TEST_TSDB_PORT:-25433}"
export TE_KAFKA_BROKERS="127.0.0.1:$TE_KAFKA_PORT"
export TE_PG_URL="postgres://postgres@127.0.0.1:$TE_PG_PORT/postgres"
export TE_TSDB_URL="postgres://postgres@127.0.0.1:$TE_TSDB_PORT/postgres"
export TE_QUESTDB_HTTP="http://127.0.0.1:$TE_QUESTDB_HTTP_PORT"
export TE_QUESTDB_PG_URL="postgres://admin:quest@127.0.0.1:$TE_QUESTDB_PG_PORT/qdb"
export TE_LOG_LEVEL="${TE_LOG_LEVEL:-warn}"

# Headless Chromium for the chart page's browser test (Debian package; playwright cannot download one here).
[ -x "${TE_CHROMIUM:-/usr/bin/chromium}" ] || (source deploy/local/lib.sh && apt_install chromium)

# Fresh data every run; downloads stay cached in .local/cache.
bash deploy/local/stack.sh reset >/dev/null
trap 'bash deploy/local/stack.sh down >/dev/null 2>&1 || true' EXIT
bash deploy/local/stack.sh up

# Test files: the compiled *.test.js under dist/tests (helpers are not tests), or those given as arguments.
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find dist/tests -name '*.test.js' | sort); fi
log="$TE_LOCAL_DIR/tap.log"
set +e
npx tap --disable-coverage --jobs=1 --timeout=900 -R "${TAP_REPORTER:-terse}" "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One plain closing line: 'N passed, N failed' (from tap's own summary).
summary=$(grep -E '^# \{ total: ' "$log" | tail -1 || true)
pass=$(sed -n 's/.*pass: \([0-9]*\).*/\1/p' <<<"$summary"); fail=$(sed -n 's/.*fail: \([0-9]*\).*/\1/p' <<<"$summary")
skip=$(sed -n 's/.*skip: \([0-9]*\).*/\1/p' <<<"$summary")
echo "tests: ${pass:-0} passed, ${fail:-0} failed$([ -n "$skip" ] && echo ", $skip skipped")"
exit "$rc"
