// Bodies of the tracker's messages: msgpack maps of a few typed fields
// (docs/protocol.md, section 5), and the answer every request gets. Readers
// never trust the input: a missing or mistyped field is nullopt, a bad answer
// is a bad_message error. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "zswarm/node.hpp"

namespace zswarm::node::wire {

using Json = nlohmann::json;

std::string pack(const Json& j);
// nullopt unless the body is a msgpack map.
std::optional<Json> unpack(std::string_view body);
Json bin(const std::string& s);

// Typed field access; nullopt when missing or of another type.
std::optional<std::string> text(const Json& j, const char* key);
std::optional<std::string> bytes(const Json& j, const char* key);
std::optional<bool> flag(const Json& j, const char* key);
int64_t number(const Json& j, const char* key);  // 0 when missing

// {"ok":true,"value":bin} or {"ok":false,"error":code,"detail":text}.
Json answer(const Result<std::string, Error>& r);
Result<std::string, Error> read_answer(const std::string& body);

}  // namespace zswarm::node::wire
