// DraftGuard: drafting at a row count is allowed after a plain baseline, suspended while
// drafted steps measure fewer tokens per second than plain ones, follows the nearest
// measured row count before it has figures of its own, probes the other mode at
// growing intervals, and compares replayed forwards with replayed ones.
#include <gtest/gtest.h>

#include "spec/draft_guard.h"

namespace ax {
namespace {

TEST(DraftGuard, PlainBaselineFirstThenTheFasterMode) {
  DraftGuard g;
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    EXPECT_FALSE(g.Allow(4));
    g.Observe(4, false, false, 4, 0.001);  // 4000 tok/s plain
  }
  EXPECT_TRUE(g.Allow(4));  // no drafted figure yet: try
  EXPECT_TRUE(g.trial());
  g.Observe(4, true, false, 6, 0.0025);  // 2400 tok/s drafted
  EXPECT_TRUE(g.Allow(4));
  EXPECT_TRUE(g.trial());
  g.Observe(4, true, false, 6, 0.0025);
  int allowed = 0;
  for (int i = 0; i < 3 * DraftGuard::kProbeEvery; ++i) {
    const bool allow = g.Allow(4);
    allowed += allow;
    EXPECT_TRUE(!allow || g.trial());  // a probe against the plain verdict is a trial
  }
  EXPECT_EQ(allowed, 2);  // suspended, probed after kProbeEvery steps, then after twice that
  // A row count with no figures of its own runs plain first, then follows the nearest
  // measured one instead of trying drafts again.
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    EXPECT_FALSE(g.Allow(3));
    g.Observe(3, false, false, 3, 0.001);
  }
  EXPECT_FALSE(g.Allow(3));
}

TEST(DraftGuard, DraftingThatWinsStaysOnAndPlainIsProbed) {
  DraftGuard g;
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    g.Allow(1);
    g.Observe(1, false, false, 1, 0.001);  // 1000 tok/s plain
  }
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    EXPECT_TRUE(g.Allow(1));
    EXPECT_TRUE(g.trial());  // not measured yet: one-off steps
    g.Observe(1, true, false, 4, 0.0015);  // 2667 tok/s drafted
  }
  int plain = 0;
  for (int i = 0; i < 3 * DraftGuard::kProbeEvery; ++i) {
    const bool allow = g.Allow(1);
    plain += !allow;
    // Drafting measured to win (on eager steps: kConfirm more trials first): steady steps.
    EXPECT_TRUE(!allow || g.trial() == (i < DraftGuard::kConfirm)) << i;
  }
  EXPECT_EQ(plain, 2);
  // A plain probe that now measures faster (the workload stopped repeating) flips it.
  for (int i = 0; i < 8; ++i) g.Observe(1, false, false, 1, 0.0002);
  EXPECT_FALSE(g.Allow(1));
}

// Near break-even the guard stays plain: drafting must win by kWinMargin.
TEST(DraftGuard, DraftingMustWinByTheMargin) {
  DraftGuard g;
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    g.Allow(2);
    g.Observe(2, false, false, 2, 0.001);  // 2000 tok/s plain
  }
  for (int i = 0; i < DraftGuard::kWarm; ++i) {
    EXPECT_TRUE(g.Allow(2));
    g.Observe(2, true, false, 206, 0.1);  // 2060 tok/s drafted: 3% ahead
  }
  EXPECT_FALSE(g.Allow(2));
}

// On a graph-replaying backend: plain steps measured eager (their shape's first
// forwards) and replayed, drafting tried eager (unrecorded trials). Eager drafted steps
// must beat replayed plain ones, over kConfirm more trials; then drafting's steps are
// recorded (no longer trials), and replayed drafted steps are compared with replayed
// plain ones.
TEST(DraftGuard, DraftingMustBeatReplayedPlainSteps) {
  for (const double drafted_eager_s : {0.0005, 0.00025}) {  // 30000 and 60000 tok/s
    DraftGuard g;
    for (int i = 0; i < DraftGuard::kWarm; ++i) {
      EXPECT_FALSE(g.Allow(8));
      g.Observe(8, false, false, 8, 0.0004);  // eager plain: 20000 tok/s
    }
    for (int i = 0; i < DraftGuard::kWarm; ++i) g.Observe(8, false, true, 8, 0.0002);  // replayed: 40000 tok/s
    for (int i = 0; i < DraftGuard::kWarm; ++i) {
      EXPECT_TRUE(g.Allow(8));
      EXPECT_TRUE(g.trial());
      g.Observe(8, true, false, 15, drafted_eager_s);
    }
    if (drafted_eager_s > 0.0004) {
      EXPECT_FALSE(g.Allow(8));  // ahead of eager plain steps, behind replayed ones
      continue;
    }
    // A win on eager steps only: kConfirm more drafted steps stay trials, then recorded.
    for (int i = 0; i < DraftGuard::kConfirm; ++i) {
      EXPECT_TRUE(g.Allow(8));
      EXPECT_TRUE(g.trial()) << i;
      g.Observe(8, true, false, 15, drafted_eager_s);
    }
    EXPECT_TRUE(g.Allow(8));
    EXPECT_FALSE(g.trial());
    for (int i = 0; i < DraftGuard::kWarm; ++i) g.Observe(8, true, true, 15, 0.0002);  // replayed: 75000 tok/s
    EXPECT_TRUE(g.Allow(8));
    // Replayed drafted steps that fall below replayed plain ones suspend drafting,
    // whatever the eager figures say.
    for (int i = 0; i < 8; ++i) g.Observe(8, true, true, 9, 0.0003);  // 30000 tok/s
    EXPECT_FALSE(g.Allow(8));
  }
}

}  // namespace
}  // namespace ax
