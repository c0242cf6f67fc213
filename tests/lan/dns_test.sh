#!/usr/bin/env bash
# --dns NAME across hosts: the name's A records come from each host's
# /etc/hosts (`ip netns exec` mounts /etc/netns/<ns>/hosts there; several
# lines with one name are several addresses). Three nodes whose name maps to
# hosts 1-3 meet. A fourth node on host 4, whose own hosts file maps the name
# only to itself, beacons to nobody else and stays alone, until hosts 1-3's
# files gain its address: their next lookup (every dns_interval_ms) beacons to
# it, and all four meet. Nodes 1-3 run with --interface (the bus binds to it,
# the recommended setup); node 4 without (its bus binds to 0.0.0.0).
#
# Usage: dns_test.sh BIN_DIR      (root; exit 77 = skipped)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

bin=${1:?usage: dns_test.sh BIN_DIR}
name=peers.zswarm.test
interval=1000

lan_init "$bin"
lan_up 4

three="127.0.0.1 localhost
$(lan_ip 1) $name
$(lan_ip 2) $name
$(lan_ip 3) $name"
for i in 1 2 3; do lan_hosts_file "$i" "$three"; done
lan_hosts_file 4 "127.0.0.1 localhost
$(lan_ip 4) $name"
got=$(ip netns exec "$(lan_ns 1)" getent ahostsv4 "$name" | awk '$2 == "DGRAM" {print $1}' | sort | tr '\n' ' ')
[ "$got" = "$(lan_ip 1) $(lan_ip 2) $(lan_ip 3) " ] ||
  lan_fail "the hosts file does not give three A records in $(lan_ns 1): [$got] (nsswitch 'hosts: files'?)"

names=(_ a b c d)
for i in 1 2 3; do lan_start_node "$i" "${names[i]}" --dns "$name" --dns-interval-ms "$interval"; done
lan_expect_view "1 2 3" "a=alive b=alive c=alive" 10 || lan_fail "the three --dns nodes did not meet within 10 s"
for i in 1 2 3; do
  lan_log_has "$i" "\[discovery\] dns $name:$LAN_BEACON_PORT; bus on $(lan_ip "$i") " || lan_fail "host $i: no dns scope line"
  lan_log_has "$i" "\[discovery\] dns $name: 3 addresses: $(lan_ip 1) $(lan_ip 2) $(lan_ip 3)$" ||
    lan_fail "host $i did not log the three addresses"
done
echo "FIGURE --dns: 3 hosts met by the A records of $name"

# d's name gives only itself: it beacons to nobody, and nobody beacons to it.
lan_start_node_bare 4 d --dns "$name" --dns-interval-ms "$interval"
lan_expect_view 4 "d=alive" 5 || lan_fail "d did not start"
lan_log_has 4 "\[discovery\] dns $name:$LAN_BEACON_PORT; bus on 0\.0\.0\.0 " || lan_fail "d's bus is not on 0.0.0.0 without --interface"
lan_hold_view "1 2 3" "a=alive b=alive c=alive" 2 || lan_fail "d was found before the name gave its address"
lan_hold_view 4 "d=alive" 1 || lan_fail "d found others before the name gave their addresses"

# The name gains host 4 (in place: the bind mounts follow the file, not the path).
t=$(date +%s.%N)
for i in 1 2 3; do printf '%s %s\n' "$(lan_ip 4)" "$name" >>"/etc/netns/$(lan_ns "$i")/hosts"; done
all="a=alive b=alive c=alive d=alive"
lan_expect_view "1 2 3 4" "$all" 10 || lan_fail "d was not found within 10 s of the name gaining its address"
echo "FIGURE --dns re-resolve: d seen by a, b, c $(lan_logs_since "$t" 'nodeup d@h4' "1 2 3") ms after the name changed (interval $interval ms, beacon 1000 ms)"
lan_log_has 1 "\[discovery\] dns $name: 4 addresses: $(lan_ip 1) $(lan_ip 2) $(lan_ip 3) $(lan_ip 4)$" ||
  lan_fail "a did not log the four addresses"
stats=$(lan_zs 1 info --json | python3 -c 'import json,sys; s=json.load(sys.stdin)["stats"]; print(s["dns_addresses"], s["dns_failures"])')
[ "$stats" = "4 0" ] || lan_fail "a's dns_addresses and dns_failures are [$stats], not [4 0]"
lan_hold_view "1 2 3 4" "$all" 2 || lan_fail "the four did not stay alive"

echo "PASS: --dns meets across 3 hosts, and finds a 4th once the name gives its address"
