// A name in the cluster-wide registry, as Node::registered() lists it.
// A plain value type.
#pragma once

#include <cstdint>
#include <string>

namespace zswarm {

// `ref` prints as name@host/ID.
struct RegisteredName {
  std::string name;
  std::string ref;
  std::string owner;  // "name@host"
  std::string plugin;
  // Grows with every new owner of the name (docs/protocol.md §8.11); the
  // worker sees the same through its context.
  uint64_t fencing_token = 0;
};

}  // namespace zswarm
