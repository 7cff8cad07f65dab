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

# Test files: the compiled *.test.js under dist/tests (helpers are not tests), or those given as arguments.
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find dist/tests -name '*.test.js' | sort); fi
log="$TE_LOCAL_DIR/tap.log"
set +e
npx tap --disable-coverage --jobs=1 --timeout=900 -R "${TAP_REPORTER:-$([ -t 1 ] && echo terse || echo tap)}" "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One plain closing line: 'N passed, N failed' (from tap's own summary).
summary=$(grep -E '^# \{ total: ' "$log" | tail -1 || true)
pass=$(sed -n 's/.*pass: \([0-9]*\).*/\1/p' <<<"$summary"); fail=$(sed -n 's/.*fail: \([0-9]*\).*/\1/p' <<<"$summary")
skip=$(sed -n 's/.*skip: \([0-9]*\).*/\1/p' <<<"$summary")
echo "tests: ${pass:-0} passed, ${fail:-0} failed$([ -n "$skip" ] && echo ", $skip skipped")"
exit "$rc"
