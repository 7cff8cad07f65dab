#!/usr/bin/env bash
# The whole local stack: Kafka, QuestDB, PostgreSQL 15, TimescaleDB endpoint.
# Usage: stack.sh up|down|status|install|reset   (ports: see deploy/local/lib.sh, all TE_*_PORT)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here="$(dirname "${BASH_SOURCE[0]}")"
components=(kafka questdb postgres timescaledb)

case "${1:-}" in
  install) for c in "${components[@]}"; do bash "$here/$c.sh" install; done ;;
  up)
    # Install in parallel-friendly order; start each and wait for health.
    for c in "${components[@]}"; do bash "$here/$c.sh" start; done
    bash "$0" status ;;
  down) for c in timescaledb postgres questdb kafka; do bash "$here/$c.sh" stop; done ;;
  status)
    rc=0; for c in "${components[@]}"; do bash "$here/$c.sh" status || rc=1; done; exit $rc ;;
  reset)
    bash "$0" down
    log "removing data in $TE_DATA (downloads in $TE_CACHE are kept)"
    rm -rf "$TE_DATA" ;;
  -h|--help|help|"")
    cat <<USAGE
usage: deploy/local/stack.sh up|down|status|install|reset
  up       install (cached) and start Kafka, QuestDB, PostgreSQL 15, TimescaleDB; wait until healthy
  down     stop everything this script started
  status   print each component's state (exit 1 if any is down)
  install  only download/install
  reset    stop and delete all data (keeps downloads)
Data, logs and downloads live under .local/ (TE_LOCAL_DIR). Ports: TE_KAFKA_PORT=$TE_KAFKA_PORT
TE_QUESTDB_HTTP_PORT=$TE_QUESTDB_HTTP_PORT TE_QUESTDB_PG_PORT=$TE_QUESTDB_PG_PORT TE_PG_PORT=$TE_PG_PORT TE_TSDB_PORT=$TE_TSDB_PORT
USAGE
    [ -n "${1:-}" ] || exit 2 ;;
  *) echo "unknown command: $1 (try --help)" >&2; exit 2 ;;
esac
