#include "bus/zap.hpp"

namespace zswarm::bus {

std::vector<std::string> ZapReply::frames() const {
  return {"1.0", request_id, status_code, status_text, user_id, std::string()};
}

std::optional<ZapReply> zap_decide(const std::vector<std::string>& request, const KeyLookup& admitted) {
  if (request.size() < 2) return std::nullopt;
  ZapReply r;
  r.request_id = request[1];
  auto refuse = [&](std::string why) {
    r.status_code = "400";
    r.status_text = std::move(why);
    return r;
  };
  if (request[0] != "1.0") return refuse("unsupported ZAP version");
  if (request.size() < 6) return refuse("malformed request");
  const std::string& domain = request[2];
  const std::string& mechanism = request[5];
  if (domain.empty() && mechanism == "NULL") {  // not a bus socket: no policy here
    r.status_code = "200";
    r.status_text = "OK";
    return r;
  }
  if (domain != kZapDomain) return refuse("unknown domain");
  if (mechanism != "CURVE") return refuse("the bus speaks CURVE only");
  if (request.size() != 7 || request[6].size() != 32) return refuse("malformed CURVE credentials");
  auto user = admitted(request[6]);
  if (!user) return refuse("key not announced by a member");
  r.status_code = "200";
  r.status_text = "OK";
  r.user_id = *user;
  return r;
}

}  // namespace zswarm::bus
