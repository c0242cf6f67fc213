#!/usr/bin/env bash
# lan_scale.sh: membership at scale on the LAN harness (issue 12, item 5).
# N hosts (network namespaces on one private bridge, tests/lan/lib.sh), one
# zswarmd each (nI@hI, the daemon's default timings, the run's cluster
# secret), then these phases, in this order:
#   form  start all N; time from the first launch to the last nodeup
#         (always runs: every other phase needs the cluster)
#   join  SIGTERM nN, wait until all saw it leave, start it again: time
#         from its start line to the last other node's nodeup of it (J times)
#   idle  S seconds of nothing: per node CPU (utime+stime), RSS, bytes and
#         packets on its interface, TCP connections, fds, threads
#   kill  K times: kill -9 a random node; time until every survivor logged
#         its nodedown, and why (the refusal of its port, or the probe);
#         restart it, wait until all see it alive again
#   cut   C times: set a random node's switch port down (the process keeps
#         running, silent); time until every survivor logged its nodedown;
#         set the port up, wait until all see it alive again
#   load  (L > 0) L seconds with one busy loop per core and no node killed:
#         counts of every suspect and nodedown line (all false)
# then every node's counters (`zswarm info`).
#
# A benchmark, not a test: it reports figures and asserts none. It exits
# non-zero only when the harness fails: a node exited, or a wait hit its
# deadline. Every wait has one; the whole run has LAN_BUDGET_S, computed from
# the parameters (a larger LAN_BUDGET_S in the environment wins).
#
# Usage: lan_scale.sh BIN_DIR [--hosts N] [--kills K] [--cuts C] [--idle-s S]
#          [--load-s L] [--joins J] [--only PHASES] [--out FILE] [--seed X]
#          [--settle-s T] [--stagger-ms MS]
#   PHASES: comma-separated, of join,idle,kill,cut,load (form always runs).
#   The same as environment variables: SCALE_HOSTS, SCALE_KILLS, SCALE_CUTS,
#   SCALE_IDLE_S, SCALE_LOAD_S, SCALE_JOINS, SCALE_ONLY, SCALE_OUT, SCALE_SEED,
#   SCALE_SETTLE_S, SCALE_STAGGER_MS (a pause between the launches of
#   formation: N daemons starting at once on a 2-core box measure the box);
#   SCALE_BURNERS (busy loops of the load phase, default
#   nproc); SCALE_NODE_FLAGS (extra zswarmd flags, e.g. other timings);
#   SCALE_OUT_DIR (with no --out: write DIR/lan_scale-<N>h-<time>.jsonl).
# Defaults: 8 hosts, 3 joins, 30 s idle, 20 kills, 5 cuts, no load: a few
# minutes. Root only (exit 77 = skipped).
#
# Results: one JSON line per figure, in <run dir>/scale-results.jsonl (kept,
# with every node's log, when LAN_KEEP_LOGS=1) and in --out FILE. Log times
# are the daemons' local time of day with ms; tools/bench/lan_scale.py reads
# them (with the local date) against $EPOCHREALTIME taken just before each
# event.
set -uo pipefail
export LC_ALL=C  # $EPOCHREALTIME with a '.'
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {  # usage [STATUS]: the Usage paragraph of this header (on stderr unless STATUS is 0)
  local text
  text=$(sed -n '/^# Usage:/,/skipped)\.$/p' "$0" | sed 's/^# \{0,1\}//')
  if [ "${1:-3}" = 0 ]; then echo "$text"; else echo "$text" >&2; fi
  exit "${1:-3}"
}

bin=${1:-}
case $bin in -h | --help) usage 0 ;; "" | -*) usage ;; esac
shift
hosts=${SCALE_HOSTS:-8}
kills=${SCALE_KILLS:-20}
cuts=${SCALE_CUTS:-5}
idle_s=${SCALE_IDLE_S:-30}
load_s=${SCALE_LOAD_S:-0}
joins=${SCALE_JOINS:-3}
only=${SCALE_ONLY:-join,idle,kill,cut,load}
out=${SCALE_OUT:-}
seed=${SCALE_SEED:-$((RANDOM * 32768 + RANDOM))}
settle_s=${SCALE_SETTLE_S:-1}
stagger_ms=${SCALE_STAGGER_MS:-0}
burners=${SCALE_BURNERS:-$(nproc 2>/dev/null || echo 2)}
while [ $# -gt 0 ]; do
  case $1 in
    --hosts) hosts=${2:-} ;;
    --kills) kills=${2:-} ;;
    --cuts) cuts=${2:-} ;;
    --idle-s) idle_s=${2:-} ;;
    --load-s) load_s=${2:-} ;;
    --joins) joins=${2:-} ;;
    --only) only=${2:-} ;;
    --out) out=${2:-} ;;
    --seed) seed=${2:-} ;;
    --settle-s) settle_s=${2:-} ;;
    --stagger-ms) stagger_ms=${2:-} ;;
    -h | --help) usage 0 ;;
    *) echo "lan_scale: unknown argument '$1'" >&2; usage ;;
  esac
  [ $# -ge 2 ] || usage
  shift 2
done
for v in hosts kills cuts idle_s load_s joins seed settle_s stagger_ms burners; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "lan_scale: $v must be a whole number, not '${!v}'" >&2; exit 3; }
done
if [ "$hosts" -lt 2 ] || [ "$hosts" -gt 250 ]; then echo "lan_scale: --hosts must be 2..250" >&2; exit 3; fi
for p in ${only//,/ }; do
  case $p in form | join | idle | kill | cut | load) ;; *) echo "lan_scale: unknown phase '$p'" >&2; exit 3 ;; esac
done
phase() { [[ ",$only," == *",$1,"* ]]; }
read -r -a node_flags <<<"${SCALE_NODE_FLAGS:-}"

# Deadlines (s) of each wait; they grow with N where the work does.
dl_form=$((30 + hosts + hosts * stagger_ms / 1000))
dl_left=15
dl_down=30
dl_up=$((30 + hosts / 2))
dl_heal=60
# The whole run's cap: every wait at its deadline, plus set-up and the
# control-socket checks (about a second per node each).
budget=$((60 + 2 * hosts + dl_form + 2 * hosts))
phase join && budget=$((budget + joins * (dl_left + 2 * dl_up + settle_s + 5)))
phase idle && budget=$((budget + idle_s + 10))
phase kill && budget=$((budget + kills * (dl_down + 2 * dl_up + settle_s + 5)))
phase cut && budget=$((budget + cuts * (dl_down + dl_heal + dl_up + settle_s + 5)))
phase load && [ "$load_s" -gt 0 ] && budget=$((budget + load_s + 60 + 2 * hosts))
user_budget=${LAN_BUDGET_S:-0}
[ "$user_budget" -gt "$budget" ] 2>/dev/null && budget=$user_budget

# shellcheck source-path=SCRIPTDIR source=../../tests/lan/lib.sh
source "$repo/tests/lan/lib.sh"
LAN_BUDGET_S=$budget
RANDOM=$seed

lan_init "$bin"
res="$LAN_DIR/scale-results.jsonl"
: >"$res"
export SCALE_DIR="$LAN_DIR" SCALE_RESULTS="$res"
if [ -z "$out" ] && [ -n "${SCALE_OUT_DIR:-}" ]; then
  out="$SCALE_OUT_DIR/lan_scale-${hosts}h-$(date +%Y%m%d-%H%M%S).jsonl"
fi
if [ -n "$out" ]; then
  { mkdir -p "$(dirname "$out")" && : >"$out"; } || lan_fail "cannot write $out"
  out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
  SCALE_RESULTS="$res:$out"
fi

py() { python3 "$here/lan_scale.py" "$@"; }

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit+dirty"
all=$(seq -s ' ' 1 "$hosts")

# others V: every host but V.
others() { local i s=""; for i in $all; do [ "$i" = "$1" ] || s+="$i "; done; echo "${s% }"; }
# pids "HOSTS": their daemons' PIDs.
pids() { local i s=""; for i in $1; do s+="${LAN_PID[i]} "; done; echo "${s% }"; }
# offsets "HOSTS": each host log's size in bytes, in the same order.
offsets() {
  local i files=()
  for i in $1; do files+=("$LAN_DIR/h$i.log"); done
  stat -c %s "${files[@]}" | tr '\n' ' '
}
# pick "OFFSETS OF ALL" "HOSTS": the offsets of those hosts.
pick() {
  local i s="" o
  read -r -a o <<<"$1"
  for i in $2; do s+="${o[i - 1]} "; done
  echo "${s% }"
}
# wait_log WHAT DEADLINE_S REGEX DISTINCT "HOSTS" "OFFSETS": every host's log
# has, after its offset, a line matching REGEX (DISTINCT > 0: that many
# distinct values of its group 1). Fails the run at the deadline or when a
# node exits.
wait_log() {
  py wait --what "$1" --deadline-s "$2" --budget-s "$((LAN_BUDGET_END - SECONDS))" --regex "$3" \
    --distinct "$4" --hosts "$5" --offsets "$6" --pids "$(pids "$5")"
  case $? in
    0) return 0 ;;
    2) lan_check_nodes "$5"; lan_fail "$1: a node exited" ;;
    *) lan_budget; lan_fail "$1: not within $2 s" ;;
  esac
}
# wait_seen_alive V: every other node's latest line about nV says it is up
# (before a kill or a cut: a node that already had it down would log no
# nodedown for it).
wait_seen_alive() {
  local rest
  rest=$(others "$1")
  py seen_alive --name "n$1@h$1" --hosts "$rest" --deadline-s "$dl_up" \
    --budget-s "$((LAN_BUDGET_END - SECONDS))" --pids "$(pids "$rest")"
  case $? in
    0) return 0 ;;
    2) lan_check_nodes "$rest"; lan_fail "a node exited" ;;
    *) lan_budget; lan_fail "not every node saw n$1 alive within $dl_up s" ;;
  esac
}
# wait_view I: host I's node sees all N members alive (control socket).
wait_view() {
  wait_members_state "$1" alive "$hosts" "$dl_up" ||
    lan_fail "host $1 (${LAN_NAME[$1]}) did not see all $hosts members alive within $dl_up s"
}
# pick_victim: a random host into $victim, never the previous one.
victim=0
pick_victim() {
  local v
  while :; do
    v=$((RANDOM % hosts + 1))
    [ "$v" != "$victim" ] && break
  done
  victim=$v
}
settle() { sleep "$settle_s"; }
up_rx() { printf '\\[membership\\] nodeup n%s@h%s ' "$1" "$1"; }

lan_log "lan_scale: $hosts hosts, joins $joins, idle ${idle_s} s, kills $kills, cuts $cuts, load ${load_s} s" \
  "(phases form,$only); stagger ${stagger_ms} ms; seed $seed; commit $commit; budget ${LAN_BUDGET_S} s"
printf '{"phase":"run","hosts":%s,"joins":%s,"idle_s":%s,"kills":%s,"cuts":%s,"load_s":%s,"burners":%s,"only":"%s","seed":%s,"settle_s":%s,"commit":"%s","node_flags":"%s","started":"%s"}\n' \
  "$hosts" "$joins" "$idle_s" "$kills" "$cuts" "$load_s" "$burners" "$only" "$seed" "$settle_s" "$commit" \
  "${SCALE_NODE_FLAGS:-}" "$(date -Is)" | tee -a "$res" ${out:+"$out"} >/dev/null

lan_up "$hosts"
for i in $all; do : >>"$LAN_DIR/h$i.log"; done

# 1. form ---------------------------------------------------------------------
off=$(offsets "$all")
for i in $all; do
  lan_start_node "$i" "n$i" "${node_flags[@]}"
  [ "$stagger_ms" -gt 0 ] && sleep "$(printf '%d.%03d' $((stagger_ms / 1000)) $((stagger_ms % 1000)))"
done
wait_log "formation: every node logs nodeup of the $((hosts - 1)) others" "$dl_form" \
  '\[membership\] nodeup (n[0-9]+@h[0-9]+) ' "$((hosts - 1))" "$all" "$off"
py form --hosts "$all" --offsets "$off"
for i in $all; do wait_view "$i"; done
settle

# 2. join ---------------------------------------------------------------------
if phase join; then
  n=$hosts
  rest=$(others "$n")
  for ((r = 1; r <= joins; r++)); do
    off=$(offsets "$rest")
    lan_term "$n"
    wait_log "join $r: every other node logs that n$n left" "$dl_left" "\\[membership\\] left n$n@h$n\$" 0 "$rest" "$off"
    off=$(offsets "$all")
    lan_start_node "$n" "n$n" "${node_flags[@]}"
    wait_log "join $r: every other node logs nodeup of n$n" "$dl_up" "$(up_rx "$n")" 0 "$rest" "$(pick "$off" "$rest")"
    wait_log "join $r: n$n logs nodeup of the $((n - 1)) others" "$dl_up" \
      '\[membership\] nodeup (n[0-9]+@h[0-9]+) ' "$((n - 1))" "$n" "$(pick "$off" "$n")"
    py join --host "$n" --round "$r" --hosts "$all" --offsets "$off"
    wait_view "$n"
    settle
  done
  py summary --kind join
fi

# 3. idle ---------------------------------------------------------------------
if phase idle && [ "$idle_s" -gt 0 ]; then
  off=$(offsets "$all")
  names=""
  for i in $all; do names+="n$i@h$i "; done
  py idle --seconds "$idle_s" --hosts "$all" --pids "$(pids "$all")" --names "$names" --prefix "$LAN_PREFIX" ||
    { lan_check_nodes "$all"; lan_fail "the idle sampler failed"; }
  py count --kind idle_flaps --seconds "$idle_s" --hosts "$all" --offsets "$off"
fi

# 4. kill -9 ------------------------------------------------------------------
if phase kill && [ "$kills" -gt 0 ]; then
  for ((k = 1; k <= kills; k++)); do
    pick_victim
    v=$victim
    rest=$(others "$v")
    wait_seen_alive "$v"
    off=$(offsets "$rest")
    t0=$EPOCHREALTIME
    lan_kill "$v"
    wait_log "kill $k: every survivor logs nodedown of n$v" "$dl_down" "\\[membership\\] nodedown n$v@h$v " 0 "$rest" "$off"
    py event --kind kill --round "$k" --victim "n$v@h$v" --t0 "$t0" --regex "\\[membership\\] nodedown n$v@h$v " \
      --hosts "$rest" --offsets "$off"
    off=$(offsets "$all")
    lan_start_node "$v" "n$v" "${node_flags[@]}"
    wait_log "kill $k: every survivor logs nodeup of restarted n$v" "$dl_up" "$(up_rx "$v")" 0 "$rest" \
      "$(pick "$off" "$rest")"
    wait_view "$v"
    py join --kind kill_rejoin --host "$v" --round "$k" --hosts "$all" --offsets "$off" >/dev/null
    settle
  done
  py summary --kind kill
  py summary --kind kill_rejoin
fi

# 5. cut ----------------------------------------------------------------------
if phase cut && [ "$cuts" -gt 0 ]; then
  victim=0
  for ((c = 1; c <= cuts; c++)); do
    pick_victim
    v=$victim
    rest=$(others "$v")
    wait_seen_alive "$v"
    off=$(offsets "$rest")
    t0=$EPOCHREALTIME
    _lan_ip -n "$LAN_SW" link set "$(lan_port "$v")" down
    lan_log "cut $c: n$v@h$v's switch port is down"
    wait_log "cut $c: every other node logs nodedown of n$v" "$dl_down" "\\[membership\\] nodedown n$v@h$v " 0 "$rest" "$off"
    py event --kind cut --round "$c" --victim "n$v@h$v" --t0 "$t0" --regex "\\[membership\\] nodedown n$v@h$v " \
      --hosts "$rest" --offsets "$off"
    lan_check_nodes "$v"
    off=$(offsets "$rest")
    t0=$EPOCHREALTIME
    _lan_ip -n "$LAN_SW" link set "$(lan_port "$v")" up
    lan_wait_ports "$LAN_BR0" "$v"
    wait_log "cut $c: every other node logs nodeup of healed n$v" "$dl_heal" "$(up_rx "$v")" 0 "$rest" "$off"
    py event --kind cut_heal --round "$c" --victim "n$v@h$v" --t0 "$t0" --regex "$(up_rx "$v")" \
      --hosts "$rest" --offsets "$off" >/dev/null
    wait_view "$v"
    settle
  done
  py summary --kind cut
  py summary --kind cut_heal
fi

# 6. load ---------------------------------------------------------------------
if phase load && [ "$load_s" -gt 0 ]; then
  off=$(offsets "$all")
  lan_log "load: $burners busy loops for $load_s s"
  for ((b = 0; b < burners; b++)); do
    bash -c 'while :; do :; done' &
    lan_track_pid $!
  done
  end=$((SECONDS + load_s))
  while [ "$SECONDS" -lt "$end" ]; do
    sleep "$((end - SECONDS < 5 ? end - SECONDS : 5))"
    lan_check_nodes "$all"
  done
  lan_stop_tracked
  py count --kind load --seconds "$load_s" --burners "$burners" --hosts "$all" --offsets "$off"
  # A false nodedown comes back through the node's next beacon.
  for i in $all; do wait_view "$i"; done
fi

# Counters ------------------------------------------------------------------
mkdir -p "$LAN_DIR/info"
for i in $all; do lan_zs "$i" --timeout 3000 info --json >"$LAN_DIR/info/h$i.json"; done
py info --dir "$LAN_DIR/info"
lan_check_nodes "$all"

echo "results: $res${out:+ and $out}$([ "${LAN_KEEP_LOGS:-0}" = 1 ] || echo ' (the run dir is removed at exit: LAN_KEEP_LOGS=1 keeps it)')"
lan_log "lan_scale: done"
