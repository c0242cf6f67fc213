// The control socket's pre-parse nesting check: linear, strings skipped,
// and stray closers cannot buy room for more openers.
#include <gtest/gtest.h>

#include "node/control_server.hpp"

namespace zswarm::node {
namespace {

TEST(JsonNesting, CountsOnlyStructureOutsideStrings) {
  EXPECT_FALSE(json_nesting_exceeds(R"({"cmd":"ping","a":[[1]]})", 3));
  EXPECT_TRUE(json_nesting_exceeds(R"({"a":[[[1]]]})", 3));
  EXPECT_FALSE(json_nesting_exceeds(R"({"name":"[[[[[[[[\"{{{{"})", 1));  // brackets inside a string
  EXPECT_TRUE(json_nesting_exceeds(std::string(100000, '['), 32));
}

TEST(JsonNesting, StrayClosersDoNotOffsetOpeners) {
  std::string text = std::string(100, ']') + std::string(40, '[');
  EXPECT_TRUE(json_nesting_exceeds(text, 32));
}

}  // namespace
}  // namespace zswarm::node
