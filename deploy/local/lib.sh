#!/usr/bin/env bash
# Shared helpers for the local stack scripts: paths, ports, health waits, pid files.
set -euo pipefail

TE_ROOT="${TE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TE_LOCAL="${TE_LOCAL_DIR:-$TE_ROOT/.local}"
TE_CACHE="${TE_CACHE_DIR:-$TE_ROOT/.local/cache}"   # downloads, shared by every stack (kept across resets)
TE_RUN="$TE_LOCAL/run"       # pid files
TE_DATA="$TE_LOCAL/data"     # server data
TE_LOGS="$TE_LOCAL/logs"     # server logs
mkdir -p "$TE_CACHE" "$TE_RUN" "$TE_DATA" "$TE_LOGS"

# Ports: every one configurable; all bound to loopback only.
: "${TE_KAFKA_PORT:=19092}"
: "${TE_KAFKA_CONTROLLER_PORT:=19093}"
: "${TE_QUESTDB_HTTP_PORT:=19000}"
: "${TE_QUESTDB_PG_PORT:=18812}"
: "${TE_QUESTDB_ILP_PORT:=19009}"
: "${TE_QUESTDB_MIN_HTTP_PORT:=19003}"
: "${TE_PG_PORT:=15432}"
: "${TE_TSDB_PORT:=15433}"
: "${TE_JAVA_HEAP:=768m}"

KAFKA_VERSION="4.1.1"
QUESTDB_VERSION="9.2.3"
MAVEN_CENTRAL="${TE_MAVEN_CENTRAL:-https://repo1.maven.org/maven2}"

log() { printf '[%s] %s\n' "${TE_COMPONENT:-stack}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Wait until "$2..." (a command) succeeds, up to $1 seconds.
wait_for() {
  local secs=$1; shift
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

pid_alive() { local f="$TE_RUN/$1.pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

# Start "$@" detached in its own session, remember its pid as $1 (name).
spawn() {
  local name=$1; shift
  setsid "$@" >>"$TE_LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$TE_RUN/$name.pid"
}

# Stop the process group recorded for $1: TERM, wait, then KILL.
stop_pid() {
  local name=$1 f="$TE_RUN/$1.pid"
  [ -f "$f" ] || { log "$name not running"; return 0; }
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    # A paused server (see pause) only sees the TERM once it runs again.
    kill -CONT -- "-$pid" 2>/dev/null || kill -CONT "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop on TERM; killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
  log "$name stopped"
}

need_java() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  [ "${major:-0}" -ge 17 ] || die "Java 17+ is required (found ${major:-none})"
}

# Install Debian packages when missing (root or sudo).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Download $1 (URL) to $2 atomically unless it is already there.
fetch() {
  local url=$1 dest=$2
  [ -s "$dest" ] && return 0
  log "downloading $url"
  curl -fsSL --retry 3 -o "$dest.part" "$url"
  mv "$dest.part" "$dest"
}

# Fault injection (tests, benchmarks): freeze a server with SIGSTOP as a hung machine would, thaw it with SIGCONT.
# $1: the name of its pid file; the signal goes to its whole process group (spawn starts each in its own).
signal_group() {
  local sig=$1 name=$2 f="$TE_RUN/$2.pid"
  [ -f "$f" ] || die "$name is not running"
  local pid; pid=$(cat "$f")
  kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid"
  log "$name: SIG$sig"
}
