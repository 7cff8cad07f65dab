#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) from Maven Central jars.
# Usage: kafka.sh install|start|stop|pause|resume|status|classpath
TE_COMPONENT=kafka
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_HOME="$TE_CACHE/kafka-$KAFKA_VERSION"
KAFKA_DATA="$TE_DATA/kafka"

install() {
  [ -f "$KAFKA_HOME/.complete" ] && return 0
  need_java
  command -v mvn >/dev/null || apt_install maven
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central (first run only)"
  rm -rf "$KAFKA_HOME"; mkdir -p "$KAFKA_HOME"
  mvn -q -B -f "$TE_ROOT/deploy/local/kafka/pom.xml" -Dte.kafka.version="$KAFKA_VERSION" \
    -Dmaven.repo.local="$TE_CACHE/m2" \
    dependency:copy-dependencies -DoutputDirectory="$KAFKA_HOME/libs" >"$TE_LOGS/kafka-install.log" 2>&1 \
    || die "maven download failed, see $TE_LOGS/kafka-install.log"
  touch "$KAFKA_HOME/.complete"
}

classpath() { echo "$KAFKA_HOME/libs/*"; }

write_config() {
  mkdir -p "$KAFKA_DATA/log"
  cat > "$KAFKA_DATA/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$TE_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$TE_KAFKA_PORT,CONTROLLER://127.0.0.1:$TE_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$TE_KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA/log
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
CONF
}

healthy() {
  port_open "$TE_KAFKA_PORT" || return 1
  # The broker answers metadata only once the controller has elected itself.
  grep -q "Kafka Server started" "$TE_LOGS/kafka.log" 2>/dev/null || grep -q "started (kafka.server.KafkaRaftServer)" "$TE_LOGS/kafka.log" 2>/dev/null
}

start() {
  if pid_alive kafka; then log "already running on 127.0.0.1:$TE_KAFKA_PORT"; return 0; fi
  if port_open "$TE_KAFKA_PORT"; then die "port $TE_KAFKA_PORT is taken by another process (set TE_KAFKA_PORT)"; fi
  install
  write_config
  if [ ! -f "$KAFKA_DATA/log/meta.properties" ]; then
    log "formatting KRaft storage"
    java -cp "$(classpath)" -Dlog4j2.configurationFile="$TE_ROOT/deploy/local/kafka/log4j2.properties" \
      kafka.tools.StorageTool format -t "$(cat "$KAFKA_DATA/cluster-id" 2>/dev/null || echo tick-engine-local-0001)" \
      -c "$KAFKA_DATA/server.properties" >>"$TE_LOGS/kafka.log" 2>&1 || die "storage format failed, see $TE_LOGS/kafka.log"
  fi
  : > "$TE_LOGS/kafka.log"
  spawn kafka java -Xms256m "-Xmx$TE_JAVA_HEAP" -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$TE_ROOT/deploy/local/kafka/log4j2.properties" \
    -cp "$(classpath)" kafka.Kafka "$KAFKA_DATA/server.properties"
  wait_for 90 healthy || die "did not become healthy in 90 s, see $TE_LOGS/kafka.log"
  log "ready on 127.0.0.1:$TE_KAFKA_PORT"
}

status() { if pid_alive kafka && port_open "$TE_KAFKA_PORT"; then echo "kafka: up 127.0.0.1:$TE_KAFKA_PORT"; else echo "kafka: down"; return 1; fi; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid kafka ;;
  pause) signal_group STOP kafka ;;
  resume) signal_group CONT kafka ;;
  status) status ;;
  classpath) install >&2; classpath ;;
  *) echo "usage: $0 install|start|stop|pause|resume|status|classpath" >&2; exit 2 ;;
esac
