#!/usr/bin/env bash
# The seed story on a LAN: three hosts (network namespaces on one private
# bridge) run a@h1, b@h2, c@h3.
#   1. they find each other (broadcast on --interface);
#   2. `register SingletonName --plugin singleton_worker` via a answers
#      {ok, X@hN/RUN.ID}, X being the name's ring owner; registering it again via
#      any node answers {error, already_registered, <the same REF>}; `whereis`
#      on every node gives that REF;
#   3. X's log says "SingletonWorker running on X@hN"; only X's supervisor
#      lists the worker (registered);
#   4. send/call across hosts: `ctr` (plugin counter) gets "inc 5" sent from
#      one non-owner and answers 5 to `call get` from the other one;
#   5. kill -9 X: within 10 s both survivors' whereis agree on a new REF on a
#      survivor, exactly one survivor runs the worker and its log shows
#      "restarting SingletonName on ..." then "SingletonWorker running on ...";
#      ctr is still reachable from both survivors.
# Steps 2, 3 and 5 repeat LAN_SEED_ROUNDS times (default 3): the killed node
# restarts, the name settles again (possibly handed back) and the current
# owner is killed again. The failover time (kill -> first survivor answering
# whereis with the new REF) is printed, not asserted (target 1.5 s p99).
#
# Usage: seed_story_test.sh BIN_DIR      (root; exit 77 = skipped)
# Plugins: BIN_DIR/../lib (copied next to the run's private binaries).
# Extra zswarmd flags: LAN_NODE_FLAGS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

bin=${1:?usage: seed_story_test.sh BIN_DIR}
rounds=${LAN_SEED_ROUNDS:-3}
failover_deadline_s=10
read -r -a node_flags <<<"${LAN_NODE_FLAGS:-}"
names=(_ a b c)  # host i runs names[i]@hi
all="1 2 3"
all_alive="a=alive b=alive c=alive"
name=SingletonName

plugin_src=$(cd "$bin/../lib" 2>/dev/null && pwd) || { echo "FAIL: no plugin dir $bin/../lib" >&2; exit 1; }
compgen -G "$plugin_src/libzswarm_*.so" >/dev/null || { echo "FAIL: no worker plugins in $plugin_src" >&2; exit 1; }

lan_init "$bin"
# Private copies of the plugins too (a rebuild must not swap a .so under a
# running node); zswarmd would find <exe dir>/../lib by itself, the flag
# makes it explicit.
lan_copy_plugins "$plugin_src"
plugin_dir="$LAN_PLUGINS"
lan_up 3



# jget FIELD: a top-level field of the JSON on stdin ("" when absent or not JSON).
jget() { python3 -c 'import json,sys
try: v = json.load(sys.stdin).get(sys.argv[1], "")
except Exception: v = ""
print(str(v).lower() if isinstance(v, bool) else v)' "$1" 2>/dev/null; }

# worker_rows I NAME: host I's workers called NAME, one "state registered" line each.
worker_rows() {
  lan_zs "$1" workers --json | python3 -c 'import json,sys
d = json.load(sys.stdin)
assert d.get("ok")
for w in d["workers"]:
    if w["name"] == sys.argv[1]: print(w["state"], str(w["registered"]).lower())' "$2" 2>/dev/null ||
    echo "ERROR(no valid workers answer)"
}


start_node() { lan_start_node "$1" "${names[$1]}" --plugin-path "$plugin_dir" "${node_flags[@]}"; }

# expect_whereis "HOSTS" NAME REF DEADLINE_S: every listed host's whereis NAME
# prints {ok, REF}. Prints the ms it took (0: right away).
expect_whereis() {
  local hosts=$1 n=$2 want=$3 t0 end i got
  t0=$(lan_now_ns); end=$((t0 + $4 * 1000000000))
  for i in $hosts; do
    while :; do
      got=$(lan_zs "$i" whereis "$n")
      [ "$got" = "{ok, $want}" ] && break
      lan_check_nodes "$i"
      [ "$(lan_now_ns)" -ge $end ] && { echo "host $i (${LAN_NAME[i]}): whereis $n = [$got], expected [{ok, $want}] within $4 s" >&2; return 1; }
      lan_budget
      sleep 0.02
    done
  done
  lan_ms_since "$t0"
}

# check_single_owner OWNER_HOST "HOSTS" NAME: only OWNER_HOST's supervisor runs NAME, registered.
check_single_owner() {
  local o=$1 hosts=$2 n=$3 i rows
  for i in $hosts; do
    rows=$(worker_rows "$i" "$n")
    if [ "$i" = "$o" ]; then
      [ "$rows" = "running true" ] || lan_fail "owner ${LAN_NAME[i]}@h$i: workers lists $n as [$rows], expected one row 'running true'"
    else
      [ -z "$rows" ] || lan_fail "${LAN_NAME[i]}@h$i is not $n's owner but its workers list [$rows]"
    fi
  done
}

pct() {  # pct P numbers...: nearest-rank percentile
  local p=$1; shift
  printf '%s\n' "$@" | sort -n | awk -v p="$p" '{v[NR]=$1} END {r=int((p*NR+99)/100); if (r<1) r=1; print v[r]}'
}

# ---------------------------------------------------------------------------
# 1. Three hosts, three nodes, all alive.
for i in $all; do start_node "$i"; done
lan_expect_view "$all" "$all_alive" 10 || lan_fail "a, b, c did not all see each other alive within 10 s"
lan_log "a@h1 b@h2 c@h3 all alive"

# 2. Register via a: {ok, X@hN/RUN.ID}; again via every node: already_registered, same REF.
out=$(lan_zs 1 register "$name" --plugin singleton_worker); rc=$?
[[ $rc = 0 && $out =~ ^\{ok,\ ([^}]+)\}$ ]] || lan_fail "register $name via a: [$out] (status $rc), expected {ok, X@hN/RUN.ID}"
ref=${BASH_REMATCH[1]}
owner=$(lan_host_of_ref "$ref") || lan_fail "register $name: REF [$ref] does not name one of our nodes"
lan_log "register $name via a -> {ok, $ref} (owner ${LAN_NAME[owner]}@h$owner)"
for i in $all; do
  out=$(lan_zs "$i" --timeout 15000 register "$name" --plugin singleton_worker); rc=$?
  [[ $out == "{error, already_registered, $ref}" && $rc = 1 ]] ||
    lan_fail "register $name again via ${LAN_NAME[i]}: [$out] (status $rc), expected [{error, already_registered, $ref}] (status 1)"
done
lan_log "register again via a, b, c -> {error, already_registered, $ref}"
lag=$(expect_whereis "$all" "$name" "$ref" 3) || lan_fail "whereis $name does not give $ref on all three nodes"
lan_log "whereis $name = $ref on a, b, c (replicas agreed after $lag ms)"

# 3. The owner runs it, nobody else does.
deadline=$((SECONDS + 3))
until lan_log_has "$owner" "SingletonWorker running on ${LAN_NAME[owner]}@h$owner"; do
  [ $SECONDS -ge $deadline ] && lan_fail "h$owner's log lacks 'SingletonWorker running on ${LAN_NAME[owner]}@h$owner'"
  sleep 0.05
done
check_single_owner "$owner" "$all" "$name"
lan_log "$name runs on ${LAN_NAME[owner]}@h$owner only (log + workers)"

# 4. send/call across hosts: inc 5 from one non-owner, get from the other.
out=$(lan_zs 1 register ctr --plugin counter); rc=$?
[[ $rc = 0 && $out =~ ^\{ok,\ ([^}]+)\}$ ]] || lan_fail "register ctr: [$out] (status $rc)"
ctr_ref=${BASH_REMATCH[1]}
ctr_owner=$(lan_host_of_ref "$ctr_ref") || lan_fail "register ctr: REF [$ctr_ref] does not name one of our nodes"
others=()
for i in $all; do [ "$i" != "$ctr_owner" ] && others+=("$i"); done
sender=${others[0]} caller=${others[1]}
expect_whereis "$all" ctr "$ctr_ref" 3 >/dev/null || lan_fail "whereis ctr does not give $ctr_ref on all three nodes"
out=$(lan_zs "$sender" send ctr "inc 5"); rc=$?
[[ $out == "{ok}" && $rc = 0 ]] || lan_fail "send ctr 'inc 5' via ${LAN_NAME[sender]}: [$out] (status $rc)"
# send is a cast (no ordering against another node's call): poll briefly.
t=$(lan_now_ns); end=$((t + 3000000000)); first=""
while :; do
  got=$(lan_zs "$caller" --timeout 3000 call ctr get); [ -z "$first" ] && first=$got
  [ "$got" = 5 ] && break
  [ "$(lan_now_ns)" -ge $end ] && lan_fail "call ctr get via ${LAN_NAME[caller]}: [$got], expected 5 within 3 s of the send"
  lan_budget; sleep 0.02
done
lan_log "ctr ($ctr_ref): send 'inc 5' via ${LAN_NAME[sender]}, call get via ${LAN_NAME[caller]} -> 5 (first answer [$first], $(lan_ms_since "$t") ms)"
for i in "$ctr_owner" "$sender"; do
  got=$(lan_zs "$i" --timeout 3000 call ctr get)
  [ "$got" = 5 ] || lan_fail "call ctr get via ${LAN_NAME[i]}: [$got], expected 5"
done
got=$(lan_zs "$caller" --timeout 3000 call ctr "inc 2")
[ "$got" = 7 ] || lan_fail "call ctr 'inc 2' via ${LAN_NAME[caller]}: [$got], expected 7"
ctr_count=7

# 5. Kill the owner's daemon, the survivors restart the name on one of them.
failover_ms=() agree_ms=() restart_log_ms=()
for ((r = 1; r <= rounds; r++)); do
  survivors=""
  for i in $all; do [ "$i" != "$owner" ] && survivors+="$i "; done
  survivors=${survivors% }
  unset mark; declare -A mark=()
  for i in $survivors; do mark[$i]=$(lan_log_lines "$i"); done
  old=$ref
  t0s=$(date +%s.%N); t0=${t0s/./}; t0=${t0:0:19}
  lan_kill "$owner"
  lan_log "round $r: kill -9 ${LAN_NAME[owner]}@h$owner (owner of $name, $old)"
  end=$((t0 + failover_deadline_s * 1000000000)); first_new=""
  unset seen; declare -A seen=()
  while :; do
    for i in $survivors; do
      got=$(lan_zs "$i" --timeout 500 whereis "$name")
      seen[$i]=$got
      if [[ -z $first_new && $got =~ ^\{ok,\ ([^}]+)\}$ && ${BASH_REMATCH[1]} != "$old" ]]; then
        cand=${BASH_REMATCH[1]}
        ch=$(lan_host_of_ref "$cand") || lan_fail "round $r: ${LAN_NAME[i]} whereis $name = [$got], not one of our nodes"
        [[ " $survivors " == *" $ch "* ]] || lan_fail "round $r: ${LAN_NAME[i]} whereis $name = [$got], on a dead node"
        first_new=$(lan_ms_since "$t0")
      fi
    done
    read -r -a s <<<"$survivors"
    if [ -n "$first_new" ] && [ "${seen[${s[0]}]}" = "${seen[${s[1]}]}" ]; then break; fi
    lan_check_nodes "$survivors"
    if [ "$(lan_now_ns)" -ge $end ]; then
      lan_fail "round $r: within ${failover_deadline_s} s of the kill the survivors did not agree on a new REF: $(for i in $survivors; do printf '%s=[%s] ' "${LAN_NAME[i]}" "${seen[$i]}"; done)"
    fi
    lan_budget
    sleep 0.01
  done
  agreed=$(lan_ms_since "$t0")
  [[ ${seen[${s[0]}]} =~ ^\{ok,\ ([^}]+)\}$ ]]; ref=${BASH_REMATCH[1]}
  owner=$(lan_host_of_ref "$ref")
  failover_ms+=("$first_new"); agree_ms+=("$agreed")
  check_single_owner "$owner" "$survivors" "$name"
  since=${mark[$owner]}
  deadline=$((SECONDS + 3))
  until lan_log_has "$owner" "restarting $name on " "$since" && lan_log_has "$owner" "SingletonWorker running on ${LAN_NAME[owner]}@h$owner" "$since"; do
    [ $SECONDS -ge $deadline ] && lan_fail "round $r: new owner h$owner's log lacks 'restarting $name on ...' / 'SingletonWorker running on ${LAN_NAME[owner]}@h$owner' after the kill"
    sleep 0.05
  done
  for i in $survivors; do
    [ "$i" = "$owner" ] && continue
    ! lan_log_has "$i" "SingletonWorker running on|restarting $name on " "${mark[$i]}" ||
      lan_fail "round $r: ${LAN_NAME[i]} (not the new owner) also restarted $name: $(tail -n +"$((${mark[$i]} + 1))" "$LAN_DIR/h$i.log" | grep -E "SingletonWorker running on|restarting $name on ")"
  done
  rl=$(lan_logs_since "$t0s" "restarting $name on " "$owner")
  restart_log_ms+=("$rl")
  lan_log "round $r: $name -> $ref on ${LAN_NAME[owner]}@h$owner: first survivor answered the new REF after $first_new ms, both agreed after $agreed ms, 'restarting' logged after $rl ms"

  # ctr: still reachable from both survivors (restarted from its args, count 0, if its node died).
  dead=$(for i in $all; do [[ " $survivors " == *" $i "* ]] || echo "$i"; done)
  if [ "$ctr_owner" = "$dead" ]; then want_ctr=0; else want_ctr=$ctr_count; fi
  t=$(lan_now_ns); endc=$((t + 5000000000))
  for i in $survivors; do
    while :; do
      got=$(lan_zs "$i" --timeout 1500 call ctr get --timeout-ms 1000)
      [ "$got" = "$want_ctr" ] && break
      [ "$(lan_now_ns)" -ge $endc ] && lan_fail "round $r: call ctr get via ${LAN_NAME[i]}: [$got], expected $want_ctr (ctr was on ${LAN_NAME[ctr_owner]}, killed ${LAN_NAME[dead]})"
      lan_budget; sleep 0.05
    done
  done
  cr=$(lan_zs "${s[0]}" whereis ctr); [[ $cr =~ ^\{ok,\ ([^}]+)\}$ ]] || lan_fail "round $r: whereis ctr: [$cr]"
  ctr_ref=${BASH_REMATCH[1]}; ctr_owner=$(lan_host_of_ref "$ctr_ref") || lan_fail "round $r: ctr REF [$ctr_ref]"
  ctr_count=$want_ctr
  lan_log "round $r: ctr = $want_ctr from both survivors (at $ctr_ref)"

  ((r < rounds)) || break
  # The killed node comes back; the name settles again (it may be handed back).
  lan_start_node "$dead" "${names[dead]}" --plugin-path "$plugin_dir" "${node_flags[@]}"
  lan_expect_view "$all" "$all_alive" 10 || lan_fail "round $r: restarted ${names[dead]} not seen alive by all within 10 s"
  # Settled: all three agree on one REF, and that REF's node runs it (alone) for 1 s.
  end=$(($(lan_now_ns) + 10000000000)); stable=""
  while :; do
    w=$(lan_zs 1 whereis "$name")
    if [[ $w =~ ^\{ok,\ ([^}]+)\}$ ]]; then
      cand=${BASH_REMATCH[1]}
      if [ "$(lan_zs 2 whereis "$name")" = "$w" ] && [ "$(lan_zs 3 whereis "$name")" = "$w" ]; then
        if [ "$stable" = "$cand" ]; then
          [ "$(lan_now_ns)" -ge "$stable_since" ] && break
        else stable=$cand; stable_since=$(($(lan_now_ns) + 1000000000)); fi
      else stable=""; fi
    fi
    [ "$(lan_now_ns)" -ge $end ] && lan_fail "round $r: after ${names[dead]} came back, whereis $name did not settle on one REF within 10 s: a=[$(lan_zs 1 whereis $name)] b=[$(lan_zs 2 whereis $name)] c=[$(lan_zs 3 whereis $name)]"
    lan_budget; sleep 0.05
  done
  ref=$stable; owner=$(lan_host_of_ref "$ref") || lan_fail "round $r: REF [$ref]"
  check_single_owner "$owner" "$all" "$name"
  cr=$(lan_zs 1 whereis ctr); [[ $cr =~ ^\{ok,\ ([^}]+)\}$ ]] || lan_fail "round $r: whereis ctr after the rejoin: [$cr]"
  ctr_ref=${BASH_REMATCH[1]}; ctr_owner=$(lan_host_of_ref "$ctr_ref") || lan_fail "round $r: ctr REF [$ctr_ref]"
  got=$(lan_zs "$dead" --timeout 3000 call ctr get)
  [ "$got" = "$ctr_count" ] || lan_fail "round $r: after the rejoin, call ctr get via ${names[dead]}: [$got], expected $ctr_count (ctr at $ctr_ref)"
  lan_log "round $r: ${names[dead]} back; $name settled at $ref, ctr at $ctr_ref = $ctr_count"
done

echo "FIGURE seed failover, kill -9 owner -> first survivor whereis gives the new REF: n=${#failover_ms[@]} ${failover_ms[*]} ms; p50=$(pct 50 "${failover_ms[@]}") p99=$(pct 99 "${failover_ms[@]}") max=$(pct 100 "${failover_ms[@]}") ms (target 1.5 s p99)"
echo "FIGURE seed failover, kill -9 owner -> both survivors agree: ${agree_ms[*]} ms; 'restarting' logged on the new owner: ${restart_log_ms[*]} ms"
echo "PASS: LAN seed story (register, already_registered, whereis, workers, send/call, owner kill -9 failover x$rounds) on 3 hosts"
