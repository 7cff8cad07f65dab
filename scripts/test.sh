#!/usr/bin/env bash
# The test command (npm test, .ci/run): installs what it needs, starts a private local stack once,
# runs every tap test (unit, integration against the real servers, end-to-end), then stops the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh

# A private stack on its own ports and data, so a running demo is left alone.
source scripts/stack-env.sh test
export TE_LOG_LEVEL="${TE_LOG_LEVEL:-warn}"

# Headless Chromium for the chart page's browser test (Debian package; playwright cannot download one here).
[ -x "${TE_CHROMIUM:-/usr/bin/chromium}" ] || (source deploy/local/lib.sh && apt_install chromium)
# Prometheus's promtool checks the alert rules (tests/deploy/prometheus.test.ts) and the server runs every query of the
# Grafana dashboard (tests/deploy/grafana-dashboard.e2e.test.ts); both in Debian's package.
[ -x "${TE_PROMTOOL:-/usr/bin/promtool}" ] && [ -x "${TE_PROMETHEUS:-/usr/bin/prometheus}" ] || (source deploy/local/lib.sh && apt_install prometheus)
# Confluent's Python client (confluent-kafka[avro], PyPI) reads the topics through the gateway's schema-registry API
# (tests/e2e/schema-registry.e2e.test.ts): a venv under .local, kept between runs.
if ! .local/pyenv/bin/python -c 'import confluent_kafka.schema_registry.avro' 2>/dev/null; then
  python3 -c 'import ensurepip' 2>/dev/null || (source deploy/local/lib.sh && apt_install python3-venv)
  python3 -m venv .local/pyenv && .local/pyenv/bin/pip install --quiet --disable-pip-version-check 'confluent-kafka[avro]==2.16.1'
fi

# Fresh data every run; downloads stay cached in .local/cache.
bash deploy/local/stack.sh reset >/dev/null
trap 'bash deploy/local/stack.sh down >/dev/null 2>&1 || true' EXIT
bash deploy/local/stack.sh up

# Test files: the compiled *.test.js under dist/tests (helpers are not tests), or those given as arguments. Without
# arguments the unit tests (no .int/.e2e/.browser in the name: no servers, no wall-clock bounds) run two at a time,
# then the ones against the stack one at a time (several measure time or stop and hang the shared servers).
log="$TE_LOCAL_DIR/tap.log"
: > "$log"
reporter="${TAP_REPORTER:-$([ -t 1 ] && echo terse || echo tap)}"
run_tap() { # jobs files...
  local jobs=$1; shift
  [ $# -gt 0 ] || return 0
  npx tap --disable-coverage --jobs="$jobs" --timeout=900 -R "$reporter" "$@" 2>&1 | tee -a "$log"
  return "${PIPESTATUS[0]}"
}
set +e
if [ $# -gt 0 ]; then
  run_tap 1 "$@"; rc=$?
else
  mapfile -t unit < <(find dist/tests -name '*.test.js' | grep -Ev '\.(int|e2e|browser)\.test\.js$' | sort)
  mapfile -t stack < <(find dist/tests -name '*.test.js' | grep -E '\.(int|e2e|browser)\.test\.js$' | sort)
  run_tap 2 "${unit[@]}"; rc_unit=$?
  run_tap 1 "${stack[@]}"; rc=$?
  [ "$rc" -ne 0 ] || rc=$rc_unit
fi
set -e
# One plain closing line: 'N passed, N failed' (the sum of tap's own summaries).
read -r pass fail skip < <(grep -E '^# \{ total: ' "$log" | awk '{
  for (i = 1; i <= NF; i++) { gsub(/[,}]/, "", $(i+1)); if ($i == "pass:") p += $(i+1); if ($i == "fail:") f += $(i+1); if ($i == "skip:") s += $(i+1) }
} END { print p + 0, f + 0, s + 0 }')
echo "tests: ${pass} passed, ${fail} failed$([ "$skip" != 0 ] && echo ", $skip skipped")"
exit "$rc"
