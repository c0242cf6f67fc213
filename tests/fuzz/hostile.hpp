// Hostile msgpack shapes every fuzz target starts from, beside its valid
// seeds: nesting 100,000 deep, and 2^32-1 length headers for arrays, maps,
// strings and binaries (alone, and inside a map as a field's value). A run
// with a large -max_len mutates them further (./dev fuzz runs both sizes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zswarm::fuzz {

inline std::vector<std::vector<uint8_t>> hostile_msgpack(const std::vector<uint8_t>& prefix = {}) {
  std::vector<std::vector<uint8_t>> out;
  auto add = [&](std::vector<uint8_t> body) {
    std::vector<uint8_t> in = prefix;
    in.insert(in.end(), body.begin(), body.end());
    out.push_back(std::move(in));
  };
  std::vector<uint8_t> deep_arrays(100000, 0x91), deep_maps;
  deep_arrays.push_back(0xc0);
  for (int i = 0; i < 50000; ++i) deep_maps.insert(deep_maps.end(), {0x81, 0xa1, 'k'});
  deep_maps.push_back(0xc0);
  add(deep_arrays);
  add(deep_maps);
  for (uint8_t header : {0xdd, 0xdf, 0xdb, 0xc6}) {  // array32, map32, str32, bin32
    add({header, 0xff, 0xff, 0xff, 0xff});
    add({0x81, 0xa4, 'n', 'a', 'm', 'e', header, 0xff, 0xff, 0xff, 0xff});
  }
  return out;
}

inline void add_hostile(std::vector<std::vector<uint8_t>>* out, const std::vector<uint8_t>& prefix = {}) {
  for (auto& s : hostile_msgpack(prefix)) out->push_back(std::move(s));
}

}  // namespace zswarm::fuzz
