#!/usr/bin/env bash
# The module layering stays one-way: a module may include itself, the public
# headers (zswarm/...), and the modules below it, never one above it. The
# order is the architecture, lowest first (as in the top-level CMakeLists):
#   port < bus < discovery < registry < workers < names < node < tools
# Public headers (include/zswarm) include only public headers.
# Usage: layering_test.sh SOURCE_DIR
set -uo pipefail
src=${1:?usage: layering_test.sh SOURCE_DIR}
order=(port bus discovery registry workers names node tools)
declare -A rank
for i in "${!order[@]}"; do rank[${order[$i]}]=$i; done

bad=0
for module in "${order[@]}"; do
  while IFS=: read -r file line text; do
    used=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$text")
    [ "$used" = zswarm ] && continue
    if [ -z "${rank[$used]+x}" ]; then
      echo "FAIL: $file:$line includes \"$used/...\", which is no module"; bad=1
    elif [ "${rank[$used]}" -gt "${rank[$module]}" ]; then
      echo "FAIL: $file:$line: $module includes $used, a module above it"; bad=1
    fi
  done < <(grep -rnE '^#include "[a-z_]+/' "$src/$module" --include='*.hpp' --include='*.cpp' --include='*.h' --include='*.c')
done
while IFS=: read -r file line text; do
  echo "FAIL: $file:$line: a public header includes an internal one"; bad=1
done < <(grep -rnE '^#include "[a-z_]+/' "$src/include/zswarm" | grep -v '#include "zswarm/')

[ $bad -eq 0 ] && echo "layering: ${#order[@]} modules, every include points down"
exit $bad
