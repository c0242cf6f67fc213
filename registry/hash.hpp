// hash64: the 64-bit string hash behind the consistent-hash ring (XXH64).
//
// Every node must place a name on the same member, so the result depends only
// on the bytes and the seed: bytes are read little-endian whatever the host,
// never std::hash (which differs between standard libraries).
//
// A pure function: thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace zswarm::registry {

// XXH64 of the bytes; matches the reference implementation's output.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);

}  // namespace zswarm::registry
