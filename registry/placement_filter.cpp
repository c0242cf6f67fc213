#include "registry/placement_filter.hpp"

#include <algorithm>
#include <cstddef>

namespace zswarm::registry {

namespace {

// Matches one pattern element at p against byte c; sets len to the
// element's length in the pattern. An unterminated '[' is a literal '['.
bool match_one(std::string_view pat, std::size_t p, unsigned char c, std::size_t& len) {
  const char first = pat[p];
  if (first == '?') {
    len = 1;
    return true;
  }
  if (first == '\\' && p + 1 < pat.size()) {
    len = 2;
    return static_cast<unsigned char>(pat[p + 1]) == c;
  }
  if (first == '[') {
    std::size_t i = p + 1;
    bool negate = false;
    if (i < pat.size() && (pat[i] == '!' || pat[i] == '^')) {
      negate = true;
      ++i;
    }
    bool matched = false;
    bool first_in_class = true;
    while (i < pat.size() && (pat[i] != ']' || first_in_class)) {
      first_in_class = false;
      auto lo = static_cast<unsigned char>(pat[i]);
      auto hi = lo;
      if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
        hi = static_cast<unsigned char>(pat[i + 2]);
        i += 3;
      } else {
        i += 1;
      }
      if (lo <= c && c <= hi) matched = true;
    }
    if (i < pat.size()) {  // found the closing ']'
      len = i + 1 - p;
      return matched != negate;
    }
  }
  len = 1;
  return static_cast<unsigned char>(first) == c;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  // Where to resume after the last '*': pattern just past it, and the text
  // position it currently swallows up to.
  std::size_t star_p = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    std::size_t len = 0;
    if (p < pattern.size() && match_one(pattern, p, static_cast<unsigned char>(text[t]), len)) {
      p += len;
      ++t;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;  // let the last '*' swallow one more byte
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool PlacementFilter::eligible(std::string_view member_name) const {
  auto matches = [&](const std::string& pattern) { return glob_match(pattern, member_name); };
  if (!allow.empty() && std::none_of(allow.begin(), allow.end(), matches)) return false;
  return std::none_of(deny.begin(), deny.end(), matches);
}

}  // namespace zswarm::registry
