#include <gtest/gtest.h>

#include "engine/stop_matcher.h"

namespace ax {
namespace {

TEST(StopMatcher, HoldsBackPossibleStartsAndStopsAcrossPushes) {
  StopMatcher m({"END"});
  EXPECT_EQ(m.Push("foo E"), "foo ");
  EXPECT_EQ(m.Push("N"), "");
  EXPECT_EQ(m.Push("D!"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.Flush(), "");
}

TEST(StopMatcher, ReleasesHeldTextWhenTheStopDoesNotMaterialise) {
  StopMatcher m({"END", "xyz"});
  EXPECT_EQ(m.Push("aE"), "a");
  EXPECT_EQ(m.Push("x"), "E");  // "Ex": E can no longer start END; x may start xyz
  EXPECT_EQ(m.Push("q"), "xq");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.Push("EN"), "");
  EXPECT_EQ(m.Flush(), "EN");
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
  StopMatcher m({"cd", "b"});
  EXPECT_EQ(m.matched(), "");
  EXPECT_EQ(m.Push("abcd"), "a");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "b");
}

TEST(StopMatcher, NoStopsPassesEverythingThrough) {
  StopMatcher m({});
  EXPECT_EQ(m.Push("abc"), "abc");
  EXPECT_EQ(m.Flush(), "");
}

}  // namespace
}  // namespace ax
