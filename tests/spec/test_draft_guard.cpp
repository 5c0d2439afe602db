// DraftGuard: drafting at a row count is allowed after a plain baseline, suspended while
// drafted steps measure fewer tokens per second than plain ones, follows the nearest
// measured row count before it has figures of its own, and probes the other mode at
// growing intervals.
#include <gtest/gtest.h>

#include "spec/draft_guard.h"

namespace ax {
namespace {

TEST(DraftGuard, PlainBaselineFirstThenTheFasterMode) {
  DraftGuard g;
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    EXPECT_FALSE(g.Allow(4));
    g.Observe(4, false, 4, 0.001);  // 4000 tok/s plain
  }
  EXPECT_TRUE(g.Allow(4));  // no drafted figure yet: try
  g.Observe(4, true, 6, 0.0025);  // 2400 tok/s drafted
  EXPECT_TRUE(g.Allow(4));
  g.Observe(4, true, 6, 0.0025);
  int allowed = 0;
  for (int i = 0; i < 3 * DraftGuard::kProbeEvery; ++i) allowed += g.Allow(4);
  EXPECT_EQ(allowed, 2);  // suspended, probed after kProbeEvery steps, then after twice that
  // A row count with no figures of its own runs plain first, then follows the nearest
  // measured one instead of trying drafts again.
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    EXPECT_FALSE(g.Allow(3));
    g.Observe(3, false, 3, 0.001);
  }
  EXPECT_FALSE(g.Allow(3));
}

TEST(DraftGuard, DraftingThatWinsStaysOnAndPlainIsProbed) {
  DraftGuard g;
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    g.Allow(1);
    g.Observe(1, false, 1, 0.001);  // 1000 tok/s plain
  }
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    EXPECT_TRUE(g.Allow(1));
    g.Observe(1, true, 4, 0.0015);  // 2667 tok/s drafted
  }
  int plain = 0;
  for (int i = 0; i < 3 * DraftGuard::kProbeEvery; ++i) plain += !g.Allow(1);
  EXPECT_EQ(plain, 2);
  // A plain probe that now measures faster (the workload stopped repeating) flips it.
  for (int i = 0; i < 8; ++i) g.Observe(1, false, 1, 0.0002);
  EXPECT_FALSE(g.Allow(1));
}

}  // namespace
}  // namespace ax
