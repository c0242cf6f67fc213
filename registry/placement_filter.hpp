// PlacementFilter: which members may own names, by glob patterns on member
// names ("name@host"), like swarm's node_whitelist / node_blacklist.
// A member is eligible when it matches some allow pattern (or allow is empty)
// and no deny pattern.
//
// Globs: '*' any run (also empty), '?' one byte, '[abc]', '[a-z]', '[!a-z]'
// a byte class, '\x' the literal x. Matching is byte-wise and case-sensitive.
//
// A value type: share const, no internal synchronisation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zswarm::registry {

// True when the whole of text matches pattern. Backtracks only to the last
// '*': O(pattern x text) at worst, never exponential on hostile patterns.
bool glob_match(std::string_view pattern, std::string_view text);

struct PlacementFilter {
  std::vector<std::string> allow;  // empty: everyone is allowed
  std::vector<std::string> deny;

  bool eligible(std::string_view member_name) const;
  friend bool operator==(const PlacementFilter&, const PlacementFilter&) = default;
};

}  // namespace zswarm::registry
