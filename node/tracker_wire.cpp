#include "node/tracker_wire.hpp"

namespace zswarm::node::wire {

std::string pack(const Json& j) {
  auto v = Json::to_msgpack(j);
  return {v.begin(), v.end()};
}

std::optional<Json> unpack(std::string_view body) {
  Json j = Json::from_msgpack(body.begin(), body.end(), true, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

Json bin(const std::string& s) { return Json::binary(std::vector<uint8_t>(s.begin(), s.end())); }

std::optional<std::string> text(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
std::optional<std::string> bytes(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_binary()) return std::nullopt;
  const auto& b = it->get_binary();
  return std::string(b.begin(), b.end());
}
std::optional<bool> flag(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}
int64_t number(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

Json answer(const Result<std::string, Error>& r) {
  if (r.ok()) return Json{{"ok", true}, {"value", bin(*r)}};
  return Json{{"ok", false}, {"error", r.error().code}, {"detail", r.error().detail}};
}

Result<std::string, Error> read_answer(const std::string& body) {
  auto j = unpack(body);
  auto ok = j ? flag(*j, "ok") : std::nullopt;
  if (!ok) return fail(Error{"bad_message", "malformed answer"});
  if (*ok) return bytes(*j, "value").value_or("");
  return fail(Error{text(*j, "error").value_or("error"), text(*j, "detail").value_or("")});
}



}  // namespace zswarm::node::wire
