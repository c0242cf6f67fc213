// A name in the cluster-wide registry, as Node::registered() lists it.
// A plain value type.
#pragma once

#include <string>

namespace zswarm {

// `ref` prints as name@host/ID.
struct RegisteredName {
  std::string name;
  std::string ref;
  std::string owner;  // "name@host"
  std::string plugin;
};

}  // namespace zswarm
