#!/usr/bin/env bash
# QuestDB from its Maven Central jar (which carries its native libraries).
# Usage: questdb.sh install|start|stop|pause|resume|status
TE_COMPONENT=questdb
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QDB_JAR="$TE_CACHE/questdb-$QUESTDB_VERSION.jar"
QDB_ROOT="$TE_DATA/questdb"

install() {
  need_java
  fetch "$MAVEN_CENTRAL/org/questdb/questdb/$QUESTDB_VERSION/questdb-$QUESTDB_VERSION.jar" "$QDB_JAR"
}

healthy() { curl -fsS "http://127.0.0.1:$TE_QUESTDB_HTTP_PORT/exec?query=select%201" >/dev/null; }

start() {
  if pid_alive questdb; then log "already running on 127.0.0.1:$TE_QUESTDB_HTTP_PORT"; return 0; fi
  port_open "$TE_QUESTDB_HTTP_PORT" && die "port $TE_QUESTDB_HTTP_PORT is taken by another process (set TE_QUESTDB_HTTP_PORT)"
  install
  mkdir -p "$QDB_ROOT/conf"
  # The worker pools' idle thresholds: by default an idle QuestDB worker spins (10 iterations), then yields, for up to
  # 10,000 iterations before it naps or sleeps. The engine writes a small transaction every few ms, so its workers
  # never got to sleep and spun through the gaps: 0.22–0.24 of the two cores in a live run at 20,000 ticks/s, 0.8 in
  # the sustained run. Napping after 20 idle iterations and sleeping after 100 cut that to 0.1 and 0.4–0.45, and the
  # engine's bars came sooner (docs/benchmarks.md, 2026-12-05). A QuestDB with cores of its own can keep its defaults.
  cat > "$QDB_ROOT/conf/server.conf" <<CONF
http.net.bind.to=127.0.0.1:$TE_QUESTDB_HTTP_PORT
http.min.net.bind.to=127.0.0.1:$TE_QUESTDB_MIN_HTTP_PORT
pg.net.bind.to=127.0.0.1:$TE_QUESTDB_PG_PORT
line.tcp.net.bind.to=127.0.0.1:$TE_QUESTDB_ILP_PORT
line.udp.enabled=false
telemetry.enabled=false
shared.worker.count=2
shared.worker.nap.threshold=20
shared.worker.sleep.threshold=100
wal.apply.worker.nap.threshold=20
wal.apply.worker.sleep.threshold=100
CONF
  spawn questdb java -Xms256m "-Xmx$TE_JAVA_HEAP" -p "$QDB_JAR" -m io.questdb/io.questdb.ServerMain -d "$QDB_ROOT"
  wait_for 90 healthy || die "did not become healthy in 90 s, see $TE_LOGS/questdb.log"
  log "ready: http 127.0.0.1:$TE_QUESTDB_HTTP_PORT, pg 127.0.0.1:$TE_QUESTDB_PG_PORT"
}

status() { if pid_alive questdb && healthy; then echo "questdb: up http 127.0.0.1:$TE_QUESTDB_HTTP_PORT pg 127.0.0.1:$TE_QUESTDB_PG_PORT"; else echo "questdb: down"; return 1; fi; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid questdb ;;
  pause) signal_group STOP questdb ;;
  resume) signal_group CONT questdb ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|pause|resume|status" >&2; exit 2 ;;
esac
