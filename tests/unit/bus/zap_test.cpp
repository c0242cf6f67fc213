// The ZAP policy: on the bus only CURVE keys that members announced get in,
// and each gets the member's id as its User-Id.
#include "bus/zap.hpp"

#include <gtest/gtest.h>

namespace zswarm::bus {
namespace {

const std::string kMember(32, 'M');
const std::string kStranger(32, 'S');

std::optional<std::string> lookup(std::string_view key) {
  if (key == kMember) return std::string("00112233445566778899aabbccddeeff");
  return std::nullopt;
}

std::vector<std::string> request(std::string domain, std::string mechanism, std::vector<std::string> creds) {
  std::vector<std::string> r = {"1.0", "req-7", std::move(domain), "127.0.0.1", "", std::move(mechanism)};
  for (auto& c : creds) r.push_back(std::move(c));
  return r;
}

TEST(Zap, AMembersKeyIsAdmittedAsThatMember) {
  auto r = zap_decide(request("zswarm", "CURVE", {kMember}), lookup);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, "200");
  EXPECT_EQ(r->user_id, "00112233445566778899aabbccddeeff");
  EXPECT_EQ(r->request_id, "req-7");
  auto frames = r->frames();
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_EQ(frames[0], "1.0");
  EXPECT_EQ(frames[1], "req-7");
  EXPECT_EQ(frames[2], "200");
  EXPECT_EQ(frames[4], r->user_id);
}

TEST(Zap, EverythingElseOnTheBusIsRefused) {
  const std::vector<std::vector<std::string>> refused = {
      request("zswarm", "CURVE", {kStranger}),
      request("zswarm", "CURVE", {std::string(31, 'M')}),
      request("zswarm", "CURVE", {kMember, "extra"}),
      request("zswarm", "CURVE", {}),
      request("zswarm", "NULL", {}),
      request("zswarm", "PLAIN", {"user", "pass"}),
      request("other", "CURVE", {kMember}),
      {"1.0", "req", "zswarm"},
      {"2.0", "req", "zswarm", "", "", "CURVE", kMember},
  };
  for (const auto& req : refused) {
    auto r = zap_decide(req, lookup);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status_code, "400") << req.size() << " frames, " << (req.size() > 5 ? req[5] : "");
    EXPECT_TRUE(r->user_id.empty());
  }
  EXPECT_FALSE(zap_decide({}, lookup));
  EXPECT_FALSE(zap_decide({"1.0"}, lookup));
}

TEST(Zap, SocketsOffTheBusAreNotJudged) {
  // The control socket (IPC, NULL, no domain) shares the context.
  auto r = zap_decide(request("", "NULL", {}), lookup);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code, "200");
  EXPECT_TRUE(r->user_id.empty());
}

}  // namespace
}  // namespace zswarm::bus
