// Fuzzes the ZAP policy: the input is a request's frames, each a length
// byte and that many bytes. Whatever comes, a refusal carries no User-Id,
// and only the one announced key gets in on the bus.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bus/zap.hpp"

namespace {
const std::string kAdmitted(32, 'A');
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> frames;
  for (size_t at = 0; at < size && frames.size() < 32;) {
    size_t len = data[at++];
    len = std::min(len, size - at);
    frames.emplace_back(reinterpret_cast<const char*>(data + at), len);
    at += len;
  }
  auto reply = zswarm::bus::zap_decide(frames, [](std::string_view key) -> std::optional<std::string> {
    if (key == kAdmitted) return std::string("member");
    return std::nullopt;
  });
  if (!reply) {
    if (frames.size() >= 2) std::abort();  // anything with a request id is answered
    return 0;
  }
  if (reply->request_id != frames[1]) std::abort();
  if (reply->status_code != "200" && reply->status_code != "400") std::abort();
  if (reply->status_code == "400" && !reply->user_id.empty()) std::abort();
  if (reply->status_code == "200") {
    bool bus = frames.size() == 7 && frames[0] == "1.0" && frames[2] == zswarm::bus::kZapDomain &&
               frames[5] == "CURVE" && frames[6] == kAdmitted;
    bool off_bus = frames.size() >= 6 && frames[0] == "1.0" && frames[2].empty() && frames[5] == "NULL";
    if (!bus && !off_bus) std::abort();
    if (bus != (reply->user_id == "member")) std::abort();
  }
  return 0;
}

extern "C" size_t zswarm_fuzz_seeds(std::vector<std::vector<uint8_t>>* out) {
  auto pack = [](const std::vector<std::string>& frames) {
    std::vector<uint8_t> v;
    for (const auto& f : frames) {
      v.push_back(static_cast<uint8_t>(f.size()));
      v.insert(v.end(), f.begin(), f.end());
    }
    return v;
  };
  out->push_back(pack({"1.0", "1", "zswarm", "127.0.0.1", "", "CURVE", kAdmitted}));
  out->push_back(pack({"1.0", "2", "zswarm", "127.0.0.1", "", "CURVE", std::string(32, 'B')}));
  out->push_back(pack({"1.0", "3", "", "", "", "NULL"}));
  out->push_back(pack({"1.0", "4", "zswarm", "", "", "PLAIN", "u", "p"}));
  return out->size();
}
