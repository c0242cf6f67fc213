#!/usr/bin/env bash
# Registered names across a real partition and its healing: three hosts
# (network namespaces on one private bridge) run a@h1, b@h2, c@h3.
#   1. they find each other (broadcast on --interface), all alive;
#   2. 20 names n0..n19 (plugin counter) are registered via a and each gets
#      `send nK "inc K"`; a, b and c list the same 20 names with the same
#      REFs (`registered --json`), and `call nK get` answers K;
#   3. partition {1} | {2,3}: each side sees the other down. Then `solo` is
#      registered via a (it runs on a, alone) and via b (it runs on b or c):
#      both answer ok. The names owned by the lost side restart on this side
#      (from their args: count 0), so each side runs all 20 n* (each on
#      exactly one node of the side: `workers --json`), plus its own solo.
#      Then each side counts on: `inc 3` on a's side, `inc 2` on b/c's, to
#      every n* and to solo;
#   4. heal: within 15 s all three nodes list identical names and REFs again,
#      and across a, b, c each of n0..n19 and solo runs on exactly one node
#      (one registered=true row in the three `workers --json`), on the node
#      its REF names; that holds for 1 s more. The node whose copy of solo
#      lost logs "conflict on solo: keeping WIN, stopping LOSE". For n*, the
#      loser's log line (conflict or "stopping local ... (taken over
#      elsewhere)") is reported. The heal -> convergence time is printed.
#   5. no increment is lost (issue 13: the loser's state merges into the
#      winner as a PN-counter): within 10 s `call nK get` answers K + 5 and
#      `call solo get` answers 5 on a, b and c. Issue 13's example is the n*
#      that a owned: at K on a, cut off, K + 3 there, restarted at 0 on b/c
#      and 2 there, K + 5 everywhere after the heal.
#
# Usage: partition_names_test.sh BIN_DIR      (root; exit 77 = skipped)
# Plugins: BIN_DIR/../lib (copied next to the run's private binaries).
# Extra zswarmd flags: LAN_NODE_FLAGS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

bin=${1:?usage: partition_names_test.sh BIN_DIR}
read -r -a node_flags <<<"${LAN_NODE_FLAGS:-}"
names=(_ a b c)  # host i runs names[i]@hi
all="1 2 3"
all_alive="a=alive b=alive c=alive"
nnames=20
heal_deadline_s=15

plugin_src=$(cd "$bin/../lib" 2>/dev/null && pwd) || { echo "FAIL: no plugin dir $bin/../lib" >&2; exit 1; }
compgen -G "$plugin_src/libzswarm_*.so" >/dev/null || { echo "FAIL: no worker plugins in $plugin_src" >&2; exit 1; }

lan_init "$bin"
mkdir -p "$LAN_DIR/snap"
lan_copy_plugins "$plugin_src"
plugin_dir="$LAN_PLUGINS"
lan_up 3




start_node() { lan_start_node "$1" "${names[$1]}" --plugin-path "$plugin_dir" "${node_flags[@]}"; }


# snap "HOSTS": each host's `registered --json` and `workers --json` into $LAN_DIR/snap.
snap() {
  local i
  for i in $1; do
    lan_zs "$i" --json registered >"$LAN_DIR/snap/reg.$i" 2>&1
    lan_zs "$i" --json workers >"$LAN_DIR/snap/wk.$i" 2>&1
    grep -qs '"id"' "$LAN_DIR/snap/info.$i" || lan_zs "$i" --json info >"$LAN_DIR/snap/info.$i" 2>&1  # its run's id: no restarts here
  done
}

# judge MODE "HOSTS" "NAMES": reads the snapshots of HOSTS; prints "OK" or what is wrong.
#   agree  : every host's `registered` list is identical and holds exactly NAMES
#   single : each of NAMES runs (registered=true) on exactly one of HOSTS, on
#            the node its REF names (REF = node@host/RUN.ID), taking the REF from
#            that host's own registered list
# Also prints, on "OK", one "NAME REF" line per name (the REF it runs as).
judge() {
  # shellcheck disable=SC2086  # $2: one argument per host
  python3 - "$1" "$LAN_DIR/snap" "${names[*]}" "$3" $2 <<'EOF'
import json, sys
mode, d, node_names, want = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
hosts = sys.argv[5:]
node_of = {h: f"{node_names[int(h)]}@h{h}" for h in hosts}
def load(kind, h, key):
    raw = open(f"{d}/{kind}.{h}").read()
    try:
        j = json.loads(raw)
        if not j.get("ok"): raise ValueError
        return j[key]
    except Exception:
        print(f"{node_of[h]}: bad {kind} answer [{raw.strip()[:200]}]"); sys.exit(0)
regs = {h: sorted((n["name"], n["ref"], str(n["owner"]), n["plugin"]) for n in load("reg", h, "names")) for h in hosts}
run_of = {}
for h in hosts:
    try: run_of[h] = json.loads(open(f"{d}/info.{h}").read())["id"][:8]
    except Exception: print(f"{node_of[h]}: bad info answer"); sys.exit(0)
bad = []
if mode == "agree":
    first = regs[hosts[0]]
    for h in hosts[1:]:
        if regs[h] != first:
            a, b = set(first) - set(regs[h]), set(regs[h]) - set(first)
            bad.append(f"{node_of[hosts[0]]} vs {node_of[h]} differ: only on {node_of[hosts[0]]}: {sorted(a)[:4]}; only on {node_of[h]}: {sorted(b)[:4]}")
    got = sorted(n for n, *_ in first)
    if got != sorted(want):
        bad.append(f"names on {node_of[hosts[0]]} = {got}, expected {sorted(want)}")
    if not bad:
        for n, ref, *_ in first: print(n, ref)
else:
    runs = {n: [] for n in want}
    for h in hosts:
        for w in load("wk", h, "workers"):
            if w["registered"] and w["name"] in runs:
                runs[w["name"]].append((h, f"{node_of[h]}/{run_of[h]}.{w['id']}", w["state"]))
    out = []
    for n in want:
        r = runs[n]
        if len(r) != 1:
            bad.append(f"{n} runs (registered) on {len(r)} nodes: {[x[1] + ' ' + x[2] for x in r]}")
            continue
        h, ref, st = r[0]
        reg = {nm: rf for nm, rf, *_ in regs[h]}
        if reg.get(n) != ref:
            bad.append(f"{n} runs as {ref} ({st}) but {node_of[h]}'s registered says {reg.get(n)}")
        out.append(f"{n} {ref}")
    if not bad:
        print("\n".join(out))
if bad:
    print("; ".join(bad[:6]) + (f" (+{len(bad) - 6} more)" if len(bad) > 6 else ""))
else:
    print("OK")
EOF
}

# await MODE "HOSTS" "NAMES" DEADLINE_S: polls judge until OK; on success sets
# JUDGED (the "NAME REF" lines) and WAITED_MS; on timeout fails with the reason.
await() {
  local mode=$1 hosts=$2 want=$3 t0 end out
  t0=$(lan_now_ns); end=$((t0 + $4 * 1000000000))
  while :; do
    snap "$hosts"
    out=$(judge "$mode" "$hosts" "$want")
    if [ "$(tail -n 1 <<<"$out")" = OK ]; then JUDGED=$(sed '$d' <<<"$out"); WAITED_MS=$(lan_ms_since "$t0"); return 0; fi
    lan_check_nodes "$hosts"
    if [ "$(lan_now_ns)" -ge $end ]; then echo "$out"; return 1; fi
    lan_budget
    sleep 0.1
  done
}

nlist=$(for ((k = 0; k < nnames; k++)); do printf 'n%d ' "$k"; done); nlist=${nlist% }

# ---------------------------------------------------------------------------
# 1. Three hosts, three nodes, all alive.
for i in $all; do start_node "$i"; done
lan_expect_view "$all" "$all_alive" 10 || lan_fail "a, b, c did not all see each other alive within 10 s"
lan_log "a@h1 b@h2 c@h3 all alive"

# 2. n0..n19 via a, inc K each; all agree on the REFs.
declare -A ref0=() owner0=()
for ((k = 0; k < nnames; k++)); do
  out=$(lan_zs 1 --timeout 5000 register "n$k" --plugin counter); rc=$?
  [[ $rc = 0 && $out =~ ^\{ok,\ ([^}]+)\}$ ]] || lan_fail "register n$k via a: [$out] (status $rc), expected {ok, X@hN/RUN.ID}"
  ref0[n$k]=${BASH_REMATCH[1]}
  owner0[n$k]=$(lan_host_of_ref "${ref0[n$k]}") || lan_fail "register n$k: REF [${ref0[n$k]}] does not name one of our nodes"
done
for ((k = 0; k < nnames; k++)); do
  out=$(lan_zs 1 send "n$k" "inc $k"); rc=$?
  [[ $out == "{ok}" && $rc = 0 ]] || lan_fail "send n$k 'inc $k' via a: [$out] (status $rc)"
done
await agree "$all" "$nlist" 5 || lan_fail "a, b, c do not list the same 20 names/REFs within 5 s of the registrations"
while read -r n r; do
  [ "$r" = "${ref0[$n]}" ] || lan_fail "registered lists $n as $r, but register answered ${ref0[$n]}"
done <<<"$JUDGED"
await single "$all" "$nlist" 5 || lan_fail "the 20 names do not each run on exactly one node"
per_node=$(for i in $all; do c=0; for n in $nlist; do [ "${owner0[$n]}" = "$i" ] && c=$((c + 1)); done; printf '%s:%d ' "${names[i]}" $c; done)
# send is a cast: poll each count briefly.
end=$(($(lan_now_ns) + 5000000000))
for ((k = 0; k < nnames; k++)); do
  while :; do
    got=$(lan_zs $((k % 3 + 1)) --timeout 3000 call "n$k" get)
    [ "$got" = "$k" ] && break
    [ "$(lan_now_ns)" -ge $end ] && lan_fail "call n$k get via ${names[k % 3 + 1]}: [$got], expected $k"
    lan_budget; sleep 0.05
  done
done
lan_log "n0..n$((nnames - 1)) registered via a (owners $per_node), inc K sent, counts K, a/b/c agree on every REF"

# 3. Partition {1} | {2,3}.
t=$(date +%s.%N)
lan_partition "1" "2 3"
lan_expect_view "1" "a=alive b=down c=down" 15 || lan_fail "a did not see b and c down within 15 s"
lan_expect_view "2 3" "a=down b=alive c=alive" 15 || lan_fail "b, c did not see a down within 15 s"
lan_log "each side sees the other down (a: $(lan_logs_since "$t" 'nodedown [bc]@h' 1 2) ms, b/c: $(lan_logs_since "$t" 'nodedown a@h' "2 3") ms after the partition)"

out=$(lan_zs 1 --timeout 5000 register solo --plugin counter); rc=$?
[[ $rc = 0 && $out =~ ^\{ok,\ ([^}]+)\}$ ]] || lan_fail "register solo via a during the partition: [$out] (status $rc), expected {ok, a@h1/RUN.ID}"
solo_a=${BASH_REMATCH[1]}
[ "$(lan_host_of_ref "$solo_a")" = 1 ] || lan_fail "register solo via a (alone): REF [$solo_a], expected a@h1/RUN.ID"
out=$(lan_zs 2 --timeout 5000 register solo --plugin counter); rc=$?
[[ $rc = 0 && $out =~ ^\{ok,\ ([^}]+)\}$ ]] || lan_fail "register solo via b during the partition: [$out] (status $rc), expected {ok, b@h2/RUN.ID or c@h3/RUN.ID}"
solo_bc=${BASH_REMATCH[1]}
h=$(lan_host_of_ref "$solo_bc") || h=""
[[ $h = 2 || $h = 3 ]] || lan_fail "register solo via b: REF [$solo_bc], expected it on b or c"
lan_log "partition: solo via a -> $solo_a, solo via b -> $solo_bc"

await single "1" "$nlist solo" 10 || lan_fail "side {a}: not every n* + solo runs exactly once on a within 10 s"
declare -A side1=() side2=()
while read -r n r; do side1[$n]=$r; done <<<"$JUDGED"
s1_ms=$WAITED_MS
await single "2 3" "$nlist solo" 10 || lan_fail "side {b,c}: not every n* + solo runs exactly once on b/c within 10 s"
while read -r n r; do side2[$n]=$r; done <<<"$JUDGED"
s2_ms=$WAITED_MS
[ "${side1[solo]}" = "$solo_a" ] || lan_fail "side {a}: solo runs as ${side1[solo]}, register answered $solo_a"
[ "${side2[solo]}" = "$solo_bc" ] || lan_fail "side {b,c}: solo runs as ${side2[solo]}, register answered $solo_bc"
# Each side's replicas agree, too.
await agree "2 3" "$nlist solo" 5 || lan_fail "b and c do not agree on the names during the partition"
# Counts: a name kept from before the partition still counts K; one restarted
# on this side (its owner is across the cut) starts again from its args (0).
restarted=0
for ((k = 0; k < nnames; k++)); do
  n=n$k
  for side in 1 2; do
    if [ $side = 1 ]; then via=1; cur=${side1[$n]}; else via=2; cur=${side2[$n]}; fi
    if [ "$cur" = "${ref0[$n]}" ]; then want=$k; else want=0; restarted=$((restarted + 1)); fi
    if [ $side = 1 ]; then [[ ${owner0[$n]} = 1 ]]; else [[ ${owner0[$n]} != 1 ]]; fi && kept=1 || kept=0
    [ "$kept" = 1 ] && [ "$cur" != "${ref0[$n]}" ] && lan_fail "side $side: $n moved from ${ref0[$n]} to $cur although its owner is on this side"
    [ "$kept" = 0 ] && [ "$cur" = "${ref0[$n]}" ] && lan_fail "side $side: $n still at ${ref0[$n]}, on the other side"
    got=$(lan_zs "$via" --timeout 3000 call "$n" get)
    [ "$got" = "$want" ] || lan_fail "side $side: call $n get via ${names[via]}: [$got], expected $want ($n at $cur, before the partition at ${ref0[$n]})"
  done
done
[ $restarted = $nnames ] || lan_fail "expected $nnames restarts across the two sides, counted $restarted"
# Both sides count on; the heal must keep every increment.
for n in $nlist solo; do
  for side in 1 2; do
    if [ $side = 1 ]; then via=1; by=3; else via=2; by=2; fi
    got=$(lan_zs "$via" --timeout 3000 call "$n" "inc $by")
    [[ $got =~ ^[0-9]+$ ]] || lan_fail "side $side: call $n 'inc $by' via ${names[via]}: [$got], expected a count"
  done
done
lan_log "partition: each side runs all $nnames n* once (a: settled after $s1_ms ms of polling, b/c: $s2_ms ms); $restarted restarted from args (count 0), the rest kept their counts"

# 4. Heal: one REF per name again, everywhere, each name running once.
declare -A mark=()
for i in $all; do mark[$i]=$(lan_log_lines "$i"); done
t0s=$(date +%s.%N); t0=${t0s/./}; t0=${t0:0:19}
lan_heal
lan_expect_view "$all" "$all_alive" "$heal_deadline_s" || lan_fail "not all alive again within $heal_deadline_s s of the heal"
alive_ms=$(lan_ms_since "$t0")
end=$((t0 + heal_deadline_s * 1000000000)); why=""
while :; do
  snap "$all"
  a=$(judge agree "$all" "$nlist solo"); s=$(judge single "$all" "$nlist solo")
  if [ "$(tail -n 1 <<<"$a")" = OK ] && [ "$(tail -n 1 <<<"$s")" = OK ]; then
    [ "$(sed '$d' <<<"$a" | sort)" = "$(sed '$d' <<<"$s" | sort)" ] && break
    why="registered REFs and running workers differ"
  else
    why="agree: $(tail -n 1 <<<"$a") | single: $(tail -n 1 <<<"$s")"
  fi
  lan_check_nodes "$all"
  [ "$(lan_now_ns)" -ge $end ] && lan_fail "within $heal_deadline_s s of the heal the cluster did not converge (all alive again after $alive_ms ms): $why"
  lan_budget; sleep 0.1
done
conv_ms=$(lan_ms_since "$t0")
declare -A final=()
while read -r n r; do final[$n]=$r; done <<<"$(sed '$d' <<<"$a")"
lan_log "healed: all alive after $alive_ms ms; names converged (identical registered lists, each name running once) after $conv_ms ms"
# For 2 s more no name runs twice, though names may still move to their ring
# owners by handoff (old copy stopped before the new one starts); then all
# replicas agree again.
end=$(($(lan_now_ns) + 2000000000))
while [ "$(lan_now_ns)" -lt $end ]; do
  snap "$all"
  s=$(judge single "$all" "$nlist solo")
  [ "$(tail -n 1 <<<"$s")" = OK ] || lan_fail "after converging, a name ran twice: $(tail -n 1 <<<"$s")"
  lan_budget; sleep 0.1
done
end=$(($(lan_now_ns) + 5000000000))
until snap "$all"; a=$(judge agree "$all" "$nlist solo"); [ "$(tail -n 1 <<<"$a")" = OK ]; do
  [ "$(lan_now_ns)" -ge $end ] && lan_fail "replicas disagree after the post-heal handoffs: $(tail -n 1 <<<"$a")"
  lan_budget; sleep 0.1
done
# solo was registered on both sides at once: a real conflict, logged by the
# node whose copy lost (the winner may already have moved by a handoff).
deadline=$((SECONDS + 3))
until for i in $all; do lan_log_has "$i" "conflict on solo: keeping [^,]+, stopping " "${mark[$i]}" && break; done; do
  [ $SECONDS -ge $deadline ] && lan_fail "no node logged 'conflict on solo: keeping ..., stopping ...' after the heal"
  sleep 0.05
done
lan_log "solo: $(cat "$LAN_DIR"/h*.log | grep -hoE 'conflict on solo: keeping [^,]+, stopping [^ ]+' | head -n 1)"
lan_log "n*: losers logged 'conflict on': $(cat "$LAN_DIR"/h*.log | grep -cE 'conflict on n[0-9]+:'), 'stopping local': $(cat "$LAN_DIR"/h*.log | grep -cE 'stopping local n[0-9]+ '), handoffs after the heal: $(cat "$LAN_DIR"/h*.log | grep -cE 'took over n[0-9]+ ')"

# 5. Every increment survived: K before, 3 on a's side, 2 on b/c's.
end=$(($(lan_now_ns) + 10000000000))
for n in $nlist solo; do
  if [ "$n" = solo ]; then want=5; else want=$((${n#n} + 5)); fi
  for i in $all; do
    while :; do
      got=$(lan_zs "$i" --timeout 3000 call "$n" get)
      [ "$got" = "$want" ] && break
      [ "$(lan_now_ns)" -ge $end ] && lan_fail "after the heal, call $n get via ${names[i]}: [$got], expected $want (the count before the partition, +3 on a's side, +2 on b/c's): an increment was lost"
      lan_budget; sleep 0.05
    done
  done
done
a_owned=$(for n in $nlist; do [ "${owner0[$n]}" = 1 ] && printf '%s ' "$n"; done)
lan_log "no increment lost: every nK answers K+5 and solo 5 on a, b and c (the names a owned, issue 13's example: ${a_owned:-none})"

echo "FIGURE partition names: heal -> all alive $alive_ms ms; heal -> names converged (21 names, identical REFs on a/b/c, each running once) $conv_ms ms (deadline ${heal_deadline_s} s)"
echo "PASS: LAN partition names ($nnames counters + concurrent solo registered across {1}|{2,3}, counted on both sides, healed, converged, no increment lost) on 3 hosts"
