#!/usr/bin/env bash
# The seed story on local nodes (loopback only): nodes find each other by
# themselves; one is killed and the others notice. Usage: demo.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: demo.sh BIN_DIR}
export ZSWARM_RUNTIME_DIR
ZSWARM_RUNTIME_DIR=$(mktemp -d /tmp/zswarm-demo.XXXXXX)
cluster="demo$$"
port=$((46000 + $$ % 1000))
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$ZSWARM_RUNTIME_DIR"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { "$bin/zswarm" --cluster "$cluster" "$@"; }
start() {  # start NAME
  "$bin/zswarmd" --name "$1" --cluster "$cluster" --beacon-port "$port" &
  pids+=($!)
  eval "pid_$1=$!"
}
# wait_for DESCRIPTION COMMAND...: retries COMMAND until it succeeds, 10 s at most.
wait_for() {
  local what=$1; shift
  for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo: timed out waiting for: $what" >&2; exit 1
}
count_state() {  # count_state NODE STATE N: NODE sees N members in STATE
  [ "$(ctl --node "$1" members --json | grep -o "\"state\":\"$2\"" | wc -l)" -eq "$3" ]
}

say "terminal 1, 2, 3: zswarmd --name a | b | c   (cluster $cluster, loopback only)"
start a; start b; start c
wait_for "a, b and c to see each other" count_state a alive 3
wait_for "b to see everyone" count_state b alive 3
say "zswarm --node a members"
ctl --node a members

say "kill -9 b  (pid $pid_b)"
kill -9 "$pid_b"
wait_for "a to report b down" count_state a down 1
wait_for "c to report b down" count_state c down 1
ctl --node a members

say "restart b: a new incarnation joins"
start b
wait_for "b back on a" count_state a alive 3
ctl --node a members

say "kill -TERM c: it says goodbye, the others mark it left at once"
kill -TERM "$pid_c"
wait_for "a to mark c left" count_state a left 1
ctl --node a members
say "done"
