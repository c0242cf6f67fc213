#include "bus/node_id.hpp"

#include <gtest/gtest.h>

#include <set>

namespace zswarm::bus {
namespace {

TEST(NodeId, RandomIdsDifferAndAreNotNil) {
  std::set<NodeId> seen;
  for (int i = 0; i < 1000; ++i) {
    NodeId id = NodeId::random();
    EXPECT_FALSE(id.nil());
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(NodeId, TextAndBytesRoundTrip) {
  NodeId id = NodeId::random();
  EXPECT_EQ(NodeId::from_string(id.to_string()), id);
  EXPECT_EQ(NodeId::from_bytes(id.bytes()), id);
  EXPECT_EQ(id.to_string().size(), 32u);
  EXPECT_EQ(id.short_string(), id.to_string().substr(0, 8));
}

TEST(NodeId, RejectsMalformedText) {
  EXPECT_FALSE(NodeId::from_string(""));
  EXPECT_FALSE(NodeId::from_string(std::string(31, 'a')));
  EXPECT_FALSE(NodeId::from_string(std::string(32, 'g')));
  EXPECT_FALSE(NodeId::from_bytes(std::string(15, '\0')));
}

}  // namespace
}  // namespace zswarm::bus
