#!/usr/bin/env bash
# Sourced: points the local stack scripts and the engine at a private stack profile ('test' or 'bench'),
# with its own data folder and ports, so it never disturbs a running demo (the default profile).
profile=${1:?profile}
case "$profile" in
  test) base=20000 ;;
  bench) base=30000 ;;
  *) echo "unknown stack profile $profile" >&2; return 1 ;;
esac
export TE_LOCAL_DIR="${TE_LOCAL_DIR:-$PWD/.local/$profile}"
export TE_KAFKA_PORT=$((base + 9092)) TE_KAFKA_CONTROLLER_PORT=$((base + 9093))
export TE_QUESTDB_HTTP_PORT=$((base + 9000)) TE_QUESTDB_PG_PORT=$((base + 8812)) TE_QUESTDB_ILP_PORT=$((base + 9009)) TE_QUESTDB_MIN_HTTP_PORT=$((base + 9003))
export TE_PG_PORT=$((base + 5432)) TE_TSDB_PORT=$((base + 5433))
export TE_KAFKA_BROKERS="127.0.0.1:$TE_KAFKA_PORT"
export TE_PG_URL="postgres://postgres@127.0.0.1:$TE_PG_PORT/postgres"
export TE_TSDB_URL="postgres://postgres@127.0.0.1:$TE_TSDB_PORT/postgres"
export TE_QUESTDB_HTTP="http://127.0.0.1:$TE_QUESTDB_HTTP_PORT"
export TE_QUESTDB_PG_URL="postgres://admin:quest@127.0.0.1:$TE_QUESTDB_PG_PORT/qdb"
