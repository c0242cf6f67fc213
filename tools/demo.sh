#!/usr/bin/env bash
# The seed story on local nodes (loopback only), in the order of the article:
# nodes find each other by themselves; a name registered anywhere runs once;
# registering it again, from any node, says already_registered; kill -9 its
# node and it restarts elsewhere; a stateful worker keeps its state across a
# join and a graceful leave. Usage: demo.sh BIN_DIR
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
show() { printf '\033[36m$ zswarm %s\033[0m\n' "$*"; ctl "$@" || true; }
start() {  # start NAME [flags...]
  local name=$1; shift
  "$bin/zswarmd" --name "$name" --cluster "$cluster" --beacon-port "$port" "$@" &
  pids+=($!)
  eval "pid_$name=$!"
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
owner_of() { ctl --node "$1" whereis "$2" | sed -n 's/^{ok, \([^@]*\)@.*/\1/p'; }
moved_off() { o=$(owner_of "$1" "$2"); [ -n "$o" ] && [ "$o" != "$3" ]; }

say "terminal 1, 2, 3: zswarmd --name a | b | c   (cluster $cluster, loopback only)"
start a; start b; start c
wait_for "a, b and c to see each other" count_state a alive 3
wait_for "b to see everyone" count_state b alive 3
show --node a members

say "Swarm.register_name(SingletonName, ...) on a: it runs on the name's ring owner"
show --node a register SingletonName --plugin singleton_worker
say "again on a, then on b: already registered, the same REF whichever node asks"
show --node a register SingletonName --plugin singleton_worker
show --node b register SingletonName --plugin singleton_worker
owner=$(owner_of c SingletonName)
eval "victim=\$pid_$owner"
survivor=a; [ "$owner" = a ] && survivor=b

say "kill -9 $owner (the owner of SingletonName): it restarts on another node"
kill -9 "$victim"
wait_for "SingletonName to move" moved_off "$survivor" SingletonName "$owner"
show --node "$survivor" whereis SingletonName
show --node "$survivor" members

say "a stateful counter: its count survives a join handoff and a graceful leave"
for i in 1 2 3 4 5 6; do ctl --node "$survivor" register "counter$i" --plugin counter >/dev/null; ctl --node "$survivor" send "counter$i" "inc $((i * 10))" >/dev/null; done
show --node "$survivor" registered
say "restart $owner: it joins, and the names it now owns move to it with their state"
start "$owner"
wait_for "$owner back" count_state "$survivor" alive 3
sleep 0.5
show --node "$survivor" registered
for i in 1 2 3 4 5 6; do printf 'counter%s = %s\n' "$i" "$(ctl --node "$survivor" call "counter$i" get)"; done
say "kill -TERM $owner: it hands its names off with their state, says goodbye, and is marked left"
eval "victim=\$pid_$owner"
kill -TERM "$victim"
wait_for "$owner to be marked left" count_state "$survivor" left 1
for i in 1 2 3 4 5 6; do printf 'counter%s = %s\n' "$i" "$(ctl --node "$survivor" call "counter$i" get)"; done
show --node "$survivor" members
say "done"
