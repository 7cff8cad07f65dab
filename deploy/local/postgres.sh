#!/usr/bin/env bash
# PostgreSQL 15 (Debian package) as a private cluster on a loopback port: the TimescaleDB-less path.
# Usage: postgres.sh install|start|stop|pause|resume|status
TE_COMPONENT=postgres
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_BIN="/usr/lib/postgresql/15/bin"
PG_DATA="$TE_DATA/postgres"

# initdb refuses to run as root: run the server as the 'postgres' system user then.
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

install() { [ -x "$PG_BIN/initdb" ] || apt_install postgresql-15; }

healthy() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$TE_PG_PORT"; }

start() {
  install
  if healthy; then
    pid_alive postgres || die "port $TE_PG_PORT is served by another PostgreSQL (set TE_PG_PORT)"
    log "already running on 127.0.0.1:$TE_PG_PORT"; return 0
  fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initialising cluster in $PG_DATA"
    mkdir -p "$PG_DATA"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PG_DATA"
    as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >>"$TE_LOGS/postgres.log" 2>&1 \
      || die "initdb failed, see $TE_LOGS/postgres.log"
  fi
  touch "$TE_LOGS/postgres.log"; [ "$(id -u)" -eq 0 ] && chown postgres "$TE_LOGS/postgres.log"
  as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$TE_LOGS/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $TE_PG_PORT -c unix_socket_directories='' -c fsync=on -c max_connections=100" start >/dev/null \
    || die "pg_ctl start failed, see $TE_LOGS/postgres.log"
  head -1 "$PG_DATA/postmaster.pid" > "$TE_RUN/postgres.pid"
  wait_for 60 healthy || die "did not become ready, see $TE_LOGS/postgres.log"
  log "ready on 127.0.0.1:$TE_PG_PORT (user postgres, trust auth on loopback)"
}

stop() {
  if [ -f "$PG_DATA/postmaster.pid" ]; then
    signal_all CONT 2>/dev/null || true
    as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -f "$TE_RUN/postgres.pid"
  log "postgres stopped"
}

# The postmaster and each backend run in sessions of their own: freeze (or thaw) them all, as a hung host would.
signal_all() {
  [ -f "$PG_DATA/postmaster.pid" ] || die "postgres is not running"
  local pid; pid=$(head -1 "$PG_DATA/postmaster.pid")
  kill "-$1" "$pid" $(pgrep -P "$pid") 2>/dev/null || true
  log "postgres: SIG$1"
}

status() { if healthy; then echo "postgres: up 127.0.0.1:$TE_PG_PORT"; else echo "postgres: down"; return 1; fi; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  pause) signal_all STOP ;;
  resume) signal_all CONT ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|pause|resume|status" >&2; exit 2 ;;
esac
