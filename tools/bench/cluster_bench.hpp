// The in-process cluster used by cluster_bench.cpp; main() stops it after
// the run (destroying each Node) and removes its temporary directory.
#pragma once

namespace zswarm::bench {

void stop_cluster();
// How long the 3 nodes took to see each other alive; 0 if never formed.
double cluster_formed_ms();

}  // namespace zswarm::bench
