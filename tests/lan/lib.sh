# shellcheck shell=bash
# LAN harness: a private Ethernet segment made of network namespaces, for
# tests that need real broadcast, real TCP and real partitions.
#
#   source lib.sh; lan_init BIN_DIR; lan_up 5; lan_start_node 1 a; ...
#
# Topology (nothing is added to the root namespace's links):
#
#   netns <P>sw : bridges <P>br0 and <P>br1 (no IP address), ports <P>p<i>
#   netns <P>h<i>: lo + <P>e<i> = 198.18.0.<i>/24, the peer of <P>p<i>
#
# <P> is "zl<pid>-", unique per run. Only 198.18.0.0/24 and loopback are
# used; IP forwarding is never enabled (new namespaces start with it off);
# IPv6 is switched off inside our namespaces so they stay silent.
# A partition moves switch ports from br0 to br1, so the two sides share no
# segment; heal moves them back.
#
# Nodes run as `ip netns exec <P>h<i> zswarmd ...` (ip execs zswarmd, so the
# recorded PID is the daemon's); their control sockets live under a per-run
# temp dir, reachable from the root namespace (IPC is a file), so the `zswarm`
# CLI runs here. Every wait polls against a deadline (and the whole run
# against LAN_BUDGET_S, default 150 s) and fails at once if a node exited.
# The binaries are copied into the run's temp dir first, so a concurrent
# rebuild of BIN_DIR cannot break a run halfway.
#
# lan_init installs a trap: lan_down runs on EXIT, INT and TERM, kills our
# daemons and the helpers given to lan_track_pid by PID, deletes our
# namespaces (which takes their links along) and the temp dir (kept with
# LAN_KEEP_LOGS=1) and the /etc/netns/<ns> files lan_hosts_file wrote.
# Exit code 77 = skipped.

LAN_SUBNET=198.18.0
LAN_PREFIX="zl$$-"
LAN_SW="${LAN_PREFIX}sw"
LAN_BR0="${LAN_PREFIX}br0"
LAN_BR1="${LAN_PREFIX}br1"
LAN_BEACON_PORT=${LAN_BEACON_PORT:-45670}
LAN_CLUSTER="lan$$"
LAN_N=0
LAN_DIR=""
LAN_BIN=""
LAN_SECRET=""
LAN_BUDGET_S=${LAN_BUDGET_S:-150}  # whole-run cap, below ctest's TIMEOUT so cleanup always runs
LAN_BUDGET_END=0
LAN_NETNS=()            # namespaces we created, in creation order
declare -a LAN_PID=()   # host index -> daemon PID ("" when none)
declare -a LAN_NAME=()  # host index -> node short name
declare -a LAN_CL=()    # host index -> cluster of its node
LAN_ETC_NETNS=()        # /etc/netns/<ns> directories we made
LAN_ETC_NETNS_MADE=0    # 1: we made /etc/netns itself
LAN_NEIGH_SAVED=""      # the kernel's ARP table limits before lan_up raised them (restored by lan_down)
declare -a LAN_AUX_PID=()  # helper processes of ours (load generators), killed by lan_down

lan_log() { printf '[lan %s] %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
lan_skip() { echo "SKIP: $*"; exit 77; }

lan_fail() {
  echo "FAIL: $*" >&2
  lan_dump_logs >&2
  exit 1
}

lan_ns() { echo "${LAN_PREFIX}h$1"; }     # host i's namespace
lan_if() { echo "${LAN_PREFIX}e$1"; }     # host i's interface (inside its namespace)
lan_port() { echo "${LAN_PREFIX}p$1"; }   # host i's switch port (inside the switch namespace)
lan_ip() { echo "$LAN_SUBNET.$1"; }

# lan_init BIN_DIR: checks the tools and privileges (exit 77 when missing),
# makes the temp dir and installs the cleanup trap.
lan_init() {
  LAN_BIN=${1:?usage: lan_init BIN_DIR}
  [ "$(id -u)" -eq 0 ] || lan_skip "LAN tests need root (network namespaces)"
  command -v ip >/dev/null || lan_skip "iproute2 'ip' not found"
  command -v python3 >/dev/null || lan_skip "python3 not found"
  local b
  for b in zswarmd zswarm; do
    [ -x "$LAN_BIN/$b" ] || { echo "FAIL: $LAN_BIN/$b not found or not executable" >&2; exit 1; }
  done
  LAN_BUDGET_END=$((SECONDS + LAN_BUDGET_S))
  LAN_DIR=$(mktemp -d "/tmp/zswarm-lan.${LAN_PREFIX}XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }
  trap lan_down EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Private copies: a rebuild of BIN_DIR during the run must not swap or
  # break the binaries under us (the build tree is shared).
  mkdir -p "$LAN_DIR/bin"
  cp "$LAN_BIN/zswarmd" "$LAN_BIN/zswarm" "$LAN_DIR/bin/" || { echo "FAIL: cannot copy the binaries" >&2; exit 1; }
  LAN_BIN="$LAN_DIR/bin"
  # Every node shares this cluster secret unless a test says otherwise.
  LAN_SECRET="$LAN_DIR/secret"
  "$LAN_BIN/zswarm" keygen "$LAN_SECRET" >/dev/null || { echo "FAIL: zswarm keygen" >&2; exit 1; }
  # Probe: can we make a namespace at all (root in a container may not)?
  if ! ip netns add "$LAN_SW" 2>"$LAN_DIR/netns.err"; then
    lan_skip "'ip netns add' failed: $(cat "$LAN_DIR/netns.err")"
  fi
  LAN_NETNS+=("$LAN_SW")
  if ! ip -n "$LAN_SW" link add "$LAN_BR0" type bridge 2>"$LAN_DIR/netns.err"; then
    lan_skip "cannot create a bridge in a namespace: $(cat "$LAN_DIR/netns.err")"
  fi
}

# _lan_ip ARGS...: `ip` that must succeed.
_lan_ip() { ip "$@" || lan_fail "ip $*"; }

_lan_quiet_ns() {  # no IPv6 chatter, no forwarding in namespace $1
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    >/dev/null 2>&1 || true
  [ "$(ip netns exec "$1" cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || lan_fail "ip_forward is on in $1"
}

# The kernel keeps one ARP table for all network namespaces, limited by
# gc_thresh3 (1024 by default): N hosts that all talk to each other need
# N(N-1) entries, so about 32 hosts fill it and the rest cannot send
# ("neighbor table overflow"). Raised for the run, restored by lan_down.
_lan_neigh_room() {
  local need=$(($1 * ($1 - 1) + 256)) d=/proc/sys/net/ipv4/neigh/default
  [ "$(cat $d/gc_thresh3)" -ge "$need" ] && return 0
  LAN_NEIGH_SAVED="$(cat $d/gc_thresh1) $(cat $d/gc_thresh2) $(cat $d/gc_thresh3)"
  if ! { echo "$need" >$d/gc_thresh3 && echo "$need" >$d/gc_thresh2; }; then
    lan_fail "cannot raise the ARP table limit to $need"
  fi
  lan_log "ARP table limit raised to $need entries for $1 hosts (was: $LAN_NEIGH_SAVED)"
}

_lan_neigh_restore() {
  [ -n "$LAN_NEIGH_SAVED" ] || return 0
  local d=/proc/sys/net/ipv4/neigh/default t1 t2 t3
  read -r t1 t2 t3 <<<"$LAN_NEIGH_SAVED"
  echo "$t2" >$d/gc_thresh2
  echo "$t3" >$d/gc_thresh3
  echo "$t1" >$d/gc_thresh1
  LAN_NEIGH_SAVED=""
}

# lan_up N: N hosts on one segment (br0).
lan_up() {
  local n=${1:?usage: lan_up N} i ns
  if [ "$n" -lt 1 ] || [ "$n" -gt 250 ]; then lan_fail "lan_up: N must be 1..250"; fi
  _lan_neigh_room "$n"
  _lan_quiet_ns "$LAN_SW"
  _lan_ip -n "$LAN_SW" link set lo up
  _lan_ip -n "$LAN_SW" link add "$LAN_BR1" type bridge
  for b in "$LAN_BR0" "$LAN_BR1"; do
    _lan_ip -n "$LAN_SW" link set "$b" type bridge stp_state 0 forward_delay 0
    _lan_ip -n "$LAN_SW" link set "$b" up
  done
  for ((i = 1; i <= n; i++)); do
    ns=$(lan_ns "$i")
    _lan_ip netns add "$ns"
    LAN_NETNS+=("$ns")
    _lan_quiet_ns "$ns"
    _lan_ip -n "$ns" link set lo up
    # Both ends are created inside our namespaces: the root namespace never sees them.
    _lan_ip -n "$LAN_SW" link add "$(lan_port "$i")" type veth peer name "$(lan_if "$i")" netns "$ns"
    _lan_ip -n "$LAN_SW" link set "$(lan_port "$i")" master "$LAN_BR0" up
    _lan_ip -n "$ns" addr add "$(lan_ip "$i")/24" broadcast "$LAN_SUBNET.255" dev "$(lan_if "$i")"
    _lan_ip -n "$ns" link set "$(lan_if "$i")" up
    LAN_PID[i]=""
  done
  LAN_N=$n
  lan_wait_ports "$LAN_BR0" "$(seq -s ' ' 1 "$n")"
  lan_log "lan up: $n hosts $(lan_ip 1)..$(lan_ip "$n") on $LAN_SW/$LAN_BR0 (prefix $LAN_PREFIX, logs $LAN_DIR)"
}

# lan_wait_ports BRIDGE "I J ...": the hosts' switch ports are forwarding on BRIDGE.
lan_wait_ports() {
  local br=$1 hosts=$2 i deadline=$((SECONDS + 10)) ok out
  while :; do
    ok=1
    for i in $hosts; do
      out=$(ip -n "$LAN_SW" -d link show dev "$(lan_port "$i")" 2>/dev/null)
      [[ $out == *"master $br "* && $out == *"bridge_slave state forwarding"* ]] || ok=0
    done
    [ $ok = 1 ] && return 0
    [ $SECONDS -ge $deadline ] && lan_fail "switch ports ($hosts) not forwarding on $br within 10 s"
    lan_budget
    sleep 0.05
  done
}

# lan_start_node I NAME [zswarmd flags...]: runs NAME@hI in host I on its
# interface, with the run's cluster secret unless the flags say --secret-file
# or --insecure.
lan_start_node() {
  local i=${1:?host} name=${2:?name}; shift 2
  lan_start_node_bare "$i" "$name" --interface "$(lan_if "$i")" "$@"
}

# lan_start_node_bare I NAME [zswarmd flags...]: lan_start_node without the
# --interface (scopes that pick their interface or bind address themselves).
lan_start_node_bare() {
  local i=${1:?host} name=${2:?name}; shift 2
  [ -n "${LAN_PID[i]:-}" ] && lan_fail "host $i already runs a node (pid ${LAN_PID[i]})"
  local log="$LAN_DIR/h$i.log"
  printf '### launch %s %s\n' "$(date +%s.%N)" "$name@h$i" >>"$log"
  local security=(--secret-file "$LAN_SECRET")
  [[ " $* " == *" --secret-file "* || " $* " == *" --insecure "* ]] && security=()
  ip netns exec "$(lan_ns "$i")" "$LAN_BIN/zswarmd" --name "$name" --host "h$i" --cluster "$LAN_CLUSTER" \
    --beacon-port "$LAN_BEACON_PORT" --control-dir "$LAN_DIR/ctl" "${security[@]}" "$@" \
    </dev/null >>"$log" 2>&1 &
  LAN_PID[i]=$!
  LAN_NAME[i]=$name
  LAN_CL[i]=$LAN_CLUSTER
}

# lan_hosts_file I TEXT: host I's /etc/hosts (`ip netns exec` bind-mounts
# /etc/netns/<ns>/hosts over /etc/hosts for what it runs). Rewritten in
# place, so a running node's resolver sees the change; lan_down removes it.
lan_hosts_file() {
  local ns dir
  ns=$(lan_ns "$1")
  dir=/etc/netns/$ns
  if [ ! -d "$dir" ]; then
    [ -d /etc/netns ] || { mkdir /etc/netns || lan_fail "mkdir /etc/netns"; LAN_ETC_NETNS_MADE=1; }
    mkdir "$dir" || lan_fail "mkdir $dir"
    LAN_ETC_NETNS+=("$dir")
  fi
  printf '%s\n' "$2" >"$dir/hosts" || lan_fail "cannot write $dir/hosts"
}

# lan_budget: fails once the whole run took longer than LAN_BUDGET_S; every wait loop calls it.
lan_budget() {
  [ "$SECONDS" -lt "$LAN_BUDGET_END" ] || lan_fail "the run exceeded its ${LAN_BUDGET_S} s budget"
}

_lan_alive_pid() {  # running and not a zombie
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# lan_check_nodes "HOSTS": fails at once if a node we started there has exited.
lan_check_nodes() {
  local i
  for i in $1; do
    if [ -n "${LAN_PID[i]:-}" ] && ! _lan_alive_pid "${LAN_PID[i]}"; then
      wait "${LAN_PID[i]}" 2>/dev/null
      local rc=$?
      LAN_PID[i]=""
      lan_fail "the node on host $i (${LAN_NAME[i]}) exited unexpectedly (status $rc)"
    fi
  done
}

# lan_kill I: kill -9 host I's daemon.
lan_kill() {
  local i=$1 pid=${LAN_PID[$1]:-}
  [ -n "$pid" ] || lan_fail "lan_kill: host $i runs no node"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  LAN_PID[i]=""
}

# lan_term I [DEADLINE_S]: SIGTERM (goodbye), wait for the exit (kill -9 after the deadline).
lan_term() {
  local i=$1 pid=${LAN_PID[$1]:-} deadline=$((SECONDS + ${2:-10}))
  [ -n "$pid" ] || lan_fail "lan_term: host $i runs no node"
  kill -TERM "$pid" 2>/dev/null
  while _lan_alive_pid "$pid"; do
    if [ $SECONDS -ge $deadline ]; then
      kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; LAN_PID[i]=""
      lan_fail "host $i (pid $pid) did not exit within ${2:-10} s of SIGTERM"
    fi
    lan_budget
    sleep 0.05
  done
  wait "$pid" 2>/dev/null
  LAN_PID[i]=""
}

# lan_partition "I J ..." "K L ...": the first group on br0, the second on br1.
lan_partition() {
  local i
  for i in $1; do _lan_ip -n "$LAN_SW" link set "$(lan_port "$i")" master "$LAN_BR0"; done
  for i in $2; do _lan_ip -n "$LAN_SW" link set "$(lan_port "$i")" master "$LAN_BR1"; done
  lan_wait_ports "$LAN_BR0" "$1"
  lan_wait_ports "$LAN_BR1" "$2"
  lan_log "partition: {$1} | {$2}"
}

# lan_heal: every host back on br0.
lan_heal() {
  local i
  for ((i = 1; i <= LAN_N; i++)); do _lan_ip -n "$LAN_SW" link set "$(lan_port "$i")" master "$LAN_BR0"; done
  lan_wait_ports "$LAN_BR0" "$(seq -s ' ' 1 "$LAN_N")"
  lan_log "healed"
}

# lan_members I: host I's node's `members --json` (fails if it does not answer).
lan_members() {
  local i=$1
  "$LAN_BIN/zswarm" --node "${LAN_NAME[i]}" --cluster "${LAN_CL[i]}" --control-dir "$LAN_DIR/ctl" \
    --timeout 1000 members --json 2>/dev/null
}

# Python helper: reads members JSON on stdin.
#   count STATE          -> prints how many members are in STATE
#   view                 -> prints "name=state ..." sorted (name without @host)
_lan_py_members='
import json, sys
d = json.load(sys.stdin)
if not d.get("ok"): sys.exit(2)
ms = d["members"]
if sys.argv[1] == "count":
    print(sum(1 for m in ms if m["state"] == sys.argv[2]))
else:
    print(" ".join(sorted(m["name"].split("@")[0] + "=" + m["state"] for m in ms)))
'

lan_count_state() {  # lan_count_state I STATE
  lan_members "$1" | python3 -c "$_lan_py_members" count "$2" 2>/dev/null
}
lan_view() {  # lan_view I -> "a=alive b=down ..."
  lan_members "$1" | python3 -c "$_lan_py_members" view 2>/dev/null
}

# wait_members_state I STATE COUNT DEADLINE_S: host I sees exactly COUNT members in STATE.
wait_members_state() {
  local i=$1 state=$2 count=$3 end got
  end=$(($(date +%s%N) + ${4%.*} * 1000000000))
  while :; do
    got=$(lan_count_state "$i" "$state")
    [ "$got" = "$count" ] && return 0
    lan_check_nodes "$i"
    if [ "$(date +%s%N)" -ge $end ]; then
      echo "host $i: expected $count $state, got '${got}' within $4 s; view: $(lan_view "$i")" >&2
      return 1
    fi
    lan_budget
    sleep 0.05
  done
}

# lan_expect_view "HOSTS" "EXPECTED" DEADLINE_S: every listed host's member
# table is exactly EXPECTED ("a=alive b=down ...", sorted by name) before the
# deadline (one deadline for the whole group).
lan_expect_view() {
  local hosts=$1 want=$2 end i got
  end=$(($(date +%s%N) + ${3%.*} * 1000000000))
  for i in $hosts; do
    while :; do
      got=$(lan_view "$i")
      [ "$got" = "$want" ] && break
      lan_check_nodes "$i"
      if [ "$(date +%s%N)" -ge $end ]; then
        echo "host $i (${LAN_NAME[i]}): expected [$want] within $3 s, got [$got]" >&2
        return 1
      fi
      lan_budget
      sleep 0.05
    done
  done
}

# lan_hold_view "HOSTS" "EXPECTED" SECONDS: the view stays exactly EXPECTED on
# every listed host for SECONDS (catches flapping).
lan_hold_view() {
  local hosts=$1 want=$2 end i got
  end=$(($(date +%s%N) + ${3%.*} * 1000000000))
  while [ "$(date +%s%N)" -lt $end ]; do
    for i in $hosts; do
      got=$(lan_view "$i")
      if [ "$got" != "$want" ]; then
        lan_check_nodes "$i"
        echo "host $i (${LAN_NAME[i]}): view changed to [$got], expected it to stay [$want]" >&2
        return 1
      fi
    done
    lan_budget
    sleep 0.1
  done
}

# lan_logs_since EPOCH REGEX "HOSTS" [K]: for each host, ms from EPOCH to the
# K-th (default first) log line after EPOCH matching REGEX; prints the largest
# over the hosts (or "none" if a host has fewer such lines). Log times are the
# daemon's local time of day with ms.
lan_logs_since() {
  # shellcheck disable=SC2086  # $3: one argument per host
  python3 - "$1" "$2" "$LAN_DIR" "${4:-1}" $3 <<'EOF'
import datetime, re, sys
t0, rx, d, k, hosts = float(sys.argv[1]), re.compile(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:]
base = datetime.datetime.fromtimestamp(t0)
midnight = base.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
worst = 0.0
for h in hosts:
    best, k_seen = None, 0
    for line in open(f"{d}/h{h}.log", errors="replace"):
        m = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) ", line)
        if not m or not rx.search(line): continue
        t = midnight + int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) + int(m[4]) / 1000
        if t < t0 - 43200: t += 86400  # the day turned
        if t >= t0 - 0.001:
            k_seen += 1
            if k_seen == k:
                best = t; break
    if best is None:
        print("none"); sys.exit(0)
    worst = max(worst, best - t0)
print(f"{worst * 1000:.0f}")
EOF
}

lan_dump_logs() {
  local i
  [ -n "$LAN_DIR" ] || return 0
  for ((i = 1; i <= LAN_N; i++)); do
    [ -f "$LAN_DIR/h$i.log" ] || continue
    echo "----- h$i.log (last 30 lines) -----"
    tail -n 30 "$LAN_DIR/h$i.log"
  done
}

# --- helpers for tests that drive named workers -------------------------------

lan_now_ns() { date +%s%N; }
lan_ms_since() { echo $((($(lan_now_ns) - $1) / 1000000)); }

# lan_zs I [--timeout MS] ARGS...: the zswarm CLI against host I's node.
lan_zs() {
  local i=$1 to=1000; shift
  if [ "${1:-}" = --timeout ]; then to=$2; shift 2; fi
  "$LAN_BIN/zswarm" --node "${LAN_NAME[i]}" --cluster "$LAN_CLUSTER" --control-dir "$LAN_DIR/ctl" \
    --timeout "$to" "$@" 2>&1
}

# lan_host_of_ref REF: the host index whose node the REF names (X@hN/RUN.ID), or fails.
lan_host_of_ref() {
  local ref=$1
  [[ $ref =~ ^([a-z]+)@h([0-9]+)/[0-9a-f]{8}\.[0-9]+$ ]] || return 1
  local i=${BASH_REMATCH[2]}
  [ "${LAN_NAME[i]:-}" = "${BASH_REMATCH[1]}" ] || return 1
  echo "$i"
}

# lan_log_has I REGEX [FROM_LINE]: host I's log has a matching line after FROM_LINE.
# (No grep -q: under pipefail its early exit fails the pipeline with tail's SIGPIPE.)
lan_log_has() { tail -n +"$((${3:-0} + 1))" "$LAN_DIR/h$1.log" | grep -E "$2" >/dev/null; }
lan_log_lines() { wc -l <"$LAN_DIR/h$1.log"; }

# lan_copy_plugins SRC_DIR: the plugins into this run's dir (a rebuild during
# the run must not swap a library under a running node); sets LAN_PLUGINS.
lan_copy_plugins() {
  mkdir -p "$LAN_DIR/lib"
  cp "$1"/libzswarm_*.so "$LAN_DIR/lib/" || lan_fail "cannot copy the plugins from $1"
  LAN_PLUGINS="$LAN_DIR/lib"
}

# lan_track_pid PID: a helper process we started (not a node, e.g. a CPU
# burner); lan_stop_tracked and lan_down kill it by PID.
lan_track_pid() { LAN_AUX_PID+=("$1"); }

# lan_stop_tracked: kill -9 and reap every tracked helper process now.
lan_stop_tracked() {
  local pid
  for pid in "${LAN_AUX_PID[@]}"; do
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  LAN_AUX_PID=()
}

# lan_down: idempotent cleanup of everything this run made.
lan_down() {
  local rc=$? i pid ns
  trap - EXIT INT TERM
  lan_stop_tracked
  for i in "${!LAN_PID[@]}"; do
    pid=${LAN_PID[i]}
    [ -n "$pid" ] || continue
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    LAN_PID[i]=""
  done
  # Hosts first, the switch last; deleting a namespace deletes its links,
  # and deleting one end of a veth deletes the other.
  for ((i = ${#LAN_NETNS[@]} - 1; i >= 0; i--)); do
    ns=${LAN_NETNS[i]}
    case $ns in "$LAN_PREFIX"*) ip netns del "$ns" 2>/dev/null ;; esac
  done
  LAN_NETNS=()
  for ns in "${LAN_ETC_NETNS[@]}"; do
    case $ns in /etc/netns/"$LAN_PREFIX"*) rm -rf "$ns" ;; esac
  done
  LAN_ETC_NETNS=()
  [ "$LAN_ETC_NETNS_MADE" = 1 ] && rmdir /etc/netns 2>/dev/null
  LAN_ETC_NETNS_MADE=0
  _lan_neigh_restore
  if ip netns list 2>/dev/null | grep -q "^$LAN_PREFIX"; then
    echo "WARNING: namespaces left behind: $(ip netns list | grep "^$LAN_PREFIX" | tr '\n' ' ')" >&2
  fi
  if [ -n "$LAN_DIR" ] && [ -d "$LAN_DIR" ]; then
    if [ "${LAN_KEEP_LOGS:-0}" = 1 ]; then
      echo "logs kept in $LAN_DIR"
    else
      rm -rf "$LAN_DIR"
    fi
  fi
  LAN_DIR=""
  exit "$rc"
}
