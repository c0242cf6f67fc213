#!/usr/bin/env bash
# --multicast alone across hosts: each host namespace gets a default route
# out of its own interface (on the private bridge; no gateway, no
# forwarding), and three nodes started with --multicast GROUP and no
# --interface join the group on that interface and meet. A fourth host has
# no default route: --multicast alone refuses to start there and names the
# missing --interface.
#
# Usage: multicast_test.sh BIN_DIR      (root; exit 77 = skipped)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

bin=${1:?usage: multicast_test.sh BIN_DIR}
group=239.192.77.1   # organisation-local scope; TTL 1 keeps it on the bridge anyway

lan_init "$bin"
lan_up 4
for i in 1 2 3; do
  # On-link default route: only the test's bridge is behind it.
  _lan_ip -n "$(lan_ns "$i")" route add default dev "$(lan_if "$i")"
done

names=(_ a b c)
for i in 1 2 3; do lan_start_node_bare "$i" "${names[i]}" --multicast "$group"; done
lan_expect_view "1 2 3" "a=alive b=alive c=alive" 10 || lan_fail "the three --multicast nodes did not meet within 10 s"
for i in 1 2 3; do
  lan_log_has "$i" "\[discovery\] multicast $group:$LAN_BEACON_PORT on $(lan_if "$i") \(default route\); bus on $(lan_ip "$i") " ||
    lan_fail "host $i did not take the default route's interface: $(grep '\[discovery\] multicast' "$LAN_DIR/h$i.log")"
done
echo "FIGURE --multicast alone: 3 hosts met on the default route's interface"

# No default route on host 4: refused, naming --interface (a config the world said no to: exit 1).
printf '### launch %s %s\n' "$(date +%s.%N)" "d@h4" >>"$LAN_DIR/h4.log"
timeout 10 ip netns exec "$(lan_ns 4)" "$LAN_BIN/zswarmd" --name d --host h4 --cluster "$LAN_CLUSTER" \
  --multicast "$group" --beacon-port "$LAN_BEACON_PORT" --control-dir "$LAN_DIR/ctl" --secret-file "$LAN_SECRET" \
  </dev/null >>"$LAN_DIR/h4.log" 2>&1
rc=$?
[ "$rc" = 1 ] || [ "$rc" = 2 ] || lan_fail "--multicast alone without a default route exited $rc, not 1 or 2 (refused)"
lan_log_has 4 "no default route|default route.*there is none.*--interface" ||
  lan_fail "the refusal does not name --interface: $(tail -n 2 "$LAN_DIR/h4.log")"
lan_hold_view "1 2 3" "a=alive b=alive c=alive" 1 || lan_fail "the refused node disturbed the cluster"

echo "PASS: --multicast alone meets across 3 hosts by the default route; refused without one (exit $rc)"
