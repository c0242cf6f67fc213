#include "names/ref.hpp"

#include <gtest/gtest.h>

namespace zswarm::names {
namespace {

const std::string kOwner("\x5f\xb2\x76\x0f\x8c\x45\xfe\x9d\xe2\xd4\x26\x5d\xaf\xcf\x58\xcf", 16);

TEST(Ref, CarriesTheOwnersRunAndRoundTrips) {
  std::string text = format_ref("b@host", kOwner, 4);
  EXPECT_EQ(text, "b@host/5fb2760f.4");
  auto r = parse_ref(text);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (Ref{"b@host", "5fb2760f", 4}));
  EXPECT_EQ(format_ref(*r), text);
}

TEST(Ref, AnotherRunOfTheSameNodeIsAnotherRef) {
  std::string restarted = kOwner;
  restarted[0] = '\x60';
  EXPECT_NE(format_ref("b@host", kOwner, 1), format_ref("b@host", restarted, 1));
}

TEST(Ref, ANodeNameWithSlashesParsesFromTheRight) {
  auto r = parse_ref("b/x@host/5fb2760f.18446744073709551615");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->node, "b/x@host");
  EXPECT_EQ(r->worker, 18446744073709551615ull);
}

TEST(Ref, RefusesWhatFormatRefNeverWrites) {
  for (const char* bad : {"", "b@host", "b@host/1", "/5fb2760f.1", "b@host/5fb2760f", "b@host/5fb2760f.",
                          "b@host/5fb2760f.0", "b@host/5fb2760f.01", "b@host/5FB2760F.1", "b@host/5fb2760g.1",
                          "b@host/5fb2760f.1x", "b@host/5fb2760f.-1", "b@host/5fb2760f.+1", "b@host/5fb2760f1.1",
                          "b@host/5fb2760f.18446744073709551616", "b@host/5fb2760f.1/"}) {
    EXPECT_FALSE(parse_ref(bad)) << bad;
  }
  EXPECT_FALSE(parse_ref(std::string(kMaxRefBytes, 'a') + "/5fb2760f.1"));
}

}  // namespace
}  // namespace zswarm::names
