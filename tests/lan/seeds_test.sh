#!/usr/bin/env bash
# --seeds across hosts (networks without broadcast): every node gets the
# same list of the three hosts (its own address among them: a beacon to
# itself is ignored), as a static host list is deployed. Nothing is
# broadcast. Beacons announce only their sender, so a node meets only the
# nodes it seeds or that seed it: there is no membership gossip yet.
#
# Usage: seeds_test.sh BIN_DIR      (root; exit 77 = skipped)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

bin=${1:?usage: seeds_test.sh BIN_DIR}

lan_init "$bin"
lan_up 3
p=$LAN_BEACON_PORT
seeds="$(lan_ip 1):$p,$(lan_ip 2):$p,$(lan_ip 3):$p"
lan_start_node 1 a --seeds "$seeds"
lan_start_node 2 b --seeds "$seeds"
lan_start_node 3 c --seeds "$seeds"
lan_expect_view "1 2 3" "a=alive b=alive c=alive" 10 || lan_fail "the three --seeds nodes did not meet within 10 s"
for i in 1 2 3; do
  lan_log_has "$i" "\[discovery\] seeds " || lan_fail "host $i is not in seeds mode: $(grep '\[discovery\]' "$LAN_DIR/h$i.log" | head -n 2)"
done
echo "FIGURE --seeds: 3 hosts met by one shared host list"

# kill -9 b: a and c see it down; restart it: back everywhere.
lan_kill 2
lan_expect_view "1 3" "a=alive b=down c=alive" 10 || lan_fail "a and c did not see b down within 10 s"
lan_start_node 2 b --seeds "$seeds"
lan_expect_view "1 2 3" "a=alive b=alive c=alive" 10 || lan_fail "restarted b was not seen alive by all within 10 s"

echo "PASS: --seeds meets across 3 hosts by a shared list, and a restarted node rejoins"
